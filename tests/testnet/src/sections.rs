//! Config sections added to every peer: ARM service sections for our binaries and plain
//! companion sections (e.g. `[psycstore-sqlite]`), plus reading them from `conf/*.conf`.

use std::path::{Path, PathBuf};

use crate::binaries::try_service_binary;
use crate::TestnetError;

/// A plain config section: name and ordered `KEY = value` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSection {
    /// Section name, without brackets.
    pub name: String,
    /// Entries in file order.
    pub entries: Vec<(String, String)>,
}

impl ConfigSection {
    /// Renders the section as GNUnet config text.
    pub fn to_config_text(&self) -> String {
        let mut text = format!("[{}]\n", self.name);
        for (k, v) in &self.entries {
            text.push_str(&format!("{k} = {v}\n"));
        }
        text
    }

    /// Value of `key` (case-insensitive, as GNUnet compares keys), if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// An ARM service section: `[name]` with `BINARY = binary` and further options.
///
/// ARM treats every section with a BINARY key as a service (spec §2.1); an absolute BINARY is
/// executed as is (§2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSection {
    /// Section (service) name, e.g. `psycstore`.
    pub name: String,
    /// Absolute path of the executable.
    pub binary: PathBuf,
    /// Other keys in order (a BINARY entry here is ignored in favour of `binary`).
    pub options: Vec<(String, String)>,
}

impl ServiceSection {
    /// A section with only `BINARY`.
    pub fn new(name: impl Into<String>, binary: impl Into<PathBuf>) -> Self {
        ServiceSection {
            name: name.into(),
            binary: binary.into(),
            options: Vec::new(),
        }
    }

    /// The usual system-service section: started on demand through a UNIX socket
    /// `$GNUNET_RUNTIME_DIR/gnunet-service-NAME.sock` (spec §2.7).
    pub fn on_demand(name: impl Into<String>, binary: impl Into<PathBuf>) -> Self {
        let section = ServiceSection::new(name, binary);
        let unixpath = format!("$GNUNET_RUNTIME_DIR/gnunet-service-{}.sock", section.name);
        section
            .option("START_ON_DEMAND", "YES")
            .option("IMMEDIATE_START", "NO")
            .option("UNIXPATH", unixpath)
            .option("UNIX_MATCH_UID", "YES")
            .option("UNIX_MATCH_GID", "YES")
    }

    /// Sets `key` to `value`, replacing an earlier entry with the same key.
    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        let value = value.into();
        match self
            .options
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(&key))
        {
            Some(entry) => entry.1 = value,
            None => self.options.push((key, value)),
        }
        self
    }

    /// Value of `key` among the options (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Renders the section as GNUnet config text.
    pub fn to_config_text(&self) -> String {
        let mut text = format!("[{}]\nBINARY = {}\n", self.name, self.binary.display());
        for (k, v) in &self.options {
            if !k.eq_ignore_ascii_case("BINARY") {
                text.push_str(&format!("{k} = {v}\n"));
            }
        }
        text
    }
}

/// A `conf/NAME.conf` file made ready for a test peer: its one service section with BINARY
/// made absolute, and the other sections of the file unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConf {
    /// The section that has a BINARY key.
    pub service: ServiceSection,
    /// All other sections (e.g. `[psycstore-sqlite]`).
    pub companions: Vec<ConfigSection>,
}

impl ServiceConf {
    /// Reads `path`, takes its only section with a BINARY key as the service and sets its
    /// BINARY to `binary`.
    pub fn from_file(path: &Path, binary: impl Into<PathBuf>) -> Result<ServiceConf, TestnetError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| TestnetError::io(format!("read {}", path.display()), e))?;
        let sections = parse_config(&text, path)?;
        let (services, companions): (Vec<_>, Vec<_>) = sections
            .into_iter()
            .partition(|s| s.get("BINARY").is_some());
        let mut services = services.into_iter();
        let (Some(service), None) = (services.next(), services.next()) else {
            return Err(TestnetError::ConfParse {
                path: path.to_owned(),
                line: 0,
                reason: "expected exactly one section with a BINARY key".into(),
            });
        };
        Ok(ServiceConf {
            service: ServiceSection {
                name: service.name,
                binary: binary.into(),
                options: service
                    .entries
                    .into_iter()
                    .filter(|(k, _)| !k.eq_ignore_ascii_case("BINARY"))
                    .collect(),
            },
            companions,
        })
    }

    /// Reads `conf/NAME.conf` of this repository and points BINARY at the workspace binary it
    /// names (found by [`crate::try_service_binary`]).
    pub fn workspace(name: &str) -> Result<ServiceConf, TestnetError> {
        let path = repo_conf_file(name);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| TestnetError::io(format!("read {}", path.display()), e))?;
        let binary_name = parse_config(&text, &path)?
            .iter()
            .find_map(|s| s.get("BINARY").map(str::to_owned))
            .ok_or_else(|| TestnetError::ConfParse {
                path: path.clone(),
                line: 0,
                reason: "no BINARY key".into(),
            })?;
        ServiceConf::from_file(&path, try_service_binary(&binary_name)?)
    }

    /// Renders the service section followed by its companions.
    pub fn to_config_text(&self) -> String {
        let mut text = self.service.to_config_text();
        for c in &self.companions {
            text.push('\n');
            text.push_str(&c.to_config_text());
        }
        text
    }
}

/// Path of `conf/NAME.conf` in this repository (the ARM sections shipped with the services).
pub fn repo_conf_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../conf")
        .join(format!("{name}.conf"))
}

/// Parses GNUnet config text into sections (comments `#`/`%` and blank lines skipped).
/// Directives such as `@INLINE@` are refused: the harness writes plain sections only.
pub fn parse_config(text: &str, path: &Path) -> Result<Vec<ConfigSection>, TestnetError> {
    let mut sections: Vec<ConfigSection> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let err = |reason: &str| TestnetError::ConfParse {
            path: path.to_owned(),
            line: index + 1,
            reason: reason.to_owned(),
        };
        if line.is_empty() || line.starts_with('#') || line.starts_with('%') {
            continue;
        }
        if line.starts_with('@') {
            return Err(err("directives are not supported"));
        }
        if let Some(name) = line.strip_prefix('[') {
            let name = name
                .strip_suffix(']')
                .ok_or_else(|| err("unterminated section"))?;
            sections.push(ConfigSection {
                name: name.trim().to_owned(),
                entries: Vec::new(),
            });
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| err("expected KEY = value"))?;
        let section = sections
            .last_mut()
            .ok_or_else(|| err("entry before the first section"))?;
        section
            .entries
            .push((key.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_entries_and_skips_comments() {
        let text = "# c\n[a]\nX = 1\n% d\n\n[b-c]\nY=two words \nZ = $P/x;\n";
        let s = parse_config(text, Path::new("t.conf")).expect("parses");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, "a");
        assert_eq!(s[0].get("x"), Some("1"));
        assert_eq!(s[1].name, "b-c");
        assert_eq!(s[1].get("Y"), Some("two words"));
        assert_eq!(s[1].get("Z"), Some("$P/x;"));
    }

    #[test]
    fn rejects_malformed_lines() {
        for bad in ["X = 1\n", "[a\n", "[a]\nnovalue\n", "[a]\n@INLINE@ x\n"] {
            assert!(parse_config(bad, Path::new("t")).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn service_section_renders_binary_first_and_replaces_options() {
        let s = ServiceSection::on_demand("multicast", "/x/gnunet-service-multicast")
            .option("options", "-L DEBUG")
            .option("OPTIONS", "-L INFO")
            .option("BINARY", "ignored");
        let text = s.to_config_text();
        assert!(text.starts_with("[multicast]\nBINARY = /x/gnunet-service-multicast\n"));
        assert!(text.contains("UNIXPATH = $GNUNET_RUNTIME_DIR/gnunet-service-multicast.sock\n"));
        assert!(text.contains("options = -L INFO\n"));
        assert!(!text.contains("ignored"));
    }

    #[test]
    fn psycstore_conf_splits_into_service_and_companion() {
        let conf = ServiceConf::from_file(&repo_conf_file("psycstore"), "/abs/psycstore")
            .expect("conf/psycstore.conf");
        assert_eq!(conf.service.name, "psycstore");
        assert_eq!(conf.service.binary, Path::new("/abs/psycstore"));
        assert_eq!(conf.service.get("DATABASE"), Some("sqlite"));
        assert_eq!(conf.companions.len(), 1);
        assert_eq!(conf.companions[0].name, "psycstore-sqlite");
        let text = conf.to_config_text();
        assert!(text.contains("BINARY = /abs/psycstore\n"));
        assert!(!text.contains("BINARY = gnunet-service-psycstore"));
    }
}
