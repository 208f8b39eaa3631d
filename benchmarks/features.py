"""Speed of the spectral features against the obvious alternatives, in one run.

Workload: SEED-shaped windows, ``n_windows x 62 channels x 400 samples`` (2 s at 200 Hz),
float32, five bands (1-4, 4-8, 8-14, 14-31, 31-50 Hz).

- DifferentialEntropy: ours (``method="fft"``, function and transformer with validation;
  ``method="filter"``) vs a per-window, per-band, per-channel loop written like TorchEEG's
  ``BandDifferentialEntropy`` (``scipy.signal.butter`` + ``lfilter`` per channel) and vs the
  bare ``torch.fft.rfft`` of the same batch (roofline: our FFT path cannot beat its FFT).
- BandPower (Welch, 1 s segments, 50 % overlap) vs ``scipy.signal.welch`` on the whole batch
  followed by the band sums.
- STFTSpectrogram (n_fft 200, hop 100, Hann) vs ``scipy.signal.stft`` on the whole batch.

Timings are wall-clock, interleaved (each repeat runs every variant once, so that a busy
machine slows all of them alike); the table shows the best and the median of the repeats and
ratios computed from the best.

Usage::

    python benchmarks/features.py                      # prints the table
    python benchmarks/features.py --write-results      # also updates benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy import signal

from skemotion.features import BandPower, DifferentialEntropy, STFTSpectrogram
from skemotion.features.functional import (
    DEFAULT_BANDS,
    band_power,
    differential_entropy,
    stft_spectrogram,
)

SFREQ = 200.0
BANDS = list(DEFAULT_BANDS.values())


def torcheeg_like_de(X, sfreq=SFREQ, bands=BANDS, order=5):
    """TorchEEG's BandDifferentialEntropy loop: per window, band and channel."""
    out = np.empty((X.shape[0], X.shape[1], len(bands)))
    for i, eeg in enumerate(X):  # TorchEEG applies its transform sample by sample
        for b, (low, high) in enumerate(bands):
            for c, ch in enumerate(eeg):
                bb, aa = signal.butter(order, [low, high], fs=sfreq, btype="band")
                out[i, c, b] = 0.5 * np.log2(2 * np.pi * np.e * np.std(signal.lfilter(bb, aa, ch)))
    return out


def scipy_welch_band_power(X, nperseg):
    f, psd = signal.welch(X, fs=SFREQ, nperseg=nperseg, axis=-1)
    df = f[1] - f[0]
    return np.stack([psd[..., (f >= lo) & (f < hi)].sum(-1) * df for lo, hi in BANDS], axis=-1)


def scipy_stft(X, n_fft, hop):
    _, _, Z = signal.stft(
        X, fs=SFREQ, nperseg=n_fft, noverlap=n_fft - hop, boundary="zeros", padded=False
    )
    return np.abs(Z)


def run_group(fns, repeats):
    """Time every function ``repeats`` times, interleaved; return {name: (best, median)}."""
    times = {name: [] for name in fns}
    for fn in fns.values():  # warm-up
        fn()
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: (min(v), float(np.median(v))) for k, v in times.items()}


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n-windows", type=int, default=1000)
    p.add_argument("--loop-windows", type=int, default=None,
                   help="windows for the per-window loop (default: all; fewer are timed and "
                        "scaled linearly, and the table says so)")  # fmt: skip
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    p.add_argument("--write-results", action="store_true",
                   help="replace the '## Features' section of benchmarks/RESULTS.md")  # fmt: skip
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    X = np.random.default_rng(0).standard_normal((args.n_windows, 62, 400)).astype(np.float32)
    Xt = torch.from_numpy(X)
    n_loop = args.n_windows if args.loop_windows is None else min(args.loop_windows, len(X))
    rows = []

    # --- differential entropy -------------------------------------------------------------
    de_t = DifferentialEntropy(SFREQ)
    de = run_group(
        {
            "torch.fft.rfft roofline": lambda: torch.fft.rfft(Xt, dim=-1),
            "DE fft (function)": lambda: differential_entropy(X, SFREQ),
            "DE fft (transformer)": lambda: de_t.fit_transform(X),
        },
        args.repeats,
    )
    de_filter = run_group({"DE filter (function)": lambda: differential_entropy(
        X, SFREQ, method="filter")}, max(1, args.repeats // 5))  # fmt: skip
    t0 = time.perf_counter()
    torcheeg_like_de(X[:n_loop])
    loop = (time.perf_counter() - t0) * len(X) / n_loop
    roof = de["torch.fft.rfft roofline"][0]
    for name, (best, med) in {**de, **de_filter}.items():
        rows.append(("DE", name, best, med, loop / best, roof / best))
    loop_name = "per-window loop, TorchEEG-style (butter+lfilter per channel)"
    if n_loop < len(X):
        loop_name += f" [timed on {n_loop} windows, scaled]"
    rows.append(("DE", loop_name, loop, loop, 1.0, roof / loop))

    # --- band power -----------------------------------------------------------------------
    bp_t = BandPower(SFREQ, n_per_seg=200, log=False)
    bp = run_group(
        {
            "scipy.signal.welch + band sums": lambda: scipy_welch_band_power(X, 200),
            "BandPower welch (function)": lambda: band_power(X, SFREQ, n_per_seg=200),
            "BandPower welch (transformer)": lambda: bp_t.fit_transform(X),
        },
        max(3, args.repeats // 3),
    )
    ref = bp["scipy.signal.welch + band sums"][0]
    for name, (best, med) in bp.items():
        rows.append(("BandPower", name, best, med, ref / best, float("nan")))

    # --- STFT -----------------------------------------------------------------------------
    st_t = STFTSpectrogram(SFREQ, n_fft=200, hop_length=100, log=False)
    st = run_group(
        {
            "scipy.signal.stft, |Z|": lambda: scipy_stft(X, 200, 100),
            "STFT (function)": lambda: stft_spectrogram(
                X, SFREQ, n_fft=200, hop_length=100, log=False
            ),
            "STFTSpectrogram (transformer)": lambda: st_t.fit_transform(X),
        },
        max(3, args.repeats // 3),
    )
    ref = st["scipy.signal.stft, |Z|"][0]
    for name, (best, med) in st.items():
        rows.append(("STFT", name, best, med, ref / best, float("nan")))

    header = (
        "| feature | variant | best (ms) | median (ms) | speed-up vs loop / scipy | "
        "x rfft roofline |\n|---|---|---:|---:|---:|---:|"
    )
    lines = [header]
    for feat, name, best, med, speed, vs_roof in rows:
        roof_s = "" if np.isnan(vs_roof) else f"{vs_roof:.2f}"
        lines.append(
            f"| {feat} | {name} | {best * 1e3:.1f} | {med * 1e3:.1f} | {speed:.1f}x | {roof_s} |"
        )
    table = "\n".join(lines)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    meta = (
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, torch {torch.__version__} with "
        f"{args.threads} threads, numpy {np.__version__}; load average at the end "
        f"{load:.1f}. Workload: {args.n_windows} x 62 x 400 float32 at 200 Hz, 5 bands; "
        f"{args.repeats} interleaved repeats."
    )
    print(meta)
    print(table)
    if args.write_results:
        cmd = "python benchmarks/features.py " + " ".join(argv or sys.argv[1:])
        _write_results(cmd.strip(), meta, table)
    return rows


def _write_results(cmd, meta, table):
    path = Path(__file__).with_name("RESULTS.md")
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    section = (
        "## Features\n\n"
        f"Command: `{cmd}`\n\n{meta}\n\n{table}\n\n"
        'Ratios use the best of the repeats. "speed-up vs loop" is the per-window loop\'s time '
        'divided by the variant\'s; "x rfft roofline" is the time of a bare `torch.fft.rfft` '
        "of the same batch divided by the variant's (1.0 = as fast as the FFT alone).\n"
    )
    start = text.find("## Features")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    path.write_text(text)
    print(f"updated {path}")


if __name__ == "__main__":
    main()
