#!/usr/bin/env bash
# Runs the libFuzzer targets built under .build-fuzz (see the Makefile's fuzz targets):
#   fuzz/run.sh fuzz SECONDS      every target for SECONDS, new inputs kept in fuzz/work/<target>/corpus
#   fuzz/run.sh smoke SECONDS     every target briefly from the committed seeds only (fixed seed, scratch corpus)
#   fuzz/run.sh regressions       every file under fuzz/regressions/<target>/ once through its target
# Crashes, timeouts and out-of-memory inputs are written to fuzz/work/<target>/ (crash-*, timeout-*, oom-*).
# Exits non-zero when any target failed.
set -uo pipefail
cd "$(dirname "$0")/.."

targets=(expression problem-file matrix-file checkpoint csv)
bin=${FUZZ_BIN:-.build-fuzz/release}
# Leaks are not failures: TOMLKit and Foundation leak small blocks per file read (see README.md).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
# libFuzzer prints the stack of a crash; Swift's own backtracer would stall a crashing run for half a minute.
export SWIFT_BACKTRACE=enable=no

# Longest input per target: enough for the deepest nesting the limits must reject and for the catalog's files.
max_len() {
    case $1 in
        expression) echo 32768 ;;
        problem-file|matrix-file) echo 32768 ;;
        checkpoint) echo 16384 ;;
        csv) echo 8192 ;;
    esac
}

# Bounded memory and time per input; leaks off (see above).
limits() {
    echo -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -detect_leaks=0
}

options() {
    echo $(limits) -max_len="$(max_len "$1")" -dict=fuzz/dict/"$1".dict -print_final_stats=1 \
        -artifact_prefix=fuzz/work/"$1"/
}

# The first line of a log that says what happened: a Swift or C assertion, else the sanitizer's verdict.
reason() {
    grep -m1 -E 'Fatal error|Assertion .* failed' "$1" || grep -m1 -E '==[0-9]+== ?ERROR' "$1" || echo "see $1"
}

mode=${1:-smoke}
seconds=${2:-10}
failed=()
for target in "${targets[@]}"; do
    mkdir -p fuzz/work/"$target"/corpus
    case $mode in
        fuzz)
            echo "== fuzz-$target: $seconds s"
            # shellcheck disable=SC2046
            "$bin/fuzz-$target" $(options "$target") -max_total_time="$seconds" \
                fuzz/work/"$target"/corpus fuzz/corpus/"$target" || failed+=("$target")
            ;;
        smoke)
            echo "== fuzz-$target: $seconds s from the seed corpus"
            scratch=$(mktemp -d)
            log=fuzz/work/"$target"/smoke.log
            # shellcheck disable=SC2046
            if "$bin/fuzz-$target" $(options "$target") -seed=1 -max_total_time="$seconds" \
                    "$scratch" fuzz/corpus/"$target" > "$log" 2>&1; then
                grep -E '^Done ' "$log"
            else
                echo "FAILED fuzz-$target: $(reason "$log"); input saved as $(grep -m1 -o 'Test unit written to .*' "$log")"
                failed+=("$target")
            fi
            rm -rf "$scratch"
            ;;
        regressions)
            shopt -s nullglob
            files=(fuzz/regressions/"$target"/*)
            shopt -u nullglob
            echo "== fuzz-$target: ${#files[@]} regression input(s)"
            for file in "${files[@]}"; do
                # The whole file (no -max_len: libFuzzer would cut it), once.
                log=fuzz/work/"$target"/regression.log
                # shellcheck disable=SC2046
                if "$bin/fuzz-$target" $(limits) "$file" > "$log" 2>&1; then
                    echo "ok     $file"
                else
                    echo "FAILED $file: $(reason "$log")"
                    failed+=("$target:$(basename "$file")")
                fi
            done
            ;;
        *) echo "usage: fuzz/run.sh fuzz|smoke SECONDS, or fuzz/run.sh regressions" >&2; exit 2 ;;
    esac
done
case $mode in fuzz) label="fuzzing" ;; smoke) label="fuzz smoke run" ;; *) label="fuzz regressions" ;; esac
if ((${#failed[@]})); then
    echo "$label: failed: ${failed[*]}"
    exit 1
fi
echo "$label: every target passed"
