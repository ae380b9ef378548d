#!/usr/bin/env python3
"""Markdown tables of `rnnode solve` results (problems × models) from an errors.csv, for README.

    python3 bench/solve_table.py results/errors.csv [--seed 0]

Uses the last row of each (problem, model, seed, metric), so reruns supersede earlier rows. Standard library only."""
import argparse
import csv
import math

MODELS = ["linear", "esn", "rnn", "lstm", "gru", "reservoirpy-esn", "torch-lstm", "torch-gru", "torch-rnn"]


def fmt(x, digits=3):
    if x is None:
        return "–"
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "∞"
    if x == 0:
        return "0"
    if 1e-2 <= abs(x) < 1e4:
        return f"{x:.{digits}g}"
    return f"{x:.{digits - 1}e}".replace("e-0", "e-").replace("e+0", "e")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("errors")
    p.add_argument("--seed", default="0")
    a = p.parse_args()
    values = {}
    with open(a.errors) as f:
        for row in csv.DictReader(f):
            if row["experiment"] == "solve" and row["seed"] == a.seed:
                values[(row["problem"], row["model"], row["metric"])] = float(row["value"])
    problems = sorted({k[0] for k in values})
    models = [m for m in MODELS if any(k[1] == m for k in values)]
    get = lambda p, m, metric: values.get((p, m, metric))

    def table(title, cell):
        print(f"**{title}**\n")
        print("| problem | " + " | ".join(models) + " |")
        print("| :--- | " + " | ".join("---:" for _ in models) + " |")
        for p in problems:
            print(f"| {p} | " + " | ".join(cell(p, m) for m in models) + " |")
        print()

    def diverged(p, m):
        frac = get(p, m, "diverged_fraction")
        n = get(p, m, "test_trajectories")
        if frac:
            return f" (div {round(frac * n)}/{round(n)} from t={fmt(get(p, m, 'diverged_at_first'), 2)})"
        return ""

    table("Relative L2 error at the horizon, median over test trajectories [q25, q75]",
          lambda p, m: (f"{fmt(get(p, m, 'rel_l2_final'), 2)} [{fmt(get(p, m, 'rel_l2_final_q25'), 2)}, "
                        f"{fmt(get(p, m, 'rel_l2_final_q75'), 2)}]" + diverged(p, m)) if get(p, m, "rel_l2_final") is not None else "–")

    def vpt(p, m):
        v = get(p, m, "vpt")
        if v is None:
            return "–"
        text = fmt(v, 3)
        if get(p, m, "vpt_lyapunov") is not None:
            text += f" ({fmt(get(p, m, 'vpt_lyapunov'), 3)} LT)"
        if get(p, m, "vpt_censored"):
            text += f" ({round(get(p, m, 'vpt_censored') * 100)}% cens.)"
        return text

    table("Valid prediction time (E(t) ≤ 0.4), median, in time units (Lyapunov times); 'cens.': share censored at the horizon", vpt)

    invariant_metrics = sorted({k[2] for k in values if k[2].startswith("invariant_drift_") and not k[2].endswith(("_q25", "_q75"))})
    if invariant_metrics:
        print("**Invariant drift (max relative change along the rollout), median; GSL's own drift in the last column**\n")
        print("| problem | invariant | " + " | ".join(models) + " | GSL |")
        print("| :--- | :--- | " + " | ".join("---:" for _ in models) + " | ---: |")
        for p in problems:
            for metric in invariant_metrics:
                if not any(get(p, m, metric) is not None for m in models):
                    continue
                name = metric[len("invariant_drift_"):]
                gsl = next((get(p, m, "reference_" + metric) for m in models if get(p, m, "reference_" + metric) is not None), None)
                print(f"| {p} | {name} | " + " | ".join(fmt(get(p, m, metric), 2) for m in models) + f" | {fmt(gsl, 2)} |")
        print()

    def speed(p, m):
        if get(p, m, "train_seconds") is None:
            return "–"
        matched = get(p, m, "speedup")
        # No accuracy-matched figure for a rollout that diverged; the tight one is shown for reference.
        return (f"{fmt(get(p, m, 'train_seconds'), 2)} s / ×{fmt(matched, 2) if matched is not None else '–'}"
                f" (×{fmt(get(p, m, 'speedup_tight'), 2)} tight)")

    table("Training seconds / rollout speed-up against GSL at matched accuracy (at the reference tolerance), median", speed)


if __name__ == "__main__":
    main()
