set terminal svg size 900,740 dynamic enhanced font 'Helvetica,12' background rgb 'white'
set output 'lorenz-esn-seed1-trajectory.svg'
set datafile separator ','
set grid
set key outside right top
set multiplot layout 3,1 title 'lorenz: GSL reference vs esn (first test trajectory)' noenhanced
set ylabel 'x' noenhanced
unset xlabel
plot 'lorenz-esn-seed1-trajectory.csv' using 1:2 skip 1 with lines lw 2 lc rgb '#1f77b4' title 'GSL', '' using 1:5 skip 1 with lines lw 1.5 dt 2 lc rgb '#d62728' title 'esn'
set ylabel 'y' noenhanced
unset xlabel
plot 'lorenz-esn-seed1-trajectory.csv' using 1:3 skip 1 with lines lw 2 lc rgb '#1f77b4' title 'GSL', '' using 1:6 skip 1 with lines lw 1.5 dt 2 lc rgb '#d62728' title 'esn'
set ylabel 'z' noenhanced
set xlabel 't'
plot 'lorenz-esn-seed1-trajectory.csv' using 1:4 skip 1 with lines lw 2 lc rgb '#1f77b4' title 'GSL', '' using 1:7 skip 1 with lines lw 1.5 dt 2 lc rgb '#d62728' title 'esn'
unset multiplot
