//! `cargo bench`: how fast regle evaluates the Ségur policy on generated
//! corpora (`benches/gen_corpus.py`, seed 7). Prints, for this machine:
//! policy load + check time; evaluation throughput (candidacies per second,
//! JSON in, NDJSON reports out) on one thread and on every core, and on one
//! thread computing each document afresh (`--no-memo`);
//! per-candidacy latency p50/p99; the whole binary's throughput (start-up
//! included) on one thread and on every core, and its peak memory streaming
//! 100,000 candidacies. Set `REGLE_BENCH_N` to change the corpus size
//! (default 20,000). Needs python3 for the generator.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark fails loudly

use regle::batch::{self, Context, DocStream, Format};
use regle::eval::Memo;
use regle::facts::tree::Limits;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "../tests/support/corpus.rs"]
mod corpus;

// The binary's allocator, so that the figures are the binary's.
#[global_allocator]
static GLOBAL: regle::alloc::Allocator = regle::alloc::Allocator;

fn corpus(n: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("regle-bench-{n}-7"));
    if !dir.join("candidacies.ndjson").exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let ok = Command::new("python3")
            .args(["benches/gen_corpus.py"])
            .arg(&dir)
            .args([n.to_string(), "7".to_string()])
            .status()
            .expect("python3 runs the corpus generator");
        assert!(ok.success(), "gen_corpus.py failed");
    }
    dir
}

/// The binary `bin` evaluating the corpus in `dir` as the platform does
/// (`--jobs 0`: every core), its output thrown away.
fn eval_command(bin: &Path, dir: &Path, jobs: &str) -> Command {
    let mut c = Command::new(bin);
    c.args(corpus::eval_args(dir, jobs))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    c
}

/// The binary `cargo build --release` makes, built apart in
/// `target/bench-release`: `cargo bench` builds the crate's own binary with
/// the bench profile, which unwinds on a panic (its harness needs it) where
/// the release profile aborts, and puts it where the release binary goes.
/// That build ran the 20,000 in 1.14 times the release binary's time.
fn release_binary() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = root.join("target/bench-release");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let built = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--quiet",
            "--bin",
            "regle",
            "--target-dir",
        ])
        .arg(&target)
        .status()
        .ok()?
        .success();
    built.then(|| target.join("release/regle"))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::var("REGLE_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let policy_path = Path::new("policies/segur-v2");
    println!(
        "machine: {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    // Policy load + check (parse, check, tables read and indexed).
    let mut loads = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let checked =
            regle::check::load_policy(policy_path).unwrap_or_else(|_| panic!("the policy checks"));
        loads.push(t.elapsed());
        drop(checked);
    }
    println!(
        "policy load + check: median {:.1} ms over 20 runs",
        median(loads).as_secs_f64() * 1e3
    );

    let policy = regle::check::load_policy(policy_path)
        .unwrap_or_else(|_| panic!("the policy checks"))
        .policy;
    let dir = corpus(n);
    let limits = Limits::default();
    let registry_path = dir.join("registry.json");
    let src = batch::read_source(&registry_path).unwrap();
    let tree = batch::parse_file(&src, batch::Kind::Json, &limits).unwrap();
    let registry = regle::facts::typed::read_document(&policy, &tree, &src, true)
        .unwrap_or_else(|_| panic!("registry"));
    let indexes = regle::eval::index_registry(&policy, &registry);
    drop(tree);
    let registry_doc = regle::facts::Reparsed::new(src, false, limits);
    let mut cx = Context {
        policy: &policy,
        registry: &registry,
        registry_doc: Some(&registry_doc),
        registry_indexes: &indexes,
        as_of: regle::ir::value::date::parse("2026-05-20").unwrap(),
        format: Format::Ndjson,
        color: false,
        color_errors: false,
        memo: None,
    };
    let facts = [dir.join("candidacies.ndjson")];

    // Throughput, one thread then every core: read, evaluate, render. Each
    // run remembers definitions afresh, as a run of the binary does; one
    // without (`--no-memo`) for comparison. On a pool, as the binary runs
    // (`--jobs 1` is a pool of one thread: on the bench's main thread, the
    // allocator's heap is the one loading left behind, and runs slower).
    let pool = |threads: usize| {
        Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .stack_size(regle::eval::STACK_SIZE)
                .build()
                .unwrap(),
        )
    };
    for (label, pool, memo) in [
        ("1 thread", pool(1), true),
        ("1 thread, --no-memo", pool(1), false),
        ("all cores", pool(0), true),
    ] {
        let threads = pool
            .as_ref()
            .map_or(1, rayon::ThreadPool::current_num_threads);
        let mut runs = Vec::new();
        for _ in 0..3 {
            cx.memo = memo.then(|| Memo::new(threads));
            let mut stream = DocStream::new(&facts, limits);
            let mut count = 0u64;
            let mut bytes = 0usize;
            let t = Instant::now();
            batch::run(&cx, &mut stream, pool.as_ref(), |r, _| {
                count += 1;
                bytes += r.stdout.len();
            });
            runs.push(t.elapsed());
            assert_eq!(count as usize, n);
            std::hint::black_box(bytes);
        }
        let m = median(runs);
        println!(
            "throughput ({label}): {:.0} candidacies/s ({n} in {:.2} s, median of 3)",
            n as f64 / m.as_secs_f64(),
            m.as_secs_f64()
        );
    }

    // Latency per candidacy, one thread, in one pass as a run makes it.
    cx.memo = Some(Memo::new(1));
    let mut lat = Vec::with_capacity(n);
    pool(1).unwrap().install(|| {
        for doc in DocStream::new(&facts, limits) {
            let t = Instant::now();
            std::hint::black_box(batch::evaluate_doc(&cx, doc));
            lat.push(t.elapsed());
        }
    });
    lat.sort();
    let pct =
        |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)].as_secs_f64() * 1e6;
    println!(
        "latency per candidacy: p50 {:.0} µs, p99 {:.0} µs",
        pct(0.50),
        pct(0.99)
    );

    let Some(bin) = release_binary() else {
        println!("(the release binary did not build: no whole-process figures)");
        return;
    };

    // The whole process, as the platform runs it: start-up (policy,
    // registry) included, reports written to a pipe.
    for (label, jobs) in [("--jobs 1", "1"), ("all cores", "0")] {
        let mut runs = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let status = eval_command(&bin, &dir, jobs).status().unwrap();
            runs.push(t.elapsed());
            // 1: some candidacies rejected, as the corpus has them.
            assert!(matches!(status.code(), Some(0 | 1)), "the binary ran");
        }
        let m = median(runs);
        println!(
            "whole process ({label}): {:.0} candidacies/s ({n} in {:.2} s, median of 3)",
            n as f64 / m.as_secs_f64(),
            m.as_secs_f64()
        );
    }

    // Peak memory of the binary streaming 100,000 candidacies.
    let big = corpus(100_000);
    {
        let mut child = eval_command(&bin, &big, "0").spawn().unwrap();
        let status = format!("/proc/{}/status", child.id());
        let mut peak_kb = 0u64;
        let t = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if let Ok(text) = std::fs::read_to_string(&status) {
                if let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:")) {
                    peak_kb = peak_kb.max(
                        line.split_whitespace()
                            .nth(1)
                            .and_then(|x| x.parse().ok())
                            .unwrap_or(0),
                    );
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        println!(
            "100,000 candidacies streamed by the binary: peak RSS {:.0} MB, {:.1} s",
            peak_kb as f64 / 1024.0,
            t.elapsed().as_secs_f64()
        );
    }
}
