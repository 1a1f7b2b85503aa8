//! Behaviour of [`Config`] on text and small file trees (the oracle comparison against
//! libgnunetutil lives in `tests/config_oracle.rs`).

use super::*;
use proptest::prelude::*;
use std::fs;

fn parsed(text: &str) -> Config {
    let mut c = Config::default();
    c.parse_str(text, "<test>").expect("parses");
    c
}

#[test]
fn names_are_case_insensitive_and_keep_first_spelling() {
    let c = parsed("[Arm]\nUnixPath = /a\n[ARM]\nUNIXPATH = /b\nx = 1\n");
    assert_eq!(c.get_raw("arm", "unixpath"), Some("/b"));
    assert_eq!(c.sections(), vec!["Arm".to_owned()]);
    assert_eq!(
        c.options("ARM"),
        vec!["x".to_owned(), "UnixPath".to_owned()]
    );
    assert!(c.has_section("aRM"));
    assert!(!c.has_section("cadet"));
}

#[test]
fn listings_are_newest_first() {
    let c = parsed("[a]\nk=1\n[b]\nk=2\n[c]\n");
    // [c] has no entry and so is never created, as in GNUnet.
    assert_eq!(c.sections(), vec!["b".to_owned(), "a".to_owned()]);
}

#[test]
fn errors_carry_origin_and_line() {
    let mut c = Config::default();
    let e = c.parse_str("[a]\nk = v\nnonsense\n", "x.conf").unwrap_err();
    match e {
        ConfigError::Syntax { origin, line, kind } => {
            assert_eq!((origin.as_str(), line), ("x.conf", 3));
            assert_eq!(kind, SyntaxError::Unrecognised);
        }
        other => panic!("unexpected {other:?}"),
    }
    // Lines before the error stay applied.
    assert_eq!(c.get_raw("a", "k"), Some("v"));
    let e = Config::default().parse_str("k = v\n", "y").unwrap_err();
    assert!(matches!(
        e,
        ConfigError::Syntax {
            kind: SyntaxError::OptionWithoutSection,
            line: 1,
            ..
        }
    ));
    assert!(e.to_string().contains("y:1"));
}

#[test]
fn typed_getters() {
    let c = parsed(
        "[s]\nyes = yEs\nno = NO\nbad = maybe\nn = 12\nt = 1 m 5 s\nz = 2 MiB\nf = forever\nq = \"5 s\"\n",
    );
    assert_eq!(c.get_yesno("s", "yes").unwrap(), Some(true));
    assert_eq!(c.get_yesno("s", "no").unwrap(), Some(false));
    assert!(matches!(
        c.get_yesno("s", "bad"),
        Err(ConfigError::InvalidValue {
            expected: "YES/NO",
            ..
        })
    ));
    assert_eq!(c.get_yesno("s", "missing").unwrap(), None);
    assert_eq!(c.get_number("s", "n").unwrap(), Some(12));
    assert!(c.get_number("s", "t").is_err());
    assert_eq!(c.get_time("s", "t").unwrap(), Some(Duration::from_secs(65)));
    assert_eq!(c.get_time("s", "q").unwrap(), Some(Duration::from_secs(5)));
    assert_eq!(
        c.get_time("s", "f").unwrap(),
        Some(Duration::from_micros(u64::MAX))
    );
    assert_eq!(c.get_size("s", "z").unwrap(), Some(2 << 20));
}

#[test]
fn expansion_uses_paths_then_environment() {
    let c = parsed("[PATHS]\nBASE = /base\nRUN = $BASE/run\n[x]\nsock = $RUN/x.sock\nrel = a/b\n");
    assert_eq!(c.get_string("x", "sock").as_deref(), Some("$RUN/x.sock"));
    assert_eq!(
        c.get_filename("x", "sock"),
        Some(PathBuf::from("/base/run/x.sock"))
    );
    assert_eq!(c.expand("${NOT_SET_ANYWHERE_4711:-$BASE}/y"), "/base/y");
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(c.get_filename("x", "rel"), Some(cwd.join("a/b")));
    // PATH is always set in a test environment; [PATHS] does not have it.
    let path = std::env::var("PATH").unwrap();
    assert_eq!(c.expand("$PATH"), path);
}

#[test]
fn inline_relative_to_including_file_and_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir(d.join("sub")).unwrap();
    fs::write(
        d.join("sub/inner.conf"),
        "[a]\nk = inner\nonly = i\n@INLINE@ deeper.conf\n",
    )
    .unwrap();
    fs::write(d.join("sub/deeper.conf"), "[b]\nk = deeper\n").unwrap();
    fs::write(
        d.join("main.conf"),
        "[a]\nk = main\n@INLINE@ sub/inner.conf\n[a]\nonly = main\n",
    )
    .unwrap();
    let c = Config::from_file(&d.join("main.conf")).unwrap();
    assert_eq!(c.get_raw("a", "k"), Some("inner"));
    assert_eq!(c.get_raw("a", "only"), Some("main"));
    assert_eq!(c.get_raw("b", "k"), Some("deeper"));
}

#[test]
fn inline_cycles_and_missing_files_fail() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("a.conf"), "@INLINE@ b.conf\n").unwrap();
    fs::write(d.join("b.conf"), "@INLINE@ a.conf\n").unwrap();
    let e = Config::from_file(&d.join("a.conf")).unwrap_err();
    assert!(e.to_string().contains("cyclic"), "{e}");
    fs::write(d.join("c.conf"), "[x]\n@INLINE@ nothere.conf\n").unwrap();
    let e = Config::from_file(&d.join("c.conf")).unwrap_err();
    assert!(matches!(e, ConfigError::Inline { line: 2, .. }), "{e:?}");
    // Sequential re-inclusion is fine.
    fs::write(d.join("leaf.conf"), "[x]\nn = 1\n").unwrap();
    fs::write(
        d.join("twice.conf"),
        "@INLINE@ leaf.conf\n@INLINE@ leaf.conf\n",
    )
    .unwrap();
    assert!(Config::from_file(&d.join("twice.conf")).is_ok());
}

#[test]
fn inline_depth_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for i in 0..(MAX_INLINE_DEPTH + 5) {
        fs::write(
            d.join(format!("f{i}.conf")),
            format!("@INLINE@ f{}.conf\n", i + 1),
        )
        .unwrap();
    }
    let e = Config::from_file(&d.join("f0.conf")).unwrap_err();
    assert!(e.to_string().contains("deeper than"), "{e}");
}

#[test]
fn inline_matching_and_secret() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir(d.join("g")).unwrap();
    fs::write(d.join("g/2.conf"), "[m]\nk = two\n").unwrap();
    fs::write(d.join("g/1.conf"), "[m]\nk = one\nj = one\n").unwrap();
    fs::write(d.join("g/1.txt"), "garbage\n").unwrap();
    fs::write(d.join("secret.conf"), "[s]\npw = hunter2\n[other]\nx = 1\n").unwrap();
    fs::write(
        d.join("main.conf"),
        "@INLINE-MATCHING@ g/*.conf\n@INLINE-SECRET@ s secret.conf\n@INLINE-SECRET@ gone nothere.conf\n[gone]\nx = 1\n",
    )
    .unwrap();
    let c = Config::from_file(&d.join("main.conf")).unwrap();
    assert_eq!(c.get_raw("m", "k"), Some("two"));
    assert_eq!(c.get_raw("m", "j"), Some("one"));
    assert_eq!(c.get_raw("s", "pw"), Some("hunter2"));
    assert!(!c.has_section("other"));
    assert!(c.has_section("gone"));
    assert_eq!(c.get_raw("gone", "x"), None);
    fs::write(d.join("bad.conf"), "@INLINE-MATCHING@ g*/x.conf\n").unwrap();
    assert!(Config::from_file(&d.join("bad.conf")).is_err());
    fs::write(d.join("nested.conf"), "[s]\n@INLINE@ secret.conf\n").unwrap();
    fs::write(d.join("main2.conf"), "@INLINE-SECRET@ s nested.conf\n").unwrap();
    let e = Config::from_file(&d.join("main2.conf")).unwrap_err();
    assert!(e.to_string().contains("not allowed"), "{e}");
}

#[test]
fn parse_str_inlines_relative_to_origin() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("x.conf"), "[x]\nk = v\n").unwrap();
    let origin = dir.path().join("virtual.conf");
    let mut c = Config::default();
    c.parse_str("@INLINE@ x.conf\n", &origin.to_string_lossy())
        .unwrap();
    assert_eq!(c.get_raw("x", "k"), Some("v"));
    let e = Config::default()
        .parse_str("@INLINE@ x.conf\n", "<nowhere>")
        .unwrap_err();
    assert!(matches!(
        e,
        ConfigError::Inline {
            reason: InlineError::NoSourceFile,
            ..
        }
    ));
}

#[test]
fn load_reads_base_dir_in_order_and_stops_at_non_conf() {
    // Runs without touching the process environment: uses the loader directly.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("a.conf"), "[s]\nk = a\n").unwrap();
    fs::write(d.join("b.conf"), "[s]\nk = b\n").unwrap();
    fs::write(d.join("c.txt"), "not parsed\n").unwrap();
    fs::write(d.join("d.conf"), "[s]\nk = d\n").unwrap();
    let mut c = Config::default();
    load::load_base_dir(&mut c, &d.to_string_lossy()).unwrap();
    assert_eq!(c.get_raw("s", "k"), Some("b"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any text yields Ok or a typed error, never a panic; getters never panic either.
    #[test]
    fn any_text_is_ok_or_typed_error(text in "(\\PC|[\\[\\]=@#%$\"{}:\\-~/ \t\r\n]){0,200}") {
        let mut c = Config::default();
        let _ = c.parse_str(&text, "/nonexistent-dir/p.conf");
        for s in c.sections() {
            for o in c.options(&s) {
                let _ = c.get_filename(&s, &o);
                let _ = c.get_time(&s, &o);
                let _ = c.get_size(&s, &o);
                let _ = c.get_number(&s, &o);
                let _ = c.get_yesno(&s, &o);
            }
        }
        let _ = c.expand(&text);
    }
}
