#!/usr/bin/env python3
"""Redo netarch's charts in pandas and matplotlib, from the files a sweep and a run write.

    python3 examples/analysis.py --sweep netarch-out/default-sweep --run netarch-out/default --out plots

From a sweep folder it reads tidy.csv (one row per run, architecture and metric) and draws one
metric against the swept key, one line per architecture, with the mean over replicates and a 95%
Student-t interval -- the sweep chart, recomputed here from the raw runs. From a run folder it
reads summary.csv and latency.csv and redraws the latency CDF as a share of all copies created
(so each curve ends at the delivered share, as netarch's own latency-cdf chart does). If the run
was made with --trace, it also reads messages.csv (one row per recipient copy) and recomputes
the delivered share and the median over all copies from it; without messages.csv that part is
skipped and the script says so.

Every figure it prints is computed from the files it read; nothing is hard-coded.
Requirements: examples/requirements.txt (pandas, matplotlib).
"""

import argparse
import math
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

# netarch's architecture colours (Okabe-Ito, by position in the scenario), as in its charts.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

# Two-sided 97.5% Student-t quantiles for 1..30 degrees of freedom (beyond: the normal's 1.96).
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042]

def t975(df):
    """The two-sided 95% Student-t quantile for `df` degrees of freedom."""
    return T975[df - 1] if df <= len(T975) else 1.96


DURATION = re.compile(r"^\s*([0-9.]+)\s*(ms|s|min|h|d)\s*$")
UNIT_S = {"ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def numeric(value):
    """A swept value as a number: plain numbers as they are, durations ("30min") in seconds."""
    try:
        return float(value)
    except (TypeError, ValueError):
        m = DURATION.match(str(value))
        return float(m.group(1)) * UNIT_S[m.group(2)] if m else math.nan


def swept_keys(tidy):
    """The swept keys: tidy.csv's columns between `seed` and `arch` (numeric `_s` twins left out)."""
    cols = list(tidy.columns)
    keys = cols[cols.index("seed") + 1 : cols.index("arch")]
    return [k for k in keys if not (k.endswith("_s") and k[:-2] in keys)]


def sweep_chart(folder, metric, out):
    tidy = pd.read_csv(folder / "tidy.csv", dtype={"metric": str})
    keys = swept_keys(tidy)
    if not keys:
        sys.exit(f"{folder}/tidy.csv has no swept key")
    key = keys[0]
    metrics = tidy["metric"].unique()
    if metric is None:
        metric = "delivery_ratio" if "delivery_ratio" in metrics else metrics[0]
    rows = tidy[tidy["metric"] == metric].copy()
    if rows.empty:
        sys.exit(f"no run in {folder}/tidy.csv has the metric {metric!r}")
    rows["x"] = rows[key].map(numeric)
    archs = list(dict.fromkeys(tidy["arch"]))  # scenario order, as in the file
    stats = rows.groupby(["arch", "x"])["value"].agg(["mean", "std", "count"]).reset_index()
    stats["half"] = [t975(n - 1) * sd / math.sqrt(n) if n > 1 else 0.0 for sd, n in zip(stats["std"].fillna(0.0), stats["count"])]
    # A share cannot leave [0, 1]: its band is clipped there (a t interval knows no bounds).
    share = rows["value"].between(0.0, 1.0).all()
    lo_clip, hi_clip = (0.0, 1.0) if share else (-math.inf, math.inf)
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    for i, arch in enumerate(archs):
        s = stats[stats["arch"] == arch].sort_values("x")  # numeric order, not text order
        if s.empty:
            continue
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        ax.plot(s["x"], s["mean"], marker="os^Dv+"[i % 6], color=colour, label=arch)
        low = (s["mean"] - s["half"]).clip(lower=lo_clip)
        high = (s["mean"] + s["half"]).clip(upper=hi_clip)
        ax.fill_between(s["x"], low, high, color=colour, alpha=0.15)
    ax.set_xlabel(key + (" (s)" if rows[key].map(lambda v: DURATION.match(str(v)) is not None).any() else ""))
    ax.set_ylabel(metric)
    reps = int(stats["count"].max())
    ax.set_title(f"{metric} against {key}\nmean of {reps} replicate(s), 95% t interval", fontsize=11)
    ax.legend()
    path = out / f"sweep-{re.sub(r'[^A-Za-z0-9]+', '_', metric)}.png"
    fig.savefig(path, dpi=150)
    plt.close(fig)
    print(f"wrote {path}")
    for arch in archs:
        s = stats[stats["arch"] == arch].sort_values("x")
        points = ", ".join(f"{x:g}: {m:.4g}" for x, m in zip(s["x"], s["mean"]))
        print(f"  {arch}: {metric} by {key} = {points}")


def run_chart(folder, out):
    summary = pd.read_csv(folder / "summary.csv")
    latency = pd.read_csv(folder / "latency.csv")
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    for i, row in enumerate(summary.itertuples()):
        curve = latency[(latency["arch"] == row.arch) & (latency["split"] == "all")]
        share = row.delivered / row.copies_created if row.copies_created > 0 else math.nan
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        if not curve.empty and share == share:
            xs = [curve["latency_ms"].iloc[0]] + list(curve["latency_ms"])
            ys = [0.0] + list(curve["cumulative"] * share * 100.0)
            ax.step(xs, ys, where="post", color=colour, label=f"{row.arch}: {share:.1%} delivered")
        print(f"  {row.arch}: {row.delivered} of {row.copies_created} copies delivered ({share:.2%})")
    ax.set_xscale("log")
    ticks = [(1e3, "1 s"), (6e4, "1 min"), (3.6e6, "1 h"), (8.64e7, "1 day")]
    lo, hi = ax.get_xlim()
    shown = [(t, label) for t, label in ticks if lo <= t <= hi]
    ax.set_xticks([t for t, _ in shown], [label for _, label in shown])
    ax.set_xlabel("latency from send to delivery (log scale)")
    ax.set_ylabel("share of all copies created, delivered by then (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Latency CDF over all copies created (from latency.csv and summary.csv)")
    ax.legend()
    path = out / "latency-cdf.png"
    fig.savefig(path, dpi=150)
    plt.close(fig)
    print(f"wrote {path}")

    trace = folder / "messages.csv"
    if not trace.is_file():
        print(f"  {trace} not found (written by `netarch run --trace`): per-copy figures skipped")
        return
    msgs = pd.read_csv(trace)
    if "counted" in msgs.columns:
        msgs = msgs[msgs["counted"].astype(str).str.lower().isin(["true", "1"])]
    for arch, group in msgs.groupby("architecture", sort=False):
        delivered = group["outcome"] == "delivered"
        # An undelivered copy counts as slower than any delivered one.
        latencies = group["latency_ms"].where(delivered, math.inf)
        median = latencies.median()
        text = f"{median:.1f} ms" if math.isfinite(median) else "undelivered (fewer than half arrived)"
        print(f"  {arch}: {delivered.mean():.2%} of {len(group)} traced copies delivered; median over all: {text}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sweep", type=Path, help="a sweep folder (with tidy.csv)")
    p.add_argument("--run", type=Path, help="a run folder (with summary.csv and latency.csv)")
    p.add_argument("--metric", help="the sweep metric to chart (default: delivery_ratio)")
    p.add_argument("--out", type=Path, default=Path("plots"), help="folder for the PNGs (default: plots)")
    a = p.parse_args()
    if a.sweep is None and a.run is None:
        p.error("give --sweep, --run or both")
    a.out.mkdir(parents=True, exist_ok=True)
    if a.sweep is not None:
        sweep_chart(a.sweep, a.metric, a.out)
    if a.run is not None:
        run_chart(a.run, a.out)


if __name__ == "__main__":
    main()
