#!/usr/bin/env python3
"""SciPy's eigsh (ARPACK, implicitly restarted Lanczos) as the peer of `rnnode eigen`: products with A and seconds
for the smallest and largest eigenpair of every catalog matrix and the generated 2-D Laplacian, on the same
matrices, to the same residual test (||Ax - lx|| < tol * s, s the Gershgorin half-width, tol = 1e-10 as rnnode's
default), with the angle to numpy's eigh (or the exact sine vector for the generated Laplacian).

No shift-invert (that would factorise A; the rnnode methods only multiply). Usage:
    python3 -m venv /tmp/venv-scipy && /tmp/venv-scipy/bin/pip install scipy
    /tmp/venv-scipy/bin/python bench/peers/scipy_eigsh.py [--grid 100] [--tol 1e-10]
"""
import argparse
import math
import pathlib
import time
import tomllib

import numpy as np
import scipy
import scipy.io
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigsh

ROOT = pathlib.Path(__file__).resolve().parents[2]
CATALOG = ROOT / "problems" / "eigen"
MASK = (1 << 64) - 1


class SplitMix64:
    """The package's generator (Sources/Support/SplitMix64.swift), for the random-symmetric members."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * 2.0**-53


def catalog_matrix(path):
    spec = tomllib.loads(path.read_text())
    kind, n = spec["kind"], spec.get("n", len(spec.get("rows", [])))
    if kind == "tridiagonal":
        a = sp.diags([np.full(n - 1, spec["off_diagonal"]), np.full(n, spec["diagonal"]), np.full(n - 1, spec["off_diagonal"])], [-1, 0, 1])
    elif kind == "schrodinger1d":
        assert spec["potential"] == "x^2", "only the catalog's x^2 potential is rebuilt here"
        lo, hi = spec["interval"]
        h = (hi - lo) / (n + 1)
        x = lo + h * np.arange(1, n + 1)
        a = sp.diags([np.full(n - 1, -1 / h**2), 2 / h**2 + x**2, np.full(n - 1, -1 / h**2)], [-1, 0, 1])
    elif kind == "matrix-market":
        a = sp.csr_matrix(scipy.io.mmread(str(CATALOG / spec["path"])))
    elif kind == "dense":
        g, delta = spec["parameters"]["g"], spec["parameters"]["delta"]
        rows = [[eval(str(v).replace("^", "**"), {}, {"g": g, "delta": delta}) for v in row] for row in spec["rows"]]
        a = sp.csr_matrix(np.array(rows, dtype=float))
    elif kind == "random-symmetric":
        assert spec.get("distribution", "uniform") == "uniform"
        gen, d = SplitMix64(spec["seed"]), np.zeros((n, n))
        for i in range(n):
            for j in range(i, n):
                d[i, j] = d[j, i] = 2 * gen.uniform() - 1
        a = sp.csr_matrix(d)
    else:
        raise SystemExit(f"{path}: kind {kind} not rebuilt")
    return spec["name"], sp.csr_matrix(a)


def laplacian(g):
    t = sp.diags([-np.ones(g - 1), 2 * np.ones(g), -np.ones(g - 1)], [-1, 0, 1])
    return f"laplacian2d-{g}x{g}", sp.csr_matrix(sp.kron(sp.identity(g), t) + sp.kron(t, sp.identity(g)))


def laplacian_vector(g, p, q):
    i = np.arange(1, g + 1)
    v = np.outer(np.sin(p * i * math.pi / (g + 1)), np.sin(q * i * math.pi / (g + 1))).ravel()
    return v / np.linalg.norm(v)


def angle(x, basis):
    x = x / np.linalg.norm(x)
    inside = basis.T @ (basis @ x) if basis.ndim == 2 else basis * (basis @ x)
    return math.atan2(np.linalg.norm(x - inside), np.linalg.norm(inside))


def run(name, a, reference, tol, seed):
    n = a.shape[0]
    absolute = abs(a)
    diagonal = a.diagonal()
    radius = np.asarray(absolute.sum(axis=1)).ravel() - np.abs(diagonal)
    half_width = 0.5 * ((diagonal + radius).max() - (diagonal - radius).min())
    for which in ("SA", "LA"):
        count = [0]

        def matvec(x):
            count[0] += 1
            return a @ x

        op = LinearOperator((n, n), matvec=matvec, dtype=float)
        v0 = np.random.default_rng(seed).standard_normal(n)
        value_reference, basis = reference(which)
        clock = time.perf_counter()
        # ARPACK's test: ||Ax - lx|| <= tol * |l|; rnnode's: ||Ax - lx|| < tol * s.
        relative = tol * half_width / max(abs(value_reference), 1e-300)
        try:
            values, vectors = eigsh(op, k=1, which=which, tol=relative, v0=v0, maxiter=100000)
            seconds = time.perf_counter() - clock
            value, vector = values[0], vectors[:, 0]
            residual = np.linalg.norm(a @ vector - value * vector) / half_width
            print(f"{name:24s} {which}  n={n:6d}  products={count[0]:6d}  seconds={seconds:.4f}  "
                  f"eigenvalue={value:.15g}  abs_error={abs(value - value_reference):.2e}  "
                  f"angle={angle(vector, basis):.2e}  scaled_residual={residual:.1e}")
        except Exception as error:  # ArpackNoConvergence
            print(f"{name:24s} {which}  n={n:6d}  products={count[0]:6d}  failed: {error}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=100, help="G of the generated G x G Laplacian (n = G^2)")
    parser.add_argument("--tol", type=float, default=1e-10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"scipy {scipy.__version__}, numpy {np.__version__}; eigsh k=1, which=SA|LA, no shift-invert")
    for path in sorted(CATALOG.glob("*.toml")):
        name, a = catalog_matrix(path)
        values, vectors = np.linalg.eigh(a.toarray())
        gap = 1e-9 * (values[-1] - values[0])

        def reference(which, values=values, vectors=vectors, gap=gap):
            k = 0 if which == "SA" else len(values) - 1
            cluster = np.abs(values - values[k]) <= gap
            return values[k], vectors[:, cluster].T

        run(name, a, reference, args.tol, args.seed)
    g = args.grid
    name, a = laplacian(g)
    h = math.pi / (g + 1)

    def exact(which):
        p = 1 if which == "SA" else g
        return 4 - 4 * math.cos(p * h), laplacian_vector(g, p, p)

    run(name, a, exact, args.tol, args.seed)


if __name__ == "__main__":
    main()
