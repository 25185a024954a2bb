#!/usr/bin/env bash
# Run every cargo-fuzz target of fuzz/ for a while, one after the other.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60, all targets)
#
# Builds the targets (release, with debug assertions, so integer overflow
# panics), copies fuzz/seeds/<target>/ into fuzz/corpus/<target>/ (ignored by
# git), runs each target with -max_total_time=SECONDS -rss_limit_mb=2048
# -timeout=10, and prints per target the executions and the result. A
# crashing, hanging or out-of-memory input is copied into
# fuzz/regressions/<target>/ with the panic message and location beside it.
# The summary table is appended to docs/fuzzing.md (FUZZ_NO_RECORD=1: only
# print it). Exit status: 0 when every target ran clean, 1 otherwise.
#
# Toolchain: cargo-fuzz needs nightly (`-Z sanitizer=...`). The script uses
# `cargo +nightly` when a nightly toolchain is installed, and otherwise the
# default toolchain with RUSTC_BOOTSTRAP=1 (what libfuzzer-sys needs works on
# stable that way). Install cargo-fuzz with `cargo install cargo-fuzz`.
set -u

secs=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
all_targets=(policy_parse policy_check facts_json facts_yaml facts_ndjson facts_typed version_order diag_json)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
case $secs in ''|*[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/fuzz"
cd "$fuzz" || exit 2

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz" >&2
    exit 2
fi
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    cargo=(cargo +nightly)
    toolchain="nightly ($(rustup run nightly rustc --version))"
else
    export RUSTC_BOOTSTRAP=1
    cargo=(cargo)
    toolchain="RUSTC_BOOTSTRAP=1 $(rustc --version)"
fi

echo "== building (${toolchain})"
if ! "${cargo[@]}" fuzz build --debug-assertions; then
    echo "build failed" >&2
    exit 2
fi

dict_for() {
    case $1 in
        policy_*) echo "-dict=$fuzz/dict/regle.dict" ;;
        facts_json|facts_ndjson) echo "-dict=$fuzz/dict/json.dict" ;;
        facts_yaml|facts_typed) echo "-dict=$fuzz/dict/yaml.dict" ;;
    esac
}

date_utc=$(date -u +%Y-%m-%d)
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')
cores=$(nproc 2>/dev/null || echo '?')
mem=$(awk '/^MemTotal/ {printf "%d GB RAM", $2 / 1048576}' /proc/meminfo 2>/dev/null)
strict=""
[ "${REGLE_FUZZ_STRICT:-1}" = 0 ] && strict="; REGLE_FUZZ_STRICT=0 (control characters in snippets not checked)"
rows=()
status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t" logs
    if [ -d "seeds/$t" ]; then cp -n "seeds/$t"/* "corpus/$t"/ 2>/dev/null; fi
    log="logs/$t.log"
    before=$(ls "artifacts/$t" | wc -l)
    echo "== $t: ${secs}s"
    # shellcheck disable=SC2046
    RUST_BACKTRACE=1 timeout $(( secs + 600 )) "${cargo[@]}" fuzz run --debug-assertions "$t" "corpus/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$fuzz/artifacts/$t/" $(dict_for "$t") >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    corpus=$(ls "corpus/$t" | wc -l)
    if [ $rc -eq 0 ]; then
        result="no crash"
    else
        status=1
        if grep -q 'ERROR: libFuzzer: timeout' "$log"; then result="TIMEOUT"
        elif grep -q 'out-of-memory' "$log"; then result="OUT OF MEMORY"
        elif [ $rc -eq 124 ]; then result="HANG (killed by timeout)"
        else result="CRASH"; fi
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        if [ -n "$artifact" ] && [ -f "$artifact" ]; then
            mkdir -p "regressions/$t"
            name=$(basename "$artifact")
            cp "$artifact" "regressions/$t/$name"
            {
                echo "target: $t"
                echo "result: $result"
                echo "found: $date_utc, after ${execs:-?} executions"
                echo
                # The panic message, then the backtrace down to the fuzz target.
                awk '/panicked at/ {p=1} p && /^stack backtrace:/ {exit} p' "$log"
                awk '/^stack backtrace:/ {p=1} p {print} p && /rust_fuzzer_test_input/ {exit}' "$log"
                # A timeout or out-of-memory report instead of a panic.
                grep -E -A12 'ERROR: libFuzzer: (timeout|out-of-memory)' "$log" | head -30 || true
            } >"regressions/$t/$name.txt"
            result="$result: fuzz/regressions/$t/$name"
            echo "   $(grep -m1 -A1 'panicked at' "$log" | tr '\n' ' ')"
        fi
    fi
    echo "   executions: ${execs:-?} (${rate:-?}/s), peak RSS: ${rss:-?} MB, corpus: $corpus, result: $result (log: fuzz/$log)"
    rows+=("| $t | $secs | ${execs:-?} | ${rate:-?} | ${rss:-?} | $corpus | $result |")
done

table=$(
    echo
    echo "### Run of $date_utc, ${secs}s per target"
    echo
    echo "Machine: ${cores} cores (${cpu:-unknown CPU}), ${mem:-unknown RAM}; ${toolchain}; targets run one after the other${strict}."
    echo
    echo "| target | seconds | executions | exec/s | peak RSS (MB) | corpus files | result |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    printf '%s\n' "${rows[@]}"
)
echo "$table"
if [ "${FUZZ_NO_RECORD:-0}" != 1 ]; then
    echo "$table" >>"$root/docs/fuzzing.md"
    echo "(appended to docs/fuzzing.md)"
fi
exit $status
