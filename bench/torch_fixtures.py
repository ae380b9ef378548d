#!/usr/bin/env python3
"""Forward-step fixtures from PyTorch for Tests/RecurrentTests/CellForwardTests.swift (run once, output committed).

    python3 -m venv /tmp/venv-torch
    /tmp/venv-torch/bin/pip install --no-deps "torch==2.13.0+cpu" typing_extensions numpy
    /tmp/venv-torch/bin/python bench/torch_fixtures.py [--out Tests/RecurrentTests/Fixtures]

For each of nn.RNN (tanh), nn.LSTM and nn.GRU (one layer, float64, CPU): fixed uniform random weights, a fixed
input sequence (steps, batch, input), and two runs — from zero states and from given random states — stepped one
step at a time through the module so that every step's h (and the LSTM's c) is recorded. Writes
{rnn,lstm,gru}-forward.json with PyTorch's own parameter layout and gate order (LSTM i, f, g, o; GRU r, z, n with
n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))); the Swift test converts them to rnnode's layout. The test reads only
the JSON, so neither PyTorch nor Python is needed to run it.
"""
import argparse
import json
import os

import torch

INPUT, HIDDEN, BATCH, STEPS = 2, 3, 2, 5


def tensor_list(t):
    return t.detach().tolist()


def dump(kind, seed, out):
    torch.manual_seed(seed)
    modules = {"rnn": lambda: torch.nn.RNN(INPUT, HIDDEN, nonlinearity="tanh"),
               "lstm": lambda: torch.nn.LSTM(INPUT, HIDDEN),
               "gru": lambda: torch.nn.GRU(INPUT, HIDDEN)}
    module = modules[kind]().double()
    with torch.no_grad():
        # wider than PyTorch's default ±1/√H so that gates are far from constant and a mix-up shows
        for p in module.parameters():
            p.uniform_(-1, 1)
    x = torch.empty(STEPS, BATCH, INPUT, dtype=torch.float64).uniform_(-1, 1)
    given_h = torch.empty(1, BATCH, HIDDEN, dtype=torch.float64).uniform_(-0.5, 0.5)
    given_c = torch.empty(1, BATCH, HIDDEN, dtype=torch.float64).uniform_(-1, 1)
    runs = []
    for name, h0, c0 in [("zero", torch.zeros_like(given_h), torch.zeros_like(given_c)), ("given", given_h, given_c)]:
        h, c = h0, c0
        hidden, cell = [], []
        with torch.no_grad():
            for t in range(STEPS):
                if kind == "lstm":
                    _, (h, c) = module(x[t:t + 1], (h, c))
                    cell.append(tensor_list(c[0]))
                else:
                    _, h = module(x[t:t + 1], h)
                hidden.append(tensor_list(h[0]))
        run = {"name": name, "h0": tensor_list(h0[0]), "hidden": hidden}
        if kind == "lstm":
            run["c0"] = tensor_list(c0[0])
            run["cell"] = cell
        runs.append(run)
    fixture = {
        "cell": kind,
        "generator": f"bench/torch_fixtures.py, torch {torch.__version__}, seed {seed}",
        "gateOrder": {"rnn": ["h"], "lstm": ["i", "f", "g", "o"], "gru": ["r", "z", "n"]}[kind],
        "inputSize": INPUT, "hiddenSize": HIDDEN, "batch": BATCH, "steps": STEPS,
        "weight_ih": tensor_list(module.weight_ih_l0), "weight_hh": tensor_list(module.weight_hh_l0),
        "bias_ih": tensor_list(module.bias_ih_l0), "bias_hh": tensor_list(module.bias_hh_l0),
        "input": tensor_list(x), "runs": runs,
    }
    path = os.path.join(out, f"{kind}-forward.json")
    with open(path, "w") as f:
        # one key per line; Python writes the shortest decimal that round-trips each double
        f.write("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in fixture.items()) + "\n}\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "RecurrentTests", "Fixtures"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    for seed, kind in enumerate(["rnn", "lstm", "gru"], start=1):
        dump(kind, seed, os.path.normpath(args.out))


if __name__ == "__main__":
    main()
