"""Figures of the benchmark page, drawn from the tables recorded in benchmarks/RESULTS.md.

Run by matplotlib's plot directive with the docs folder as working directory. The numbers
are read from RESULTS.md at build time, so that the figures always show what is recorded
there (a table whose layout changed makes the build fail instead of showing stale numbers).
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

RESULTS = Path("../benchmarks/RESULTS.md")
_PM = re.compile(r"^\s*(-?[\d.]+)\s*(?:\+-|±)\s*([\d.]+)\s*$")


def _section(title_start: str) -> list[str]:
    lines = RESULTS.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## " + title_start))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def _table(lines: list[str], after: str | None = None) -> list[dict[str, str]]:
    """The first markdown table in ``lines`` (after the line starting with ``after``)."""
    i = 0
    if after is not None:
        i = next(k for k, line in enumerate(lines) if line.startswith(after))
    while not lines[i].startswith("|"):
        i += 1
    header = [c.strip() for c in lines[i].strip().strip("|").split("|")]
    rows = []
    for line in lines[i + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.append(dict(zip(header, cells)))
    return rows


def _pm(text: str) -> tuple[float, float]:
    match = _PM.match(text)
    if match is None:
        raise ValueError(f"not a 'mean +- std' cell: {text!r}")
    return float(match.group(1)), float(match.group(2))


def _bars(ax, labels, groups, values, errors, title, chance=None):
    n = len(groups)
    width = 0.8 / n
    x = np.arange(len(labels))
    for k, group in enumerate(groups):
        ax.bar(
            x + (k - (n - 1) / 2) * width,
            values[:, k],
            width,
            yerr=errors[:, k],
            capsize=2,
            label=group,
        )
    if chance is not None:
        ax.axhline(chance, color="k", lw=0.8, ls="--", label="chance")
    ax.set_xticks(x, labels, rotation=20, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("balanced accuracy")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper right")


def default_benchmark():
    rows = _table(_section("`skemotion benchmark`"))
    labels = [r["model"] for r in rows]
    stats = np.array([_pm(r["balanced accuracy"]) for r in rows])
    fig, ax = plt.subplots(layout="constrained")
    _bars(
        ax,
        labels,
        ["mean +- std over 6 folds"],
        stats[:, :1],
        stats[:, 1:],
        "Default benchmark (leave one subject out, 3 classes)",
        chance=1 / 3,
    )


def robustness():
    rows = _table(_section("Robustness"), after="Balanced accuracy")
    labels = [r["model"] for r in rows]
    conditions = ["clean", "0 dB", "-5 dB"]
    stats = np.array([[_pm(r[c]) for c in conditions] for r in rows])
    fig, ax = plt.subplots(layout="constrained")
    _bars(
        ax,
        labels,
        conditions,
        stats[..., 0],
        stats[..., 1],
        "Robustness to EMG on the test subject",
        chance=1 / 3,
    )


def ssl_ecg():
    rows = _table(_section("SSL-ECG"))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    fractions = list(dict.fromkeys(r["labels"] for r in rows))
    cell = {(r["method"], r["labels"]): _pm(r["balanced accuracy"]) for r in rows}
    stats = np.array([[cell[m, f] for f in fractions] for m in methods])
    fig, ax = plt.subplots(layout="constrained")
    _bars(
        ax,
        methods,
        [f"{f} labels" for f in fractions],
        stats[..., 0],
        stats[..., 1],
        "ECG arousal, subject-wise (2 classes)",
        chance=0.5,
    )


def features():
    rows = _table(_section("Features"))
    rows = [r for r in rows if r["speed-up vs loop / scipy"].endswith("x")]
    labels = [f"{r['feature']}: {r['variant'].split('[')[0].split(', ')[0].strip()}" for r in rows]
    speedup = np.array([float(r["speed-up vs loop / scipy"].rstrip("x")) for r in rows])
    fig, ax = plt.subplots(figsize=(7.0, 0.28 * len(rows) + 1.0), layout="constrained")
    y = np.arange(len(rows))[::-1]
    ax.barh(y, speedup, color="tab:blue")
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xscale("log")
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xlabel("speed-up over the per-window loop (DE) or scipy.signal (log scale)")
    ax.set_title("Feature extraction, 1000 x 62 x 400 windows")


def gruxnet():
    lines = _section("GRU-XNet")
    tables = {
        "leave one subject out": _table(lines),
        "leave one dataset out": _table(lines, after="Leave one dataset out"),
    }
    labels = [r["model"] for r in tables["leave one subject out"]]
    stats = np.array(
        [
            [
                _pm(next(r for r in rows if r["model"] == m)["balanced accuracy"])
                for rows in tables.values()
            ]
            for m in labels
        ]
    )
    fig, ax = plt.subplots(layout="constrained")
    _bars(
        ax,
        labels,
        list(tables),
        stats[..., 0],
        stats[..., 1],
        "GRU-XNet (CPU configuration), 3 classes",
        chance=1 / 3,
    )
