#!/usr/bin/env python3
"""Peer for `rnnode solve --model rnn|lstm|gru`: PyTorch's nn.RNN / nn.LSTM / nn.GRU (+ nn.Linear readout)
trained on the same data files with the same formulation: sequences of k + m normalised states, target the next
normalised increment, loss (MSE) from step k-1 on, Adam with cosine decay, gradient clipping 1; the same warm-up,
rollout and metrics. Rows appended to OUT/errors.csv with model `torch-lstm` (or torch-rnn, torch-gru).

    python bench/peers/torch_solve.py results/data/lorenz-<key> --out results --cell lstm --window 16

--epochs E trains E epochs with the cosine decay over the epochs (as before; no validation). --budget SECONDS
trains until SECONDS of wall-clock time are spent instead: the learning rate follows the cosine of the elapsed
fraction of the budget, lr(t) = lr_min + (lr - lr_min)(1 + cos(pi t/T))/2 with lr_min = lr/50, set before every
mini-batch; after every epoch (and when the budget ends inside one) the teacher-forced loss on the validation
sequences is measured, and the weights with the lowest validation loss are the ones evaluated. train_seconds is the
whole training, validation passes included. --noise σ adds fresh Gaussian noise (z-units, seeded by --seed) to the
inputs of every training sequence each time it is drawn, targets unchanged, as `rnnode solve --noise` does for its
networks (fresh each epoch).

Needs numpy and torch (pip install torch, in a virtual environment outside the repository). Optional: not part
of the tests."""
import argparse
import copy
import math
import time

import threads  # noqa: F401  (before numpy and torch: thread counts from --threads)

import numpy as np
import torch

import common


class Stepper(torch.nn.Module):
    def __init__(self, cell, inputs, d, hidden, layers):
        super().__init__()
        kind = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
        self.rnn = kind(inputs, hidden, layers, batch_first=True)
        self.readout = torch.nn.Linear(hidden, d)

    def forward(self, x, state=None):
        h, state = self.rnn(x, state)
        return self.readout(h), state


def sequences(trajectories, norm, k, m, times):
    inputs, targets = [], []
    for t in trajectories:
        z, g = norm.z(t, times[:len(t)]), norm.g(t)
        start = 0
        while start + k + m - 1 <= len(t) - 2:
            inputs.append(z[start:start + k + m])
            targets.append(g[start:start + k + m])
            start += m
    return torch.tensor(np.array(inputs)), torch.tensor(np.array(targets))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", help="a data folder written by rnnode solve: DIR/data/<problem>-<key>")
    p.add_argument("--out", default="results")
    p.add_argument("--cell", default="lstm", choices=["rnn", "lstm", "gru"])
    p.add_argument("--window", type=int, default=16)
    p.add_argument("--sequence-steps", type=int, default=16)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--epochs", type=int, default=30, help="epochs when no --budget is given")
    p.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                   help="train for this many wall-clock seconds (cosine schedule over the budget, best validation weights kept)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--learning-rate", type=float, default=1e-2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--noise", type=float, default=0.0,
                   help="σ of fresh Gaussian noise on the training inputs, z-units (default 0)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch.set_num_threads and OMP/OPENBLAS/MKL_NUM_THREADS (set before torch loads; default 1)")
    p.add_argument("--eval-start", type=int, default=100,
                   help="s: warm up on the first s reference states and score from there, as rnnode's --eval-start (≥ --window)")
    p.add_argument("--horizon-steps", type=int, default=None)
    a = p.parse_args()
    if a.eval_start < a.window:
        p.error(f"--window {a.window} exceeds --eval-start {a.eval_start}: every model is warmed up on the same first states; raise --eval-start")
    if not (a.noise >= 0 and math.isfinite(a.noise)):
        p.error(f"--noise {a.noise}: must be a finite number ≥ 0")
    if a.budget is not None and not (a.budget > 0 and math.isfinite(a.budget)):
        p.error(f"--budget {a.budget}: must be a positive number of seconds")
    for name in ("window", "sequence_steps", "hidden", "layers", "epochs", "batch_size", "threads"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} {getattr(a, name)}: must be at least 1")

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    torch.set_default_dtype(torch.float64)
    meta, splits = common.load_or_exit(a.data)
    common.check_evaluation(meta, a.eval_start, a.horizon_steps)
    norm = common.Normalization(splits["train"], meta.get("periods"), meta.get("forcingPeriod"))
    d, k = len(meta["variables"]), a.window
    model = Stepper(a.cell, norm.inputs, d, a.hidden, a.layers)
    x, y = sequences(splits["train"], norm, k, a.sequence_steps, meta["times"])
    if len(x) == 0:
        common.fail(f"{a.data}: the training trajectories are shorter than --window {k} + --sequence-steps "
                    f"{a.sequence_steps} + 1 states; lower them")
    optimizer = torch.optim.Adam(model.parameters(), lr=a.learning_rate)
    generator = torch.Generator().manual_seed(a.seed)
    noise_generator = torch.Generator().manual_seed(a.seed + 1)
    minimum_rate = a.learning_rate * 0.02

    def train_batch(batch):
        inputs = x[batch]
        if a.noise > 0:
            inputs = inputs + a.noise * torch.randn(inputs.shape, generator=noise_generator, dtype=inputs.dtype)
        prediction, _ = model(inputs)
        loss = torch.mean((prediction[:, k - 1:] - y[batch][:, k - 1:]) ** 2)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    started = time.perf_counter()
    epochs = 0
    if a.budget is None:
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, a.epochs, eta_min=minimum_rate)
        for epoch in range(a.epochs):
            for batch in torch.randperm(len(x), generator=generator).split(a.batch_size):
                train_batch(batch)
            schedule.step()
        epochs = a.epochs
    else:
        vx, vy = sequences(splits["validation"], norm, k, a.sequence_steps, meta["times"])

        @torch.no_grad()
        def validation_loss():
            if len(vx) == 0:
                return None
            prediction, _ = model(vx)
            return float(torch.mean((prediction[:, k - 1:] - vy[:, k - 1:]) ** 2))

        best_loss, best_weights = math.inf, None

        def keep_if_best():
            nonlocal best_loss, best_weights
            loss = validation_loss()
            if loss is None or best_weights is None or loss < best_loss:
                best_loss = math.inf if loss is None else loss
                best_weights = copy.deepcopy(model.state_dict())

        spent = False
        while not spent:
            for batch in torch.randperm(len(x), generator=generator).split(a.batch_size):
                elapsed = time.perf_counter() - started
                if elapsed >= a.budget:
                    spent = True
                    break
                rate = minimum_rate + (a.learning_rate - minimum_rate) * (1 + math.cos(math.pi * elapsed / a.budget)) / 2
                for group in optimizer.param_groups:
                    group["lr"] = rate
                train_batch(batch)
            else:
                epochs += 1
            keep_if_best()
        model.load_state_dict(best_weights)
        print(f"budget {a.budget:g} s: {epochs} whole epochs, best validation loss {best_loss:.4g}")
    train_seconds = time.perf_counter() - started

    state = {"h": None}

    def reset():
        state["h"] = None

    @torch.no_grad()
    def advance(z):
        out, state["h"] = model(torch.tensor(z).view(1, 1, norm.inputs), state["h"])
        return out.view(d).numpy()

    per, seconds = common.evaluate(meta, splits, norm, a.eval_start, reset, advance, a.horizon_steps)
    parameters = sum(p.numel() for p in model.parameters())
    rows = common.rows_for(per, common.largest_exponent(meta, a.data), train_seconds, seconds, parameters)
    common.append_rows(a.out, meta["problem"], f"torch-{a.cell}", a.seed, rows)
    for name, value, unit in rows:
        if not name.endswith(("_q25", "_q75")):
            print(f"{name:22s} {value:12.5g} {unit}")


if __name__ == "__main__":
    main()
