//! Every binary the package installs answers `-h` and `-v` as GNUnet's binaries do (exit 0,
//! `NAME vVERSION` on one line, a help text with GNUnet's common options) and logs in GNUnet
//! 0.19's format and levels: `-L`, `-l`, `GNUNET_FORCE_LOG` and `GNUNET_FORCE_LOGFILE`. The
//! binaries run for real; the services are given a config file that does not exist, so they
//! log one error and exit without a node.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use testnet::{build_workspace_bins, service_binary};

/// The services, by binary name and log component (the config section, as GNUnet's services).
const SERVICES: [(&str, &str); 4] = [
    ("gnunet-service-multicast", "multicast"),
    ("gnunet-service-psyc", "psyc"),
    ("gnunet-service-psycstore", "psycstore"),
    ("gnunet-service-social", "social"),
];

/// Every installed binary and the option lines its help must have.
fn binaries() -> Vec<(PathBuf, &'static str)> {
    build_workspace_bins(&["multicast", "psyc", "psycstore", "social"]);
    let mut all: Vec<(PathBuf, &str)> = SERVICES
        .iter()
        .map(|(bin, _)| (service_binary(bin), *bin))
        .collect();
    all.push((service_binary("gnunet-social"), "gnunet-social"));
    all
}

/// Runs `bin` with `args` and the given environment (on top of a clean GNUnet log env).
fn run(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env_remove("GNUNET_FORCE_LOG")
        .env_remove("GNUNET_LOG")
        .env_remove("GNUNET_FORCE_LOGFILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether `line` is GNUnet 0.19's `YYYY-MM-DDTHH:MM:SS.uuuuuu+ZZZZ COMPONENT-PID LEVEL msg`.
fn is_gnunet_line(line: &str, component: &str, level: &str) -> bool {
    let mut parts = line.splitn(4, ' ');
    let (Some(date), Some(who), Some(lvl), Some(_msg)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let date_ok = date.len() == 31
        && date.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == 'T',
            13 | 16 => c == ':',
            19 => c == '.',
            26 => c == '+' || c == '-',
            _ => c.is_ascii_digit(),
        });
    let pid_ok = who
        .strip_prefix(component)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
    date_ok && pid_ok && lvl == level
}

#[test]
fn every_binary_answers_help_and_version_as_gnunet_does() {
    for (bin, name) in binaries() {
        let v = run(&bin, &["-v"], &[]);
        assert!(v.status.success(), "{name} -v: {:?}", v.status);
        let version = text(&v.stdout);
        assert_eq!(
            version,
            format!("{name} v{} (secushare-rs)\n", env!("CARGO_PKG_VERSION")),
            "{name} -v"
        );
        assert_eq!(text(&run(&bin, &["--version"], &[]).stdout), version);
        for flag in ["-h", "--help"] {
            let h = run(&bin, &[flag], &[]);
            assert!(h.status.success(), "{name} {flag}: {:?}", h.status);
            let help = text(&h.stdout);
            assert!(help.starts_with(name), "{name} {flag}:\n{help}");
            for option in [
                "-c, --config=FILENAME",
                "-h, --help",
                "-L, --log=LOGLEVEL",
                "-l, --logfile=FILENAME",
                "-v, --version",
            ] {
                assert!(
                    help.contains(option),
                    "{name} {flag} lacks {option}:\n{help}"
                );
            }
        }
        let bad = run(&bin, &["-L", "LOUD", "-v"], &[]);
        assert!(!bad.status.success(), "{name} -L LOUD is refused");
        assert!(
            text(&bad.stderr).contains("LOUD"),
            "{name}: {}",
            text(&bad.stderr)
        );
    }
}

#[test]
fn the_demo_answers_help_and_version() {
    let demo = Path::new(env!("CARGO_BIN_EXE_secushare-demo"));
    let v = run(demo, &["-v"], &[]);
    assert!(v.status.success());
    assert_eq!(
        text(&v.stdout),
        format!(
            "secushare-demo v{} (secushare-rs)\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    let h = run(demo, &["-h"], &[]);
    assert!(h.status.success() && text(&h.stdout).contains("-v, --version"));
}

#[test]
fn services_log_in_gnunets_format_and_levels() {
    binaries();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.conf");
    let missing = missing.to_str().unwrap();
    for (bin, component) in SERVICES {
        let bin = service_binary(bin);
        // Default level: the error, on stderr, in GNUnet's format; no INFO line.
        let out = run(&bin, &["-c", missing], &[]);
        assert!(!out.status.success(), "{component} runs without its config");
        let err = text(&out.stderr);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{component}:\n{err}");
        assert!(
            is_gnunet_line(lines[0], component, "ERROR"),
            "{component}: {err}"
        );
        assert!(lines[0].contains("cannot read configuration"), "{err}");

        // -l FILE with %Y-%m-%d, -L INFO: the INFO line goes there too, stderr stays empty.
        let pattern = dir.path().join(format!("{component}-%Y-%m-%d.log"));
        let out = run(
            &bin,
            &["-c", missing, "-L", "INFO", "-l", pattern.to_str().unwrap()],
            &[],
        );
        assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
        let file = gnunet_service::logging::expand_date(
            pattern.to_str().unwrap(),
            std::time::SystemTime::now(),
        );
        let log = std::fs::read_to_string(&file).unwrap();
        let levels: Vec<&str> = log
            .lines()
            .map(|l| l.split(' ').nth(2).unwrap_or(""))
            .collect();
        assert!(
            levels.contains(&"INFO") && levels.contains(&"ERROR"),
            "{log}"
        );

        // -L NONE: nothing at all.
        let out = run(&bin, &["-c", missing, "-L", "NONE"], &[]);
        assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));

        // GNUNET_FORCE_LOG overrides -L for its component; GNUNET_FORCE_LOGFILE overrides -l.
        let forced = dir.path().join(format!("{component}-forced.log"));
        let def = format!("{component};;;;DEBUG");
        let out = run(
            &bin,
            &["-c", missing, "-L", "ERROR", "-l", "/nonexistent/x.log"],
            &[
                ("GNUNET_FORCE_LOG", def.as_str()),
                ("GNUNET_FORCE_LOGFILE", forced.to_str().unwrap()),
            ],
        );
        assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
        let log = std::fs::read_to_string(&forced).unwrap();
        assert!(
            log.lines()
                .any(|l| is_gnunet_line(l, component, "INFO") && l.contains("logging started")),
            "{log}"
        );
        // A definition for another component leaves -L ERROR in force.
        let out = run(
            &bin,
            &["-c", missing, "-L", "ERROR"],
            &[("GNUNET_FORCE_LOG", "nobody;;;;DEBUG")],
        );
        assert_eq!(
            text(&out.stderr).lines().count(),
            1,
            "{}",
            text(&out.stderr)
        );
        // GNUNET_LOG applies only without -L.
        let out = run(&bin, &["-c", missing], &[("GNUNET_LOG", ";;;;INFO")]);
        assert!(
            text(&out.stderr).contains(" INFO logging started"),
            "{}",
            text(&out.stderr)
        );
        let out = run(
            &bin,
            &["-c", missing, "-L", "ERROR"],
            &[("GNUNET_LOG", ";;;;INFO")],
        );
        assert!(
            !text(&out.stderr).contains(" INFO "),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn gnunet_social_logs_as_a_gnunet_program() {
    binaries();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("social-cli.log");
    let missing = dir.path().join("missing.conf");
    let out = run(
        &service_binary("gnunet-social"),
        &[
            "-c",
            missing.to_str().unwrap(),
            "--status",
            "-L",
            "INFO",
            "-l",
            log.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!out.status.success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.lines()
            .any(|l| is_gnunet_line(l, "gnunet-social", "INFO") && l.contains("logging started")),
        "{text}"
    );
}
