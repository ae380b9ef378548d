#!/usr/bin/env python3
"""The peer sweep: for every catalog problem (`rnnode problems`) and seed, `rnnode solve P --model M --seed S` makes
(or reuses) the reference data folder, then every peer runs on that folder with the same seed and evaluation start,
appending its rows to OUT/peers/errors.csv in the long format of results/README.md.

    python3 bench/peers/all_problems.py --out /tmp/peers --seeds 0-4 --budget 60 --jobs 2

Layout of OUT:
    solve/<problem>-s<seed>/   rnnode's output (data/ cache, the data model's own rows and plots)
    peers/errors.csv           the peers' rows only: the folder to give `rnnode merge` beside a comparison folder,
                               e.g. `rnnode merge results/compare-default OUT/peers --out results/compare-default`
                               (the data model's rows stay under solve/, so rows the grid already has are not
                               merged twice: merge keeps every row of a folder that holds only errors.csv)
    logs/<problem>-s<seed>-<peer>.log   each command line and its output

Resumable: a peer whose rows (problem, model, seed) are already in OUT/peers/errors.csv is skipped, so rerunning the
same command finishes an interrupted sweep; remove those rows to run one again. A failing step is reported and the
sweep goes on; the exit status is 1 when any step failed.

Peers (--peers, default all): esn (reservoirpy ESN, --window 100 as rnnode's esn), nvar (reservoirpy NVAR, the peer
of `ngrc`: --ngrc-delays/--ngrc-skip/--ngrc-degree/--ngrc-ridge, defaults rnnode's ngrc: 2, 1, 4, 3e-8), rnn, lstm,
gru (PyTorch, --window 16, trained for --budget seconds each). Threads: every peer gets --threads N (default 1),
which sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS before numpy/torch load and
torch.set_num_threads(N); with --jobs J the sweep uses J x N cores. Standard library only; the peers run under
--python (a virtual environment with numpy, reservoirpy and torch)."""
import argparse
import concurrent.futures
import csv
import json
import os
import shlex
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PEERS = {
    "esn": ("reservoirpy-esn", "reservoirpy_solve.py"),
    "nvar": ("reservoirpy-nvar", "nvar_solve.py"),
    "rnn": ("torch-rnn", "torch_solve.py"),
    "lstm": ("torch-lstm", "torch_solve.py"),
    "gru": ("torch-gru", "torch_solve.py"),
}
# Hidden units, window and input noise of each PyTorch peer: what rnnode's cell of the same model takes on the
# problem (its defaults, or the problem file's `[learning.<cell>]` hidden, window and noise), as
# `rnnode problems --settings P` prints them, so the file has one reader, rnnode's.


def cell_settings(rnnode, problem):
    """{model: {hidden, window, noise, ...}} of `rnnode problems --settings problem`; raises ValueError on failure."""
    listing = subprocess.run([rnnode, "problems", "--settings", problem], capture_output=True, text=True)
    if listing.returncode != 0:
        raise ValueError(f"`rnnode problems --settings {problem}` failed: {listing.stderr.strip()}")
    return json.loads(listing.stdout)["models"]


printing = threading.Lock()


def say(message):
    with printing:
        print(message, flush=True)


def seeds(text):
    """`0-4`, `1,3,5` or a mix (`0-2,7`)."""
    values = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        try:
            values += list(range(int(low), int(high) + 1)) if high else [int(low)]
        except ValueError:
            raise argparse.ArgumentTypeError(f"`{part}` is not a seed or a range like 0-4") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"`{text}`: seeds are integers ≥ 0")
    return values


def done(rows_path):
    """(problem, model, seed) of every complete peer run in rows_path: its last row, test_trajectories, is there."""
    if not os.path.exists(rows_path):
        return set()
    with open(rows_path, newline="") as f:
        return {(r["problem"], r["model"], r["seed"]) for r in csv.DictReader(f) if r["metric"] == "test_trajectories"}


def run(command, log, environment=None):
    """Runs command, appending the command line and its output to log; returns (ok, seconds, the last error line
    or else the last line)."""
    started = time.perf_counter()
    with open(log, "a") as out:
        out.write("$ " + shlex.join(command) + "\n")
        out.flush()
        status = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=environment).returncode
    with open(log) as f:
        lines = [line.strip() for line in f if line.strip()]
    errors = [line for line in lines if line.lower().startswith(("error", "traceback"))]
    return status == 0, time.perf_counter() - started, (errors or lines or [""])[-1]


def manifest(folder, model, seed):
    """The `configuration` of the newest manifest rnnode solve wrote into folder for this model and seed (its file
    name, <problem>-<model>[-seed<S>]-manifest.json, depends on the options, so it is found by content)."""
    found = []
    for name in os.listdir(folder):
        if name.endswith("-manifest.json"):
            path = os.path.join(folder, name)
            with open(path) as f:
                configuration = json.load(f).get("configuration", {})
            if configuration.get("model") == model and configuration.get("seed") == str(seed):
                found.append((os.path.getmtime(path), path, configuration))
    if not found:
        raise ValueError(f"{folder}: no manifest of `rnnode solve --model {model} --seed {seed}`")
    return max(found, key=lambda entry: entry[0])[2]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="output folder (outside the repository)")
    p.add_argument("--rnnode", default=os.path.join(ROOT, ".build", "release", "rnnode"))
    p.add_argument("--python", default=sys.executable, help="the Python with numpy, reservoirpy and torch")
    p.add_argument("--problems", default=None, help="comma-separated (default: every problem of `rnnode problems`)")
    p.add_argument("--seeds", type=seeds, default=seeds("0-4"), help="e.g. 0-4 or 1,2,3 (default 0-4)")
    p.add_argument("--peers", default="esn,nvar,rnn,lstm,gru")
    p.add_argument("--data-model", default="linear",
                   help="model of the `rnnode solve` that makes the data folder (default linear, the quickest)")
    p.add_argument("--solve-args", default="", help="more `rnnode solve` options (data size, --set …), one string")
    p.add_argument("--budget", type=float, default=60.0, help="training seconds of each PyTorch peer (default 60)")
    p.add_argument("--threads", type=int, default=1, help="threads of each peer process (default 1)")
    p.add_argument("--jobs", type=int, default=1, help="(problem, seed) pairs run at once (default 1)")
    p.add_argument("--ngrc-delays", type=int, default=2)
    p.add_argument("--ngrc-skip", type=int, default=1)
    p.add_argument("--ngrc-degree", type=int, default=4)
    p.add_argument("--ngrc-ridge", type=float, default=3e-8)
    p.add_argument("--esn-args", default="", help="more reservoirpy_solve.py options, one string")
    p.add_argument("--nvar-args", default="", help="more nvar_solve.py options, one string")
    p.add_argument("--torch-args", default="", help="more torch_solve.py options, one string")
    a = p.parse_args()
    peers = a.peers.split(",")
    unknown = [name for name in peers if name not in PEERS]
    if unknown:
        p.error(f"--peers: unknown {', '.join(unknown)} (known: {', '.join(PEERS)})")
    if not a.budget > 0:
        p.error(f"--budget {a.budget}: must be positive")
    if a.threads < 1 or a.jobs < 1:
        p.error("--threads and --jobs must be at least 1")
    if not os.access(a.rnnode, os.X_OK):
        p.error(f"--rnnode {a.rnnode}: not an executable (build it with `swift build -c release`)")
    out = os.path.abspath(a.out)
    if os.path.commonpath([out, ROOT]) == ROOT:
        p.error(f"--out {a.out}: inside the repository; choose a folder outside it")

    if a.problems:
        problems = a.problems.split(",")
    else:
        listing = subprocess.run([a.rnnode, "problems"], capture_output=True, text=True)
        if listing.returncode != 0:
            sys.exit(f"error: `{a.rnnode} problems` failed: {listing.stderr.strip()}")
        problems = [line.split()[0] for line in listing.stdout.splitlines()[1:] if line.strip()]
    rows_dir = os.path.join(out, "peers")
    rows_path = os.path.join(rows_dir, "errors.csv")
    for folder in (rows_dir, os.path.join(out, "logs"), os.path.join(out, "solve")):
        os.makedirs(folder, exist_ok=True)
    environment = dict(os.environ, **{name: str(a.threads) for name in
                                      ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    failures = []
    # One `problems --settings` per problem, whichever of its seeds asks first (a failure is not kept).
    settings_of, settings_lock = {}, threading.Lock()

    def settings_for(problem):
        with settings_lock:
            if problem not in settings_of:
                settings_of[problem] = cell_settings(a.rnnode, problem)
            return settings_of[problem]

    def pair(problem, seed):
        finished = done(rows_path)
        todo = [name for name in peers if (problem, PEERS[name][0], str(seed)) not in finished]
        if not todo:
            say(f"{problem} s{seed}: every peer already has rows, skipped")
            return
        solve_dir = os.path.join(out, "solve", f"{problem}-s{seed}")
        log = os.path.join(out, "logs", f"{problem}-s{seed}-data.log")
        command = [a.rnnode, "solve", problem, "--model", a.data_model, "--seed", str(seed), "--out", solve_dir]
        ok, seconds, last = run(command + shlex.split(a.solve_args), log)
        if not ok:
            failures.append(f"{problem} s{seed} data: {last} (see {log})")
            say(f"{problem} s{seed}: rnnode solve failed: {last}")
            return
        try:
            configuration = manifest(solve_dir, a.data_model, seed)
        except (OSError, ValueError, KeyError) as error:
            failures.append(f"{problem} s{seed} data: {error}")
            say(f"{problem} s{seed}: {error}")
            return
        try:
            settings = settings_for(problem)
        except (OSError, ValueError, KeyError) as error:
            failures.append(f"{problem} s{seed} settings: {error}")
            say(f"{problem} s{seed}: {error}")
            return
        data = os.path.join(solve_dir, "data", f"{configuration['problem']}-{configuration['data_key']}")
        common = ["--out", rows_dir, "--seed", str(seed), "--eval-start", configuration["evaluation_start"],
                  "--threads", str(a.threads)]
        say(f"{problem} s{seed}: data {data} ({seconds:.1f} s)")
        for name in todo:
            model, script = PEERS[name]
            command = [a.python, os.path.join(HERE, script), data] + common
            if name == "esn":
                command += ["--window", "100"] + shlex.split(a.esn_args)
            elif name == "nvar":
                command += ["--delays", str(a.ngrc_delays), "--skip", str(a.ngrc_skip),
                            "--degree", str(a.ngrc_degree), "--ridge", repr(a.ngrc_ridge)] + shlex.split(a.nvar_args)
            else:
                own = settings[name]
                command += ["--cell", name, "--window", str(int(own["window"])), "--hidden", str(int(own["hidden"])),
                            "--noise", repr(float(own["noise"])),
                            "--budget", repr(a.budget)] + shlex.split(a.torch_args)
            log = os.path.join(out, "logs", f"{problem}-s{seed}-{name}.log")
            ok, seconds, last = run(command, log, environment)
            if ok:
                say(f"{problem} s{seed} {model}: {seconds:.1f} s")
            else:
                failures.append(f"{problem} s{seed} {model}: {last} (see {log})")
                say(f"{problem} s{seed} {model}: failed after {seconds:.1f} s: {last}")

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        for future in [pool.submit(pair, problem, seed) for seed in a.seeds for problem in problems]:
            future.result()
    say(f"peer sweep: {len(problems)} problems x {len(a.seeds)} seeds in {time.perf_counter() - started:.0f} s; "
        f"rows in {rows_path}")
    if failures:
        say(f"{len(failures)} failed:\n  " + "\n  ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
