# E(t) of every model against GSL on the first Lorenz-63 test trajectory (data: rnnode solve lorenz --model M).
# Run from a directory holding the trajectory CSVs of those five runs (results/ after them).
set terminal svg size 900,500 dynamic enhanced font 'Helvetica,12' background rgb 'white'
set output 'lorenz-vpt.svg'
set datafile separator ','
set grid
set key outside right top
set title 'Lorenz-63, first held-out test trajectory: normalised error E(t) against GSL' noenhanced
set logscale y
set format y '10^{%L}'
set yrange [1e-6:10]
set xlabel 't (1 Lyapunov time = 1.10)'
set ylabel 'E(t)'
plot 'lorenz-esn-trajectory.csv' using 1:($8 > 0 ? $8 : 1/0) skip 1 with lines lw 2 lc rgb '#2ca02c' title 'esn', \
     'lorenz-lstm-trajectory.csv' using 1:($8 > 0 ? $8 : 1/0) skip 1 with lines lw 2 lc rgb '#d62728' title 'lstm', \
     'lorenz-gru-trajectory.csv' using 1:($8 > 0 ? $8 : 1/0) skip 1 with lines lw 1.5 lc rgb '#9467bd' title 'gru', \
     'lorenz-rnn-trajectory.csv' using 1:($8 > 0 ? $8 : 1/0) skip 1 with lines lw 1.5 lc rgb '#ff7f0e' title 'rnn', \
     'lorenz-linear-trajectory.csv' using 1:($8 > 0 ? $8 : 1/0) skip 1 with lines lw 1.5 lc rgb '#7f7f7f' title 'linear', \
     0.4 with lines dt 2 lc rgb 'black' title 'VPT threshold 0.4'
