#!/usr/bin/env bash
# Side by side: `rnnode bench train` and bench/torch_lstm.py at the same shapes and threads, alternating runs.
# Usage: bench/compare_torch.sh [rounds] [threads] [python]   (build first: swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; threads=${2:-1}; python=${3:-python3}
for shape in "--hidden 64 --seq 32 --batch 64" "--hidden 128 --seq 64 --batch 128"; do
  for cell in lstm gru rnn; do
    for r in $(seq "$rounds"); do
      # shellcheck disable=SC2086
      swift=$(.build/release/rnnode bench train --cell $cell --input 3 $shape --threads "$threads" --iterations 20 --peak-size 0 \
              | awk '/training:/ {print $2}')
      # shellcheck disable=SC2086
      torch=$("$python" bench/torch_lstm.py --cell $cell --input 3 $shape --threads "$threads" --iterations 20 \
              | awk '/training:/ {print $2}')
      echo "$cell $shape threads $threads round $r: swift $swift seq/s, torch $torch seq/s, ratio $(echo "$swift / $torch" | bc -l | cut -c1-5)"
    done
  done
done
