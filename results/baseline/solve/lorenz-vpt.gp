# lorenz: normalised error E(t). Written by `rnnode compare`; edit and rerun `gnuplot lorenz-error.gp` in this folder.
set terminal svg size 900,480 dynamic enhanced font "sans,11" background "white"
set output 'lorenz-error.svg'
set datafile separator ","
set logscale y
set format y "10^{%L}"
set xlabel "t"
set ylabel "E(t)"
set key outside right
set grid
set title 'lorenz: normalised error E(t) of each model (first test trajectory)' noenhanced
plot '../runs/solve-lorenz-rnn-s1/lorenz-rnn-seed1-trajectory.csv' every ::1 using 1:8 with lines lw 1.5 title 'rnn' noenhanced, \
     '../runs/solve-lorenz-lstm-s1/lorenz-lstm-seed1-trajectory.csv' every ::1 using 1:8 with lines lw 1.5 title 'lstm' noenhanced, \
     '../runs/solve-lorenz-gru-s1/lorenz-gru-seed1-trajectory.csv' every ::1 using 1:8 with lines lw 1.5 title 'gru' noenhanced, \
     '../runs/solve-lorenz-esn-s1/lorenz-esn-seed1-trajectory.csv' every ::1 using 1:8 with lines lw 1.5 title 'esn' noenhanced, \
     '../runs/solve-lorenz-ngrc-s1/lorenz-ngrc-seed1-trajectory.csv' every ::1 using 1:8 with lines lw 1.5 title 'ngrc' noenhanced, \
     '../runs/solve-lorenz-linear-s1/lorenz-linear-seed1-trajectory.csv' every ::1 using 1:8 with lines lw 1.5 title 'linear' noenhanced
