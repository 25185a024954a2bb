#!/bin/sh
# Make the profile that release builds are optimised with (see
# `tools/rustc-wrapper` and the README, How fast): build regle
# instrumented, run it on a generated batch (seed 1, not the benchmark's
# seed 7), on the shipped example and on `regle check`, and merge what it
# recorded into `pgo/regle.profdata`, with the compiler that made it in
# `pgo/rustc.txt`. Run it again after changing the evaluator, the facts
# readers or the report writers, and commit both files.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
    rustup component add llvm-tools
fi

python3 benches/gen_corpus.py "$work/corpus" 5000 1 >/dev/null
RUSTFLAGS="-Cprofile-generate=$work/raw" CARGO_TARGET_DIR=target/pgo \
    cargo build --release --quiet
bin=target/pgo/release/regle
# What the build's own scripts and macros recorded is not regle's.
rm -rf "$work/raw"

# Exit 1 says some candidacy is rejected or incomplete: expected here.
run() {
    status=0
    "$@" >/dev/null 2>"$work/stderr" || status=$?
    if [ "$status" -gt 1 ]; then
        cat "$work/stderr" >&2
        echo "pgo: \`$*\` failed (exit $status): no profile written" >&2
        exit 1
    fi
}
run "$bin" eval policies/segur-v2 "$work/corpus/candidacies.ndjson" \
    --registry "$work/corpus/registry.json" --as-of 2026-05-20 --format ndjson --jobs 1
run "$bin" eval policies/segur-v2 examples/segur-v2/candidacy.yaml \
    --registry examples/segur-v2/registry.yaml --as-of 2026-05-20
run "$bin" check policies/segur-v2

mkdir -p pgo
"$profdata" merge -o pgo/regle.profdata "$work"/raw/*.profraw
rustc -vV >pgo/rustc.txt
echo "pgo: wrote pgo/regle.profdata ($(wc -c <pgo/regle.profdata) bytes) for $(head -1 pgo/rustc.txt)"
