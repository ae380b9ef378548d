#!/usr/bin/env bash
# Side by side: `rnnode bench train` and bench/torch_lstm.py at the same shapes and threads, alternating runs.
# Prints both throughputs from the mean batch time and from the best batch time (less sensitive to other load),
# and their ratios. Usage: bench/compare_torch.sh [rounds] [threads] [python] [cells]   (swift build -c release first)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; threads=${2:-1}; python=${3:-python3}; cells=${4:-lstm gru rnn}
ratio() { echo "$1 / $2" | bc -l | cut -c1-4; }
for shape in "--hidden 64 --seq 32 --batch 64 --iterations 30" "--hidden 128 --seq 64 --batch 128 --iterations 10"; do
  batch=$(echo "$shape" | awk '{print $6}')
  for cell in $cells; do
    for r in $(seq "$rounds"); do
      # shellcheck disable=SC2086
      read -r swift swiftBest < <(.build/release/rnnode bench train --cell $cell --input 3 $shape --threads "$threads" --peak-size 0 \
                                  | awk '/training:/ {print $2, $9}')
      # shellcheck disable=SC2086
      read -r torch torchBest < <("$python" bench/torch_lstm.py --cell $cell --input 3 $shape --threads "$threads" \
                                  | awk '/training:/ {print $2, $9}')
      sb=$(echo "$batch * 1000 / $swiftBest" | bc -l | cut -c1-7); tb=$(echo "$batch * 1000 / $torchBest" | bc -l | cut -c1-7)
      echo "$cell $shape threads $threads round $r: mean swift $swift torch $torch seq/s ratio $(ratio "$swift" "$torch");" \
           "best swift $sb torch $tb seq/s ratio $(ratio "$sb" "$tb")"
    done
  done
done
