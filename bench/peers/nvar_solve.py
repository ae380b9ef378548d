#!/usr/bin/env python3
"""Peer for `rnnode solve --model ngrc`: reservoirpy's NVAR (next-generation reservoir computing, Gauthier et al.
2021) with a ridge readout, trained on the same data files with the same normalisation, target (the next
normalised increment), warm-up, rollout and metrics; rows appended to OUT/errors.csv with model `reservoirpy-nvar`.

Features of the normalised state z_n: the k delayed states with skip s, L_n = z_n ⊕ z_{n-s} ⊕ … ⊕ z_{n-(k-1)s}
(reservoirpy's NVAR linear part), every unique monomial of L_n of degree 2…p (reservoirpy's NVAR of order q gives
linear ⊕ degree q; one node per degree, their nonlinear parts concatenated) and a constant (the ridge's bias):

    g_n = W [1, L_n, monomials_2(L_n), …, monomials_p(L_n)],   W = argmin ||G - W Φ||² + λ||W||²

as reservoirpy's Ridge solves it (λ not scaled by the number of samples; the bias is penalised too). The first
(k-1)s rows of each training trajectory, whose delays are not all real, are left out of the fit. --noise σ adds
Gaussian noise of standard deviation σ (z-units) to the training inputs only (seeded by --seed).

    python bench/peers/nvar_solve.py results/data/lorenz-<key> --out results --delays 2 --skip 1 --degree 4

Defaults are those of rnnode's `ngrc` (k 2, s 1, degree 4, ridge 3e-8); pass them to match other settings.
Needs numpy and reservoirpy (in a virtual environment outside the repository). Optional: not part of the tests."""
import argparse
import math
import time
from math import comb

import threads  # noqa: F401  (before numpy: thread counts from --threads)

import numpy as np
from reservoirpy.nodes import NVAR, Ridge

import common


class Features:
    """reservoirpy NVAR nodes of orders 2…p (order 1 when p = 1) on the same input, read as one feature vector."""

    def __init__(self, delays, skip, degree):
        self.delays, self.skip, self.degree = delays, skip, degree
        self.nodes = []
        self.reset()

    def reset(self):
        self.nodes = [NVAR(delay=self.delays, order=q, strides=self.skip) for q in range(2, self.degree + 1)] or \
                     [NVAR(delay=self.delays, order=1, strides=self.skip)]

    def linear_size(self, d):
        return self.delays * d

    def size(self, d):
        linear = self.linear_size(d)
        return linear + sum(comb(linear + q - 1, q) for q in range(2, self.degree + 1))

    def join(self, outputs, d):
        linear = self.linear_size(d)
        if self.degree < 2:
            return outputs[0][..., :linear]
        return np.concatenate([outputs[0][..., :linear]] + [o[..., linear:] for o in outputs], axis=-1)

    def run(self, inputs):
        self.reset()
        return self.join([node.run(inputs) for node in self.nodes], inputs.shape[1])

    def step(self, z):
        return self.join([np.ravel(node.step(z)) for node in self.nodes], z.shape[0])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", help="a data folder written by rnnode solve: DIR/data/<problem>-<key>")
    p.add_argument("--out", default="results")
    p.add_argument("--delays", type=int, default=2, help="k: delayed states in the feature vector (default 2)")
    p.add_argument("--skip", type=int, default=1, help="s: steps between delayed states (default 1)")
    p.add_argument("--degree", type=int, default=4, help="p: highest monomial degree (default 4)")
    p.add_argument("--ridge", type=float, default=3e-8, help="λ of the ridge readout (default 3e-8)")
    p.add_argument("--noise", type=float, default=0.0, help="σ of Gaussian noise on the training inputs, z-units (default 0)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise; recorded in the rows")
    p.add_argument("--window", type=int, default=None,
                   help="warm-up states, as rnnode's --window (default (k-1)s+1, the states the features need)")
    p.add_argument("--eval-start", type=int, default=100,
                   help="s: warm up on the first s reference states and score from there, as rnnode's --eval-start (≥ --window)")
    p.add_argument("--horizon-steps", type=int, default=None, help="last evaluated output index (default: all)")
    p.add_argument("--threads", type=int, default=1, help="OMP/OPENBLAS/MKL_NUM_THREADS, set before numpy loads (default 1)")
    a = p.parse_args()
    for name in ("delays", "skip", "degree"):
        if getattr(a, name) < 1:
            p.error(f"--{name} {getattr(a, name)}: must be at least 1")
    if not (a.ridge >= 0 and math.isfinite(a.ridge)):
        p.error(f"--ridge {a.ridge}: must be a finite number ≥ 0")
    if not (a.noise >= 0 and math.isfinite(a.noise)):
        p.error(f"--noise {a.noise}: must be a finite number ≥ 0")
    span = (a.delays - 1) * a.skip
    window = span + 1 if a.window is None else a.window
    if window < span + 1:
        p.error(f"--window {window}: the features of k = {a.delays} delays with skip {a.skip} need {span + 1} states")
    if a.eval_start < window:
        p.error(f"--window {window} exceeds --eval-start {a.eval_start}: every model is warmed up on the same first states; raise --eval-start")

    meta, splits = common.load_or_exit(a.data)
    common.check_evaluation(meta, a.eval_start, a.horizon_steps)
    norm = common.Normalization(splits["train"], meta.get("periods"), meta.get("forcingPeriod"))
    d = len(meta["variables"])
    features = Features(a.delays, a.skip, a.degree)
    rng = np.random.default_rng(a.seed)

    started = time.perf_counter()
    inputs, targets = [], []
    for trajectory in splits["train"]:
        if len(trajectory) - 1 <= span:
            continue
        u = norm.z(trajectory[:-1], meta["times"][:len(trajectory) - 1])
        if a.noise > 0:  # on the state's inputs, not the drive's phase
            u[:, :d] = u[:, :d] + a.noise * rng.standard_normal((len(u), d))
        inputs.append(features.run(u)[span:])
        targets.append(norm.g(trajectory)[span:])
    if not inputs:
        common.fail(f"{a.data}: every training trajectory has at most (k-1)s = {span} steps; lower --delays or --skip")
    readout = Ridge(ridge=a.ridge)
    readout.fit(np.concatenate(inputs), np.concatenate(targets))
    train_seconds = time.perf_counter() - started

    def advance(z):
        return np.ravel(readout.step(features.step(z)))

    per, seconds = common.evaluate(meta, splits, norm, a.eval_start, features.reset, advance, a.horizon_steps)
    parameters = (1 + features.size(d)) * d
    rows = common.rows_for(per, common.largest_exponent(meta, a.data), train_seconds, seconds, parameters)
    common.append_rows(a.out, meta["problem"], "reservoirpy-nvar", a.seed, rows)
    for name, value, unit in rows:
        if not name.endswith(("_q25", "_q75")):
            print(f"{name:22s} {value:12.5g} {unit}")


if __name__ == "__main__":
    main()
