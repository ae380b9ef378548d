#!/usr/bin/env bash
# Benchmark: `rnnode reference lorenz` (Swift, problem file, right-hand side compiled from the equations, GSL
# through the Swift bridge) against bench/gsl_lorenz.c (plain C, hand-written right-hand side, same GSL calls).
# Also times rnnode with RNNODE_NATIVE=0 (the interpreted expression evaluator) and C without any output. Lorenz-63, rk8pd,
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

SWIFT_ARGS=(reference lorenz --method rk8pd --rtol 1e-10 --atol 1e-10 --t-end 1000 --step 0.01)
c_run()     { "$OUT/gsl_lorenz" "$OUT/lorenz-c.csv" 1000 2>"$OUT/c.log"; }
swift_run() { "$RNNODE" "${SWIFT_ARGS[@]}" --out "$OUT/lorenz-swift.csv" 2>"$OUT/swift.log"; }
# Wall, user and system seconds of one run, appended as "wall cpu" to $1.
timed() { local log=$1; shift; /usr/bin/time -f "%e %U %S" -o "$OUT/time.tmp" "$@" 2>/dev/null;
          awk '{ printf "%s %.3f\n", $1, $2 + $3 }' "$OUT/time.tmp" >>"$log"; }

# One untimed run of each: warms the page cache and checks that both succeed.
c_run; swift_run
cmp -s "$OUT/lorenz-swift.csv" <(RNNODE_NATIVE=0 "$RNNODE" "${SWIFT_ARGS[@]}" 2>/dev/null) &&
    echo "== Swift native and interpreted CSVs are identical" || echo "== Swift native and interpreted CSVs DIFFER"
echo "== C:     $(cat "$OUT/c.log")"
echo "== Swift: $(head -1 "$OUT/swift.log")"
rows_c=$(wc -l <"$OUT/lorenz-c.csv"); rows_swift=$(wc -l <"$OUT/lorenz-swift.csv")
echo "== rows: C $rows_c, Swift $rows_swift"
# Same trajectory? Largest |difference| for t <= 20 and over all rows (chaos amplifies any round-off difference).
awk -F, 'NR == FNR { if (FNR > 1) for (i = 2; i <= 4; i++) c[FNR, i] = $i; next }
         FNR > 1 { for (i = 2; i <= 4; i++) { d = $i - c[FNR, i]; if (d < 0) d = -d; if (d > all) all = d
                                              if ($1 <= 20 && d > early) early = d } }
         END { printf "== max |Swift - C|: %.3g for t <= 20, %.3g over all rows\n", early, all }' \
    "$OUT/lorenz-c.csv" "$OUT/lorenz-swift.csv"

if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs "$REPS" -N "$OUT/gsl_lorenz $OUT/lorenz-c.csv 1000" \
        "$RNNODE ${SWIFT_ARGS[*]} --out $OUT/lorenz-swift.csv"
fi

echo "== $REPS alternating repetitions: wall and CPU (user + system) seconds"
: >"$OUT/times-c"; : >"$OUT/times-swift"; : >"$OUT/times-c-none"; : >"$OUT/times-swift-interpreted"
for ((i = 1; i <= REPS; i++)); do
    timed "$OUT/times-c" "$OUT/gsl_lorenz" "$OUT/lorenz-c.csv" 1000
    timed "$OUT/times-swift" "$RNNODE" "${SWIFT_ARGS[@]}" --out "$OUT/lorenz-swift.csv"
    timed "$OUT/times-c-none" "$OUT/gsl_lorenz" none 1000
    timed "$OUT/times-swift-interpreted" env RNNODE_NATIVE=0 "$RNNODE" "${SWIFT_ARGS[@]}" \
        --out "$OUT/lorenz-swift-interpreted.csv"
    printf "  %2d  C %s   Swift %s   C without output %s   Swift interpreted %s\n" "$i" \
        "$(tail -1 "$OUT/times-c")" "$(tail -1 "$OUT/times-swift")" "$(tail -1 "$OUT/times-c-none")" \
        "$(tail -1 "$OUT/times-swift-interpreted")"
done
median() { awk -v c="$2" '{ print $c }' "$1" | sort -g |
           awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for column in 1 2; do
    name=$([ $column = 1 ] && echo wall || echo CPU)
    mc=$(median "$OUT/times-c" $column); ms=$(median "$OUT/times-swift" $column); mn=$(median "$OUT/times-c-none" $column)
    mi=$(median "$OUT/times-swift-interpreted" $column)
    printf "== median %-4s  C %.3f s, Swift %.3f s, ratio Swift/C %.2f (target <= 1.25)\n" \
        "$name" "$mc" "$ms" "$(echo "$ms / $mc" | bc -l)"
    printf "   %-4s          C without output %.3f s; Swift interpreted %.3f s, ratio to C %.2f\n" \
        "" "$mn" "$mi" "$(echo "$mi / $mc" | bc -l)"
done
