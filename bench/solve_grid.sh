#!/bin/sh
# Every catalog problem × model through `rnnode solve` with default settings, into DIR (default results/),
# then the README tables: sh bench/solve_grid.sh [DIR]
set -e
out=${1:-results}
bin=${RNNODE:-.build/release/rnnode}
mkdir -p "$out"
for m in esn linear lstm gru rnn; do
  for f in problems/*.toml; do
    p=$(basename "$f" .toml)
    echo "== $p $m"
    "$bin" solve "$p" --model "$m" --out "$out" > "$out/$p-$m.log" 2>&1 || echo "   failed: see $out/$p-$m.log"
  done
done
python3 bench/solve_table.py "$out/errors.csv"
