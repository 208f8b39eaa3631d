"""Speed of the batched HRV features against a per-window loop, in one run.

Workload: ``n_windows`` single-lead ECG windows of 10 s at 256 Hz (synthetic beats at about
86 bpm plus a little noise), the shape of the ECG windows of WESAD or DREAMER after resampling.

- ``HRVFeatures`` (validation included) and :func:`hrv_features`: one batched R-peak detection
  over every window and ``np.bincount`` reductions;
- the obvious alternative: the same function called window by window (what a user does with a
  per-recording HRV library), timed on ``--loop-windows`` windows and scaled to the batch (it is
  linear in the windows by construction).

Timings are wall-clock and interleaved (each repeat runs every variant once); ratios use the
best repeat. The detection itself is checked: every window must yield its 14 beats.

Usage::

    python benchmarks/hrv.py                   # prints the table
    python benchmarks/hrv.py --write-results   # also updates benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from skemotion.features import HRVFeatures
from skemotion.features._hrv import hrv_features

SFREQ = 256.0


def make_windows(n_windows: int, seed: int = 0) -> np.ndarray:
    t = np.arange(int(10 * SFREQ))[:, None] / SFREQ
    beats = np.arange(0.4, 10, 0.7)[None, :]
    ecg = np.exp(-((t - beats) ** 2) / (2 * 0.012**2)).sum(axis=1)
    noise = 0.01 * np.random.default_rng(seed).standard_normal((n_windows, 1, ecg.size))
    return np.tile(ecg, (n_windows, 1, 1)) + noise


def per_window_loop(X: np.ndarray) -> np.ndarray:
    return np.concatenate([hrv_features(X[i : i + 1], SFREQ) for i in range(X.shape[0])])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-windows", type=int, default=1000)
    parser.add_argument("--loop-windows", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--write-results",
        action="store_true",
        help="replace the '## HRV features' section of benchmarks/RESULTS.md",
    )
    args = parser.parse_args(argv)

    X = make_windows(args.n_windows)
    X_loop = X[: args.loop_windows]
    scale = args.n_windows / args.loop_windows
    variants = {
        "HRVFeatures (transformer)": lambda: HRVFeatures(SFREQ).fit_transform(X),
        "hrv_features (function)": lambda: hrv_features(X, SFREQ),
        f"per-window loop [timed on {args.loop_windows} windows, scaled]": lambda: per_window_loop(
            X_loop
        ),
    }
    F = HRVFeatures(SFREQ).fit_transform(X)
    if not (F[:, 0] == 14).all():
        raise SystemExit("R-peak detection missed beats: the benchmark would be meaningless.")
    np.testing.assert_allclose(per_window_loop(X[:20]), F[:20], equal_nan=True)

    times = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, run in variants.items():
            t0 = time.perf_counter()
            run()
            elapsed = time.perf_counter() - t0
            times[name].append(elapsed * (scale if name.startswith("per-window") else 1.0))
    loop_best = min(times[list(variants)[-1]])
    rows = []
    for name, ts in times.items():
        best, median = min(ts), float(np.median(ts))
        rows.append(f"| {name} | {1e3 * best:.1f} | {1e3 * median:.1f} | {loop_best / best:.1f}x |")
    table = "\n".join(
        [
            "| variant | best (ms) | median (ms) | speed-up vs loop |",
            "|---|---:|---:|---:|",
            *rows,
        ]
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    meta = (
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"numpy {np.__version__}, Python {sys.version.split()[0]}; load average at the end "
        f"{load:.1f}. Workload: {args.n_windows} x 1 x {X.shape[-1]} float64 (10 s at 256 Hz), "
        f"{args.repeats} interleaved repeats."
    )
    print(meta)
    print(table)
    if args.write_results:
        cmd = "python benchmarks/hrv.py " + " ".join(argv if argv is not None else sys.argv[1:])
        _write_results(cmd.strip(), meta, table)


def _write_results(cmd, meta, table):
    path = Path(__file__).with_name("RESULTS.md")
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    section = (
        f"## HRV features\n\nCommand: `{cmd}`\n\n{meta}\n\n{table}\n\n"
        "The per-window loop calls the same function on one window at a time; ratios use the "
        "best of the repeats.\n"
    )
    head, sep, rest = text.partition("## HRV features\n")
    if sep:
        nxt = rest.find("\n## ")
        text = head + section + (rest[nxt + 1 :] if nxt >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


if __name__ == "__main__":
    main()
