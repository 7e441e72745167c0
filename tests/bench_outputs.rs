//! Before/after equality on the benchmark configurations: the complete output (standard
//! output, standard error, exit status) of `validate` and `list`, as text and as JSON, is
//! compared byte for byte with the outputs recorded in `tests/fixtures/bench/`, which were
//! captured with the binary from before the configuration loader became one typed pass
//! (issue 11). The configurations come from `bench/gen_config.py` (deterministic), at a size
//! that keeps the recorded outputs small: the two benchmark profiles, one damaged by
//! `--faults` so that `validate` has many findings of many kinds, and the shipped example.
//!
//! Re-recording (only when an output is meant to change):
//! `PVENOTIFY_UPDATE_FIXTURES=1 cargo test --test bench_outputs`; with
//! `PVENOTIFY_FIXTURE_BIN=PATH` the outputs come from another pvenotify binary.

mod fixture;

use std::path::{Path, PathBuf};
use std::process::Command;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// (name, gen_config.py arguments; `None` = the shipped example).
const CASES: &[(&str, Option<&[&str]>)] = &[
    (
        "full-200",
        Some(&["--profile", "full", "--matchers", "200", "--targets", "40"]),
    ),
    (
        "compact-300",
        Some(&[
            "--profile",
            "compact",
            "--matchers",
            "300",
            "--targets",
            "30",
        ]),
    ),
    (
        "faults-200",
        Some(&[
            "--profile",
            "full",
            "--matchers",
            "200",
            "--targets",
            "40",
            "--faults",
            "80",
        ]),
    ),
    ("example", None),
];

/// (file name of the record, arguments after `--config-dir DIR`).
const COMMANDS: &[(&str, &[&str])] = &[
    ("validate.text", &["validate"]),
    (
        "validate.json",
        &["--output-format", "json-pretty", "validate"],
    ),
    ("list.text", &["list"]),
    ("list.json", &["--output-format", "json-pretty", "list"]),
];

/// The configuration of one case in a fresh directory, with the private file at 0600 as
/// PVE keeps it (git does not record that mode).
fn config(name: &str, generator: Option<&[&str]>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    match generator {
        Some(args) => {
            let script = Path::new(MANIFEST_DIR).join("bench/gen_config.py");
            let status = Command::new("python3")
                .arg(&script)
                .args(args)
                .arg("--out")
                .arg(dir.path())
                .status()
                .unwrap_or_else(|e| panic!("{name}: python3 {}: {e}", script.display()));
            assert!(status.success(), "{name}: gen_config.py failed");
        }
        None => {
            let example = Path::new(MANIFEST_DIR).join("examples/pve");
            for file in [
                "notifications.cfg",
                "priv/notifications.cfg",
                "user.cfg",
                "datacenter.cfg",
            ] {
                let to = dir.path().join(file);
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::fs::copy(example.join(file), &to).unwrap();
            }
        }
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.path().join("priv/notifications.cfg"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    dir
}

/// One command's complete output, with the scratch directory shown as `$DIR`.
fn record(dir: &Path, args: &[&str]) -> String {
    let mut cmd = fixture::pvenotify();
    if let Some(bin) = std::env::var_os("PVENOTIFY_FIXTURE_BIN") {
        cmd = assert_cmd::Command::new(bin);
        cmd.env_clear()
            .env("TZ", "UTC")
            .arg("--hostname")
            .arg("pve1");
    }
    let out = cmd
        .arg("--config-dir")
        .arg(dir)
        .args(["--sendmail", "/bin/true"])
        .args(args)
        .output()
        .expect("run pvenotify");
    let text = format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        out.status
            .code()
            .map_or("signal".to_string(), |c| c.to_string()),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    text.replace(dir.to_str().expect("UTF-8 temp path"), "$DIR")
}

fn expected_path(case: &str, command: &str) -> PathBuf {
    Path::new(MANIFEST_DIR)
        .join("tests/fixtures/bench")
        .join(case)
        .join(command)
}

#[test]
fn validate_and_list_give_the_recorded_outputs() {
    let update = std::env::var_os("PVENOTIFY_UPDATE_FIXTURES").is_some();
    let mut differences = Vec::new();
    for (case, generator) in CASES {
        let dir = config(case, *generator);
        for (command, args) in COMMANDS {
            let actual = record(dir.path(), args);
            let path = expected_path(case, command);
            if update {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &actual).unwrap();
                continue;
            }
            let expected = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if actual != expected {
                let line = actual
                    .lines()
                    .zip(expected.lines())
                    .position(|(a, e)| a != e)
                    .map_or_else(
                        || "lengths differ".to_string(),
                        |n| {
                            format!(
                                "line {}: got {:?}, recorded {:?}",
                                n + 1,
                                actual.lines().nth(n).unwrap_or_default(),
                                expected.lines().nth(n).unwrap_or_default()
                            )
                        },
                    );
                differences.push(format!("{case}/{command}: {line}"));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "outputs differ from tests/fixtures/bench:\n{}",
        differences.join("\n")
    );
}
