#!/usr/bin/env python3
"""Peer for `rnnode solve --model esn`: reservoirpy's ESN trained on the same data files, with the same
normalisation, target (next normalised increment), warm-up, rollout and metrics; rows appended to
OUT/errors.csv with model `reservoirpy-esn`.

    python bench/peers/reservoirpy_solve.py results/data/lorenz-<key> --out results --window 16

Needs numpy and reservoirpy (pip install reservoirpy, in a virtual environment outside the repository).
Optional: not part of the tests."""
import argparse
import time

import threads  # noqa: F401  (before numpy: thread counts from --threads)

import numpy as np
from reservoirpy.mat_gen import uniform
from reservoirpy.nodes import Reservoir, Ridge

import common


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", help="a data folder written by rnnode solve: DIR/data/<problem>-<key>")
    p.add_argument("--out", default="results")
    p.add_argument("--window", type=int, default=16, help="warm-up states k, as rnnode's --window")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--units", type=int, default=1000)
    p.add_argument("--sr", type=float, default=0.9)
    p.add_argument("--lr", type=float, default=1.0)
    p.add_argument("--input-scaling", type=float, default=0.3)
    p.add_argument("--connectivity", type=float, default=0.02)
    p.add_argument("--bias", type=float, default=0.6, help="bias uniform in ±bias, as rnnode's bias scaling")
    p.add_argument("--ridge", type=float, default=1e-10)
    p.add_argument("--readout", default="pathak", choices=common.READOUTS,
                   help="features the readout sees besides [1; u], as rnnode's --readout: x; x with every even "
                        "unit squared (Pathak 2018); or x and x*x (default pathak)")
    p.add_argument("--washout", type=int, default=100)
    p.add_argument("--eval-start", type=int, default=100,
                   help="s: warm up on the first s reference states and score from there, as rnnode's --eval-start (≥ --window)")
    p.add_argument("--horizon-steps", type=int, default=None, help="last evaluated output index (default: all)")
    p.add_argument("--threads", type=int, default=1, help="OMP/OPENBLAS/MKL_NUM_THREADS, set before numpy loads (default 1)")
    a = p.parse_args()
    if a.eval_start < a.window:
        p.error(f"--window {a.window} exceeds --eval-start {a.eval_start}: every model is warmed up on the same first states; raise --eval-start")

    meta, splits = common.load_or_exit(a.data)
    common.check_evaluation(meta, a.eval_start, a.horizon_steps)
    if all(len(t) - 1 <= a.washout for t in splits["train"]):
        common.fail(f"--washout {a.washout}: every training trajectory has at most that many steps; lower it")
    norm = common.Normalization(splits["train"], meta.get("periods"), meta.get("forcingPeriod"))
    # Same construction as rnnode's: W uniform in ±1 with the given density, rescaled to the spectral radius;
    # W_in dense uniform in ±input_scaling; bias uniform in ±bias (reservoirpy's defaults differ: sparse
    # Bernoulli inputs and no bias, which cannot break Lorenz's symmetry).
    reservoir = Reservoir(a.units, sr=a.sr, lr=a.lr, input_scaling=a.input_scaling, rc_connectivity=a.connectivity,
                          input_connectivity=1.0, W=uniform(low=-1, high=1), Win=uniform(low=-1, high=1),
                          bias=uniform(low=-a.bias, high=a.bias), seed=a.seed)
    readout = Ridge(ridge=a.ridge)

    started = time.perf_counter()
    features, targets = [], []
    for trajectory in splits["train"]:
        if reservoir.initialized:
            reservoir.reset()
        u = norm.z(trajectory[:-1], meta["times"][:len(trajectory) - 1])
        x = reservoir.run(u)
        features.append(np.hstack([u, common.readout_features(x, a.readout)])[a.washout:])
        targets.append(norm.g(trajectory)[a.washout:])
    readout.fit(np.concatenate(features), np.concatenate(targets))
    train_seconds = time.perf_counter() - started

    def reset():
        if reservoir.initialized:
            reservoir.reset()

    def advance(z):
        x = reservoir.step(z)
        return readout.step(np.concatenate([z, common.readout_features(x, a.readout)], axis=-1))

    per, seconds = common.evaluate(meta, splits, norm, a.eval_start, reset, advance, a.horizon_steps)
    parameters = (1 + len(meta["variables"]) + a.units * (2 if a.readout == "quadratic" else 1)) * len(meta["variables"])
    rows = common.rows_for(per, common.largest_exponent(meta, a.data), train_seconds, seconds, parameters)
    common.append_rows(a.out, meta["problem"], "reservoirpy-esn", a.seed, rows)
    for name, value, unit in rows:
        if not name.endswith(("_q25", "_q75")):
            print(f"{name:22s} {value:12.5g} {unit}")


if __name__ == "__main__":
    main()
