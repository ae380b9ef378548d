#!/usr/bin/env bash
# Benchmark: `rnnode reference lorenz` (Swift, problem file, expression evaluator, GSL through the Swift bridge)
# against bench/gsl_lorenz.c (plain C, hand-written right-hand side, same GSL calls). Lorenz-63, rk8pd,
# rtol = atol = 1e-10, t from 0 to 1000, output every 0.01; both write their CSV to a file under bench/out/.
# The two programs run alternately, REPS times each (default 7); prints each time, the medians and the ratio.
#
# usage: bench/reference.sh [REPS]        (from the repository root or anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-${REPS:-7}}
OUT=bench/out
mkdir -p "$OUT"

echo "== building"
cc -O2 -o "$OUT/gsl_lorenz" bench/gsl_lorenz.c -lgsl -lgslcblas -lm
swift build -c release --product rnnode 2>&1 | tail -1
RNNODE="$(swift build -c release --show-bin-path)/rnnode"

c_run()     { "$OUT/gsl_lorenz" "$OUT/lorenz-c.csv" 1000 2>"$OUT/c.log"; }
swift_run() { "$RNNODE" reference lorenz --method rk8pd --rtol 1e-10 --atol 1e-10 --t-end 1000 --step 0.01 \
                --out "$OUT/lorenz-swift.csv" 2>"$OUT/swift.log"; }
now()       { date +%s.%N; }

# One untimed run of each: warms the page cache and checks that both succeed.
c_run; swift_run
echo "== C:     $(cat "$OUT/c.log")"
echo "== Swift: $(head -1 "$OUT/swift.log")"
rows_c=$(wc -l <"$OUT/lorenz-c.csv"); rows_swift=$(wc -l <"$OUT/lorenz-swift.csv")
echo "== rows: C $rows_c, Swift $rows_swift"
# Same trajectory? Largest |difference| over t ≤ 20 (chaos amplifies round-off differences later on).
awk -F, 'NR == FNR { if (FNR > 1) for (i = 2; i <= 4; i++) c[FNR, i] = $i; next }
         FNR > 1 && $1 <= 20 { for (i = 2; i <= 4; i++) { d = $i - c[FNR, i]; if (d < 0) d = -d; if (d > m) m = d } }
         END { printf "== max |Swift - C| for t <= 20: %.3g\n", m }' "$OUT/lorenz-c.csv" "$OUT/lorenz-swift.csv"

if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs "$REPS" -N \
        "$OUT/gsl_lorenz $OUT/lorenz-c.csv 1000" \
        "$RNNODE reference lorenz --method rk8pd --rtol 1e-10 --atol 1e-10 --t-end 1000 --step 0.01 --out $OUT/lorenz-swift.csv"
fi

echo "== $REPS alternating repetitions (wall seconds)"
: >"$OUT/times-c"; : >"$OUT/times-swift"
for ((i = 1; i <= REPS; i++)); do
    t0=$(now); c_run;     t1=$(now); swift_run; t2=$(now)
    c=$(echo "$t1 - $t0" | bc -l); s=$(echo "$t2 - $t1" | bc -l)
    echo "$c" >>"$OUT/times-c"; echo "$s" >>"$OUT/times-swift"
    printf "  %2d  C %.3f  Swift %.3f\n" "$i" "$c" "$s"
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mc=$(median "$OUT/times-c"); ms=$(median "$OUT/times-swift")
printf "== median C %.3f s, Swift %.3f s, ratio Swift/C %.2f (target <= 1.25)\n" "$mc" "$ms" "$(echo "$ms / $mc" | bc -l)"
