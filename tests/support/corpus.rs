//! The measure on a generated corpus (`benches/gen_corpus.py`),
//! shared by the batch test and the benchmark.

use std::ffi::OsString;
use std::path::Path;

/// `regle` arguments evaluating the corpus in `dir` with the Ségur policy,
/// JSON in and NDJSON out, on `jobs` threads (`0`: one per core).
pub fn eval_args(dir: &Path, jobs: &str) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["eval".into(), "policies/segur-v2".into()];
    args.push(dir.join("candidacies.ndjson").into());
    args.push("--registry".into());
    args.push(dir.join("registry.json").into());
    for a in [
        "--as-of",
        "2026-05-20",
        "--format",
        "ndjson",
        "--jobs",
        jobs,
    ] {
        args.push(a.into());
    }
    args
}
