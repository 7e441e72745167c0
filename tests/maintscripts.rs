//! The package's maintainer scripts (debian/postinst, debian/postrm) against a matrix of
//! `/root/.forward` files, through tests/maintscripts.sh in a scratch root: nothing on the
//! machine is touched.

use std::process::Command;

#[test]
fn maintainer_scripts_keep_root_forward_intact() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/maintscripts.sh");
    let out = Command::new("bash")
        .arg(script)
        .env_remove("PVENOTIFY_TEST_ROOT")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{script} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
