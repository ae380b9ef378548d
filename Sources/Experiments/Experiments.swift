// Experiments: datasets, training runs, rollouts, metrics, CSV and plot output.
// The glue between problem files (Problems), GSL ground truth (Reference) and the networks (Recurrent).
