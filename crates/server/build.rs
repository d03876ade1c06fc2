//! Names the build in `crm --version`: the commit it was built from (`unknown` outside a git
//! checkout, as from a source package), and `-modified` when the tree had changes.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let modified =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let build = if modified {
        format!("{commit}-modified")
    } else {
        commit
    };
    println!("cargo:rustc-env=CRM_BUILD={build}");
    // Built again when HEAD moves (a commit, a checkout). Only paths that exist are named:
    // cargo runs a build script whose watched path is missing on every build (a checkout
    // without packed-refs would rebuild the server each time and relink every binary).
    let mut watched = Vec::new();
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        watched.push(format!("{dir}/HEAD"));
    }
    if let Some(dir) = git(&["rev-parse", "--git-common-dir"]) {
        watched.push(format!("{dir}/refs/heads"));
        watched.push(format!("{dir}/packed-refs"));
    }
    for path in watched.iter().filter(|p| std::path::Path::new(p).exists()) {
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
