"""Shared by the peer scripts: read the reference data rnnode wrote (DIR/data/<problem>-<key>/), normalise it the
same way, roll a model out the same way and compute the same metrics, appending rows to DIR/errors.csv in the
long format `experiment,problem,model,seed,metric,value,unit` (see results/README.md)."""
import csv
import fcntl
import json
import os
import sys
import time

import numpy as np

THRESHOLD = 0.4


class DataError(Exception):
    """A data folder that is missing, incomplete or not what rnnode wrote."""


def fail(message):
    """Prints `error: message` to stderr and exits with status 2 (no traceback: the message is for the user)."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def fnv1a64(path):
    """`fnv1a64:<16 hex digits>` of the file's bytes, as rnnode's data.json `checksums` record them."""
    value = 0xCBF29CE484222325
    with open(path, "rb") as f:
        for byte in f.read():
            value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"fnv1a64:{value:016x}"


def load(data_dir):
    """Returns (meta, splits) with splits[name] a list of (N, d) arrays, name in train/validation/test.
    Checks what rnnode checks before using a cache (data.json present and whole, every CSV's checksum) and that
    every split has the counts, columns and row lengths data.json says; raises DataError naming the file."""
    if not os.path.isdir(data_dir):
        raise DataError(f"{data_dir}: no such data folder (run `rnnode solve PROBLEM --out DIR` first; "
                        "the folder is DIR/data/<problem>-<key>)")
    meta_path = os.path.join(data_dir, "data.json")
    if not os.path.isfile(meta_path):
        raise DataError(f"{meta_path}: missing; the folder is incomplete (rnnode writes data.json last): "
                        "rerun `rnnode solve` to regenerate it")
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{meta_path}: not readable JSON ({error})") from None
    if not isinstance(meta, dict):
        raise DataError(f"{meta_path}: not a JSON object")
    for key, kind in (("problem", str), ("variables", list), ("counts", dict), ("checksums", dict)):
        if not isinstance(meta.get(key), kind):
            raise DataError(f"{meta_path}: key `{key}` missing or not a {kind.__name__} (not written by this rnnode version?)")
    d = len(meta["variables"])
    splits = {}
    for name in ("train", "validation", "test"):
        path = os.path.join(data_dir, name + ".csv")
        if not os.path.isfile(path):
            raise DataError(f"{path}: missing")
        recorded = meta["checksums"].get(name + ".csv")
        actual = fnv1a64(path)
        if recorded != actual:
            raise DataError(f"{path}: checksum {actual} does not match {recorded} recorded in data.json: the file "
                            "changed after it was written and is not used as reference data (delete the folder "
                            "to regenerate it)")
        rows = {}
        with open(path, newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header != ["trajectory", "t"] + list(meta["variables"]):
                raise DataError(f"{path}:1: header {header} is not trajectory,t,{','.join(meta['variables'])}")
            for line, row in enumerate(reader, start=2):
                try:
                    if len(row) != d + 2:
                        raise ValueError(f"{len(row)} columns, expected {d + 2}")
                    rows.setdefault(int(row[0]), []).append([float(v) for v in row[1:]])
                except ValueError as error:
                    raise DataError(f"{path}:{line}: {error}") from None
        count = meta["counts"].get(name)
        if sorted(rows) != list(range(count if isinstance(count, int) else -1)):
            raise DataError(f"{path}: trajectories {sorted(rows)[:5]}…, data.json counts {count}")
        minimum = 2 if name != "test" else 1
        for index, trajectory in rows.items():
            if len(trajectory) < minimum:
                raise DataError(f"{path}: trajectory {index} has {len(trajectory)} rows")
        splits[name] = [np.array(rows[i])[:, 1:] for i in sorted(rows)]
        if name == "test" and rows:
            meta["times"] = np.array(rows[0])[:, 0]
    if not splits["test"]:
        raise DataError(f"{data_dir}: no test trajectories")
    return meta, splits


def load_or_exit(data_dir):
    """load(), with a DataError printed as `error: …` and exit status 2."""
    try:
        return load(data_dir)
    except DataError as error:
        fail(str(error))


def check_evaluation(meta, eval_start, horizon_steps):
    """Exits with a message when the evaluation start or horizon does not fit the test trajectories."""
    rows = len(meta["times"])
    if eval_start < 1 or eval_start > rows - 1:
        fail(f"--eval-start {eval_start}: the test trajectories have {rows} states; it must lie in 1…{rows - 1}")
    if horizon_steps is not None and not eval_start <= horizon_steps <= rows - 1:
        fail(f"--horizon-steps {horizon_steps}: must lie in --eval-start {eval_start}…{rows - 1}")


def largest_exponent(meta, data_dir):
    """The exponent rnnode scales VPT by: the problem file's (data.json `lyapunov`), else the one rnnode computed
    and cached beside the data (DIR/data/<problem>-lyapunov-<key>.json), used only when it is positive beyond
    3 standard errors, as rnnode does. None when there is none (run `rnnode solve` on the problem first)."""
    if meta.get("lyapunov") is not None:
        return meta["lyapunov"] if meta["lyapunov"] > 0 else None
    parent = os.path.dirname(os.path.abspath(data_dir))
    prefix = meta["problem"] + "-lyapunov-"
    entries = []
    for name in sorted(os.listdir(parent)):
        if name.startswith(prefix) and name.endswith(".json"):
            with open(os.path.join(parent, name)) as f:
                entries.append(json.load(f))
    if len(entries) != 1:
        return None
    value, error = entries[0]["exponent"], entries[0]["standardError"]
    return value if value > 0 and value > 3 * error else None


def reduced(y, periods):
    """Angles (period P > 0) reduced to [-P/2, P/2), as rnnode's Normalization.reduced; other components as they are."""
    if periods is None:
        return y
    p = np.asarray(periods, dtype=float)
    safe = np.where(p > 0, p, 1.0)
    return np.where(p > 0, y - safe * np.floor(y / safe + 0.5), y)


class Normalization:
    """z = (y - mu)/sigma per component (angles reduced first); increments g = (dy - mu_d)/sigma_d (unwrapped);
    training statistics only. `periods`: data.json's `periods` (None: nothing periodic). `forcing_period`: data.json's
    `forcingPeriod`, the drive's period P of a driven problem: the model inputs then end in sin(2 pi t/P) and
    cos(2 pi t/P), as rnnode's Normalization.modelInput."""

    def __init__(self, trajectories, periods=None, forcing_period=None):
        self.periods = periods
        self.forcing_period = forcing_period
        self.inputs = trajectories[0].shape[1] + (2 if forcing_period else 0)
        states = reduced(np.concatenate(trajectories), periods)
        increments = np.concatenate([np.diff(t, axis=0) for t in trajectories])

        def scale(x):
            mean, sd = x.mean(axis=0), x.std(axis=0)
            sd = np.where((sd > 1e-300) & (sd > 1e-12 * np.abs(mean)), sd, 1.0)
            return mean, sd

        self.mean, self.scale = scale(states)
        self.dmean, self.dscale = scale(increments)
        unwrapped = np.concatenate(trajectories)
        self.minimum, self.maximum = unwrapped.min(axis=0), unwrapped.max(axis=0)

    def z(self, y, t=None):
        """The model inputs of the states y (one state or rows) at times t (needed for a driven problem only)."""
        z = (reduced(y, self.periods) - self.mean) / self.scale
        if not self.forcing_period:
            return z
        if t is None:
            raise ValueError("a driven problem's inputs need the times")
        phase = 2 * np.pi * np.asarray(t, dtype=float) / self.forcing_period
        return np.concatenate([z, np.stack([np.sin(phase), np.cos(phase)], axis=-1)], axis=-1)

    def g(self, trajectory):
        return (np.diff(trajectory, axis=0) - self.dmean) / self.dscale

    def dy(self, g):
        return self.dmean + self.dscale * g


READOUTS = ("linear", "pathak", "quadratic")


def readout_features(x, readout):
    """What an ESN readout sees of the states x (rows: time steps, or one state), as rnnode's --readout: `linear` x;
    `pathak` x with every even unit (0, 2, ...) squared (Pathak et al. 2018); `quadratic` x and x*x."""
    if readout == "pathak":
        x = np.array(x, copy=True)
        x[..., ::2] = x[..., ::2] ** 2
        return x
    if readout == "quadratic":
        return np.concatenate([x, x * x], axis=-1)
    if readout == "linear":
        return x
    raise ValueError(f"unknown readout {readout!r} (known: {', '.join(READOUTS)})")


def rollout(reference, k, last, norm, reset, advance, times=None):
    """Warm up on reference rows 0..k-1, then y_{n+1} = y_n + dy(g_n) fed back, to row `last`. k is the common
    evaluation start s (rnnode's --eval-start), so every model is scored over rows s-1..last.
    Returns (predicted rows k-1..last with NaN after divergence, diverged index or None, seconds)."""
    started = time.perf_counter()
    d = reference.shape[1]
    predicted = np.full((last - k + 2, d), np.nan)
    # The allowed box, as rnnode's: the training range and this reference's own range (rows 0..last), widened 10x.
    low = np.minimum(norm.minimum, reference[:last + 1].min(axis=0))
    high = np.maximum(norm.maximum, reference[:last + 1].max(axis=0))
    centre, half = (low + high) / 2, np.maximum((high - low) * 5, 1e-12)
    lower, upper = centre - half, centre + half
    reset()
    for n in range(k):
        g = advance(norm.z(reference[n], None if times is None else times[n]))
    current = reference[k - 1].copy()
    predicted[0] = current
    diverged = None
    for r in range(1, last - k + 2):
        current = current + norm.dy(g)
        if not np.all(np.isfinite(current)) or np.any(current < lower) or np.any(current > upper):
            diverged = r
            break
        predicted[r] = current
        if r < last - k + 1:
            g = advance(norm.z(current, None if times is None else times[k - 1 + r]))
    return predicted, diverged, time.perf_counter() - started


def metrics(times, reference, predicted, diverged, scale, periods=None):
    """The per-trajectory metrics of rnnode's Metrics.evaluate (invariants aside); angles' errors on the circle."""
    valid = diverged if diverged is not None else len(times)
    err = reduced(predicted - reference, periods)
    e = np.sqrt(np.mean((err / scale) ** 2, axis=1))
    e = np.where(np.isfinite(e), e, np.inf)
    if diverged is not None:
        e[diverged:] = np.inf
    above = np.nonzero(~(e <= THRESHOLD))[0]
    vpt, censored = (times[above[0]] - times[0], False) if len(above) else (times[-1] - times[0], True)
    body = err[1:valid]
    rmse = float(np.sqrt(np.mean(body ** 2))) if body.size else 0.0
    max_abs = float(np.max(np.abs(body))) if body.size else 0.0
    rel = float(np.linalg.norm(err[-1]) / np.linalg.norm(reduced(reference[-1], periods))) if diverged is None else float("inf")
    return dict(rmse=rmse, rel_l2_final=rel, max_abs=max_abs, vpt=vpt, censored=censored,
                diverged_at=None if diverged is None else times[diverged] - times[0])


def fmt(x):
    x = float(x)
    return "nan" if np.isnan(x) else ("inf" if x == np.inf else ("-inf" if x == -np.inf else repr(x)))


def rows_for(per_trajectory, lyapunov, train_seconds, rollout_seconds, parameters):
    """(metric, value, unit) rows: medians with _q25/_q75, as rnnode writes them."""
    rows = []

    def quartiles(name, values, unit):
        v = np.array(values, dtype=float)
        v = v[~np.isnan(v)]
        for suffix, q in (("", 0.5), ("_q25", 0.25), ("_q75", 0.75)):
            rows.append((name + suffix, np.quantile(v, q) if v.size else np.nan, unit))

    for name, unit in (("rmse", "state"), ("rel_l2_final", "1"), ("max_abs", "state"), ("vpt", "time")):
        quartiles(name, [m[name] for m in per_trajectory], unit)
    if lyapunov is not None:
        quartiles("vpt_lyapunov", [m["vpt"] * lyapunov for m in per_trajectory], "lyapunov_times")
    rows.append(("vpt_censored", np.mean([m["censored"] for m in per_trajectory]), "fraction"))
    diverged = [m["diverged_at"] for m in per_trajectory if m["diverged_at"] is not None]
    rows.append(("diverged_fraction", len(diverged) / len(per_trajectory), "fraction"))
    if diverged:
        quartiles("diverged_at", diverged, "time")
        rows.append(("diverged_at_first", min(diverged), "time"))
    quartiles("rollout_seconds", rollout_seconds, "s")
    rows.append(("train_seconds", train_seconds, "s"))
    rows.append(("parameters", parameters, "count"))
    rows.append(("test_trajectories", len(per_trajectory), "count"))
    return rows


def append_rows(out_dir, problem, model, seed, rows):
    """Appends to out_dir/errors.csv with one write under an exclusive lock (header when the file is empty)."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "errors.csv")
    text = "".join(f"solve,{problem},{model},{seed},{m},{fmt(v)},{u}\n" for m, v, u in rows)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_size == 0:
            text = "experiment,problem,model,seed,metric,value,unit\n" + text
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def evaluate(meta, splits, norm, k, reset, advance, horizon_steps=None):
    """Rolls out every test trajectory from the evaluation start k (rnnode's --eval-start s, at least the window)."""
    times = meta["times"]
    last = len(times) - 1 if horizon_steps is None else horizon_steps
    per, seconds = [], []
    for trajectory in splits["test"]:
        predicted, diverged, s = rollout(trajectory, k, last, norm, reset, advance, times)
        per.append(metrics(times[k - 1:last + 1], trajectory[k - 1:last + 1], predicted, diverged, norm.scale,
                           norm.periods))
        seconds.append(s)
    return per, seconds
