"""Imported first by the peer scripts: sets the BLAS/OpenMP thread counts from `--threads N` (default 1) before
numpy, reservoirpy or torch load their libraries, which read OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and
MKL_NUM_THREADS once, at load time. torch's intra-op pool is set again with torch.set_num_threads by the torch peer.
OMP_WAIT_POLICY=PASSIVE (unless set): idle OpenMP threads sleep instead of spinning, without which two threads on a
busy machine wait for each other at every small operator (an LSTM batch then takes seconds instead of milliseconds)."""
import os
import sys


def requested(argv=None, default=1):
    """The value of --threads N / --threads=N in argv (the last one wins), else `default`; argparse validates it."""
    argv = sys.argv[1:] if argv is None else argv
    value = default
    for index, argument in enumerate(argv):
        if argument == "--threads" and index + 1 < len(argv):
            value = argv[index + 1]
        elif argument.startswith("--threads="):
            value = argument.split("=", 1)[1]
    try:
        return max(int(value), 1)
    except ValueError:
        return default


COUNT = requested()
for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[name] = str(COUNT)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
