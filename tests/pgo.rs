//! The rustc wrapper (`tools/rustc-wrapper`): a release build of regle's
//! own crate gets the committed profile, when the compiler is the one
//! that made it; every other build is passed through untouched.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A stand-in for rustc: `-vV` prints `version`, anything else prints
/// its arguments, one a line.
fn fake_rustc(name: &str, version: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("regle-pgo-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let path = dir.join("rustc");
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = -vV ]; then\ncat <<'VERSION'\n{version}\nVERSION\nexit 0\nfi\nfor a in \"$@\"; do echo \"$a\"; done\n"
    );
    std::fs::write(&path, script).expect("the fake rustc written");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .expect("the fake rustc made executable");
    path
}

/// The arguments the wrapper gives rustc for `args`.
fn passed(rustc: &Path, args: &[&str]) -> Vec<String> {
    let out = Command::new(root().join("tools/rustc-wrapper"))
        .arg(rustc)
        .args(args)
        .output()
        .expect("the wrapper runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

const RELEASE: &[&str] = &["--crate-name", "regle", "src/lib.rs", "-C", "opt-level=3"];

#[test]
fn a_release_build_of_regle_gets_the_profile_its_compiler_made() {
    let made_by = std::fs::read_to_string(root().join("pgo/rustc.txt")).expect("pgo/rustc.txt");
    let same = fake_rustc("same", made_by.trim_end());
    let args = passed(&same, RELEASE);
    let profile = format!(
        "-Cprofile-use={}",
        root().join("pgo/regle.profdata").display()
    );
    assert_eq!(args[..RELEASE.len()], *RELEASE);
    assert!(args.contains(&profile), "{args:?}");
    assert!(
        root().join("pgo/regle.profdata").is_file(),
        "the profile the wrapper names is there"
    );
    clean(&same);
}

#[test]
fn other_builds_and_other_compilers_are_passed_through() {
    let made_by = std::fs::read_to_string(root().join("pgo/rustc.txt")).expect("pgo/rustc.txt");
    let same = fake_rustc("through", made_by.trim_end());
    let cases: &[&[&str]] = &[
        // A test or lint build: not optimised.
        &["--crate-name", "regle", "src/lib.rs", "-C", "debuginfo=2"],
        // A dependency.
        &["--crate-name", "rayon", "src/lib.rs", "-C", "opt-level=3"],
        // The instrumented build that makes the profile.
        &[
            "--crate-name",
            "regle",
            "src/lib.rs",
            "-C",
            "opt-level=3",
            "-Cprofile-generate=/tmp/raw",
        ],
    ];
    for args in cases {
        assert_eq!(passed(&same, args), *args, "{args:?}");
    }
    let other = fake_rustc("other", "rustc 0.0.0 (another compiler)");
    assert_eq!(passed(&other, RELEASE), *RELEASE);
    clean(&same);
    clean(&other);
}

/// Remove a fake rustc's scratch directory.
fn clean(rustc: &Path) {
    if let Some(dir) = rustc.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}
