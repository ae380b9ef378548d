#!/usr/bin/env python3
"""PyTorch CPU side of `rnnode bench train`: nn.LSTM/GRU/RNN + Linear, MSE, clip_grad_norm_, Adam, float64.

Same shapes, same thread count, same work per batch as the Swift path (forward, backward, clipping by global
norm 1, one Adam step on one fixed random batch). Prints training sequences per second. Optional; not in CI.
"""
import argparse
import os
import resource
import sys
import time


def _threads_from_argv() -> str:
    """The --threads value, read before torch loads: OpenBLAS sizes its thread pool at load time."""
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "1"


# torch.set_num_threads does not reach a BLAS that PyTorch links as a plain library (Debian's build uses the
# system OpenBLAS): pin its pool and OpenMP's to the same count as rnnode's, or "1 thread" would use all cores.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = _threads_from_argv()

import torch  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="lstm")
    p.add_argument("--input", type=int, default=3)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--output", type=int, default=1)
    p.add_argument("--seq", type=int, default=32)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--iterations", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    dtype = torch.float64
    recurrent = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[a.cell]
    model = torch.nn.ModuleDict({
        "recurrent": recurrent(a.input, a.hidden, num_layers=a.layers),  # time-major (T, B, I), tanh for RNN
        "readout": torch.nn.Linear(a.hidden, a.output),
    }).to(dtype)
    parameters = list(model.parameters())
    optimizer = torch.optim.Adam(parameters, lr=1e-3)
    x = torch.rand(a.seq, a.batch, a.input, dtype=dtype) * 2 - 1
    y = torch.rand(a.seq, a.batch, a.output, dtype=dtype) * 2 - 1

    def step() -> float:
        optimizer.zero_grad(set_to_none=True)
        hidden, _ = model["recurrent"](x)
        loss = torch.nn.functional.mse_loss(model["readout"](hidden), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    total, best = 0.0, float("inf")
    for _ in range(a.iterations):
        start = time.perf_counter()
        step()
        seconds = time.perf_counter() - start
        total += seconds
        best = min(best, seconds)
    mean = total / a.iterations
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch {torch.__version__} bench train: {a.cell}, input {a.input}, hidden {a.hidden}, layers {a.layers}, "
          f"output {a.output}, seq {a.seq}, batch {a.batch}, threads {torch.get_num_threads()}, float64")
    print(f"  training:  {a.batch / mean:.1f} sequences/s  ({mean * 1e3:.3f} ms per batch mean, {best * 1e3:.3f} ms best, "
          f"{a.iterations} batches)")
    print(f"  memory:    peak RSS {rss:.1f} MiB")


if __name__ == "__main__":
    main()
