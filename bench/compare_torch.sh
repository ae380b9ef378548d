#!/usr/bin/env bash
# Side by side, in one alternating run: `rnnode bench train` (data parallel, at each thread count) and
# bench/torch_lstm.py (torch.set_num_threads, at each thread count) at the same shapes. Prints every pair of runs,
# then per shape and cell the best batch time of each program at each thread count over the rounds, rnnode's
# speed-up from 1 thread to the most, and rnnode at its best thread count over PyTorch at its best.
# Usage: bench/compare_torch.sh [rounds] [thread counts, comma-separated] [python] [cells]   (swift build -c release first)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; threads=${2:-1,2}; python=${3:-python3}; cells=${4:-lstm gru rnn}
log=$(mktemp); trap 'rm -f "$log"' EXIT
echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) on $(nproc) cores"
for shape in "--hidden 64 --seq 32 --batch 64 --iterations 30" "--hidden 128 --seq 64 --batch 128 --iterations 10"; do
  for cell in $cells; do
    for r in $(seq "$rounds"); do
      # shellcheck disable=SC2086
      .build/release/rnnode bench train --cell $cell --input 3 $shape --threads "$threads" --peak-size 0 \
        | awk -v key="$cell $shape" -v r="$r" '/^  threads [0-9]+: training:/ {sub(":", "", $2); print "rnnode", $2, r, $4, $11, key}' >> "$log"
      for n in ${threads//,/ }; do
        # shellcheck disable=SC2086
        "$python" bench/torch_lstm.py --cell $cell --input 3 $shape --threads "$n" \
          | awk -v key="$cell $shape" -v r="$r" -v n="$n" '/training:/ {print "torch", n, r, $2, $9, key}' >> "$log"
      done
      grep " $r [^ ]* [^ ]* $cell $shape\$" "$log" | awk '{printf "  round %s %s threads %s: %s seq/s mean, %s ms best\n", $3, $1, $2, $4, $5}'
    done
    # best batch time per program and thread count over the rounds → sequences per second
    grep " $cell $shape\$" "$log" | awk -v key="$cell $shape" '
      { batch = $0; sub(/.*--batch /, "", batch); sub(/ .*/, "", batch)
        k = $1 " " $2; if (!(k in best) || $5 < best[k]) best[k] = $5; n[$2] = 1 }
      END {
        line = key ":"; most = 0; ours = 0; theirs = 0
        for (t in n) { r = batch * 1000 / best["rnnode " t]; p = batch * 1000 / best["torch " t]
                       line = line sprintf(" | %s thr: rnnode %.0f, torch %.0f seq/s", t, r, p)
                       if (t + 0 > most) most = t + 0; if (r > ours) ours = r; if (p > theirs) theirs = p }
        one = batch * 1000 / best["rnnode 1"]
        printf "%s | rnnode %d/1 threads %.2fx | rnnode best / torch best %.2fx\n", line, most, batch * 1000 / best["rnnode " most] / one, ours / theirs }'
  done
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) on $(nproc) cores"
