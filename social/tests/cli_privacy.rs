//! `gnunet-social --privacy` as a process: the effective privacy knobs of the configuration
//! named by `-c` (the file the services read), each with where its value comes from, as text
//! and as `--json`; a bad knob value fails with the option named. No service is involved.

use std::path::Path;
use std::process::{Command, Output};

use gnunet_service::config::Config;
use gnunet_service::privacy::{Knob, Knobs, Level};

fn privacy(config: &Path, json: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gnunet-social"));
    cmd.arg("-c").arg(config).arg("--privacy");
    if json {
        cmd.arg("--json");
    }
    cmd.output().expect("the binary runs")
}

fn conf(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write config");
    path
}

#[test]
fn the_knobs_of_each_level_and_an_override_are_shown() {
    let dir = tempfile::tempdir().expect("temp dir");
    for level in Level::ALL {
        let path = conf(
            dir.path(),
            "level.conf",
            &format!("[secushare]\nPRIVACY = {level}\nREPLAY_CACHE = YES\n"),
        );
        let expected = Knobs::from_config(&Config::load(Some(&path)).expect("config")).unwrap();
        assert_eq!(expected.level, level);

        let o = privacy(&path, false);
        assert!(o.status.success(), "{o:?}");
        let text = String::from_utf8_lossy(&o.stdout);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(format!("PRIVACY\t{level}").as_str()));
        let shown: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
        assert_eq!(shown.len(), Knob::ALL.len(), "{text}");
        for ((knob, value, _), line) in expected.entries().iter().zip(&shown) {
            let from = if *knob == Knob::ReplayCache {
                "option"
            } else {
                "level"
            };
            assert_eq!(line, &vec![knob.option(), value.as_str(), from], "{text}");
        }
        // The table itself: the level's row, REPLAY_CACHE overridden to YES.
        let table = Knobs::for_level(level);
        let row = |k: Knob| shown.iter().find(|l| l[0] == k.option()).unwrap()[1];
        assert_eq!(row(Knob::Padding), table.padding.to_string());
        assert_eq!(
            row(Knob::PrivateNyms),
            if table.private_nyms { "YES" } else { "NO" }
        );
        assert_eq!(row(Knob::ReplayCache), "YES");

        let o = privacy(&path, true);
        assert!(o.status.success(), "{o:?}");
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
        assert_eq!(v["event"], "privacy");
        assert_eq!(v["level"], level.name());
        let knobs = v["knobs"].as_array().expect("knobs");
        assert_eq!(knobs.len(), Knob::ALL.len());
        let replay = knobs
            .iter()
            .find(|k| k["knob"] == "REPLAY_CACHE")
            .expect("REPLAY_CACHE");
        assert_eq!(
            (&replay["value"], &replay["from"]),
            (&"YES".into(), &"option".into())
        );
        let nyms = knobs.iter().find(|k| k["knob"] == "PRIVATE_NYMS").unwrap();
        assert_eq!(nyms["from"], "level");
    }
}

#[test]
fn without_a_level_it_is_balanced_and_a_bad_value_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let o = privacy(&conf(dir.path(), "empty.conf", "[PATHS]\n"), false);
    assert!(o.status.success(), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("PRIVACY\tbalanced\n"));
    let o = privacy(
        &conf(dir.path(), "bad.conf", "[secushare]\nPADDING = zeros\n"),
        false,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("PADDING"),
        "{o:?}"
    );
}
