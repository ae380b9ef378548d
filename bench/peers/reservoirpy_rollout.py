#!/usr/bin/env python3
"""Peer for `rnnode bench rollout --model esn`: the same fitted ESN (rnnode's W in CSR form, W_in, b, W_out) on the
same test trajectories, rolled out by reservoirpy (Reservoir + Ridge, `step` per time step, as its generative
mode does), timed side by side with rnnode in one alternating run.

    python bench/peers/reservoirpy_rollout.py --rnnode .build/release/rnnode --problem lorenz --rounds 5

Each round runs `rnnode bench rollout --repetitions 1` (its data and fit are not timed) and then reservoirpy over
every test trajectory (warm-up on the first s reference states, then its own predictions fed back, as rnnode's
rollout); both count the predicted steps (s - 1 ... last) and include the warm-up in the time. The model comes
from one `--export` run, and reservoirpy's first rollout is checked against rnnode's before timing.
Needs numpy, scipy and reservoirpy (pip install reservoirpy, in a virtual environment outside the repository).
Optional: not part of the tests."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse
from reservoirpy.nodes import Reservoir, Ridge

import common


def rnnode_bench(a, export=None):
    command = [a.rnnode, "bench", "rollout", "--model", "esn", "--problem", a.problem, "--test-trajectories",
               str(a.test_trajectories), "--reservoir-size", str(a.units), "--repetitions", "1", "--threads", str(a.threads)]
    if export:
        command += ["--export", export]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    sequential = float(re.search(r"one at a time: (\S+) steps/s", out).group(1))
    batched = float(re.search(r"steps/s per trajectory, (\S+) steps/s for the batch", out).group(1))
    return out, sequential, batched


def build(model):
    """reservoirpy nodes holding rnnode's arrays: x' = (1 - a) x + a tanh(W x + W_in u + b), y = W_out [u; F(x)] + b_out
    with F rnnode's readout features (`common.readout_features`)."""
    c, arrays = model["configuration"], model["arrays"]
    n, i, o = c["size"], c["inputSize"], c["outputSize"]
    w = scipy.sparse.csr_matrix((np.array(arrays["reservoir.W.values"]),
                                 np.array(arrays["reservoir.W.columns"], dtype=np.int64),
                                 np.array(arrays["reservoir.W.row_start"], dtype=np.int64)), shape=(n, n))
    win = np.array(arrays["reservoir.W_in"]).reshape(n, i)
    reservoir = Reservoir(W=w, Win=win, bias=np.array(arrays["reservoir.b"]), lr=c["leakRate"], input_dim=i)
    features = n * (2 if c.get("readout", "linear") == "quadratic" else 1)
    wout = np.array(arrays["reservoir.W_out"]).reshape(1 + i + features, o)   # rows: 1, u, F(x)
    readout = Ridge(Wout=wout[1:], bias=wout[0], input_dim=i + features, output_dim=o)
    return reservoir, readout


def rollout_all(model, reservoir, readout):
    """Every test trajectory: warm-up on rows 0 .. s-1, then y_{n+1} = y_n + mu_d + sigma_d g_n fed back to `last`."""
    kind = model["configuration"].get("readout", "linear")
    norm = model["normalization"]
    mean, scale = np.array(norm["stateMean"]), np.array(norm["stateScale"])
    dmean, dscale = np.array(norm["incrementMean"]), np.array(norm["incrementScale"])
    s, last, d = model["warmUp"], model["last"], model["dimension"]
    results = []
    for flat in model["test"]:
        y = np.array(flat).reshape(-1, d)
        if reservoir.initialized:
            reservoir.reset()
        for n in range(s):
            z = (y[n] - mean) / scale
            g = readout.step(np.concatenate([z, common.readout_features(reservoir.step(z), kind)], axis=-1))
        current = y[s - 1].copy()
        predicted = [current]
        for r in range(1, last - s + 2):
            current = current + dmean + dscale * g
            predicted.append(current)
            if r < last - s + 1:
                z = (current - mean) / scale
                g = readout.step(np.concatenate([z, common.readout_features(reservoir.step(z), kind)], axis=-1))
        results.append(np.array(predicted))
    return results


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rnnode", default=".build/release/rnnode")
    p.add_argument("--problem", default="lorenz")
    p.add_argument("--test-trajectories", type=int, default=8)
    p.add_argument("--units", type=int, default=600)
    p.add_argument("--threads", type=int, default=1, help="rnnode's --threads (reservoirpy steps on one thread)")
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "esn.json")
        header, _, _ = rnnode_bench(a, export=path)
        with open(path) as f:
            model = json.load(f)
    print(header.strip().splitlines()[0])
    reservoir, readout = build(model)
    d, s, last = model["dimension"], model["warmUp"], model["last"]
    steps = last - s + 1
    total = len(model["test"]) * steps

    # Same model: reservoirpy's first rows against rnnode's (they part only by rounding, which the chaos then grows).
    ours = np.array(model["predicted"][0]).reshape(-1, d)
    theirs = rollout_all(model, reservoir, readout)[0]
    early = min(50, steps)
    difference = np.max(np.abs(ours[:early + 1] - theirs[:early + 1]) / np.array(model["normalization"]["stateScale"]))
    print(f"check: first {early} predicted rows of trajectory 0, largest |rnnode - reservoirpy| / scale = {difference:.3g}")
    if not difference < 1e-6:
        sys.exit("reservoirpy does not reproduce rnnode's rollout: the two models differ")

    rows = []
    for round_ in range(a.rounds):
        _, sequential, batched = rnnode_bench(a)
        started = time.perf_counter()
        rollout_all(model, reservoir, readout)
        peer = total / (time.perf_counter() - started)
        rows.append((sequential, batched, peer))
        print(f"round {round_ + 1}: rnnode one at a time {sequential:10.4g} steps/s, batched {batched:10.4g} steps/s, "
              f"reservoirpy {peer:10.4g} steps/s, batched / reservoirpy = {batched / peer:.1f}")
    median = [statistics.median(column) for column in zip(*rows)]
    print(f"median over {a.rounds} rounds ({len(model['test'])} trajectories x {steps} steps, {model['configuration']['size']} units, "
          f"rnnode threads {a.threads}): rnnode one at a time {median[0]:.4g}, batched {median[1]:.4g}, reservoirpy {median[2]:.4g} "
          f"steps/s; batched / reservoirpy = {median[1] / median[2]:.1f}, one at a time / reservoirpy = {median[0] / median[2]:.1f}")


if __name__ == "__main__":
    main()
