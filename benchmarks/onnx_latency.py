"""Inference latency and throughput: ONNX Runtime vs PyTorch eager, per exported classifier.

For every classifier that :func:`skemotion.export.export_onnx` exports, at its default
architecture on the DEAP-like synthetic montage (32 channels, 128 Hz, 2 s windows, 3 classes;
fitted for one epoch: the weights do not change the cost), this measures

- one-window latency (median and 99th percentile over ``--repeats`` calls, after warm-up) of
  ``clf.predict_proba(x)`` (PyTorch eager, through skorch) and of the ONNX model in ONNX Runtime;
- throughput (windows per second) at batch 64, from the median of ``--repeats // 5`` calls.

SST-EmotionNet is timed twice: exported from raw windows (its electrode maps inside the
model), and without its input stage (``include_preprocessing=False``), the ONNX timings then
including the numpy preparation ``clf._prepare(X)`` that feeds the model, so every path starts
from raw windows. TS-STDN (its STFT features and both U-Nets) and GRU-XNet (its log-STFT
images) are exported from raw windows, their input stage inside the model. Both runtimes use
the same number of threads (``--threads``).

Usage: ``python benchmarks/onnx_latency.py [--repeats 200] [--threads 2]``; prints a markdown
table (ratios: PyTorch / ONNX Runtime for latency, ONNX Runtime / PyTorch for throughput).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import warnings

import numpy as np
import onnxruntime as ort
import torch

from skemotion.classifiers import (
    EEGNetClassifier,
    GRUXNetClassifier,
    SSTEmotionNetClassifier,
    TSSTDNClassifier,
)
from skemotion.datasets import make_eeg_emotion
from skemotion.export import export_onnx

BATCH = 64


def _times(fn, repeats, warmup=5):
    for _ in range(warmup):
        fn()
    out = np.empty(repeats)
    for i in range(repeats):
        t = time.perf_counter()
        fn()
        out[i] = time.perf_counter() - t
    return out


def _session(path, threads):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")

    data = make_eeg_emotion(
        "deap32", n_subjects=2, n_trials_per_class=1, n_windows_per_trial=8, random_state=0
    )
    X, y = data.X.astype(np.float32), data.y
    rng = np.random.default_rng(1)
    windows = X[rng.integers(0, len(X), BATCH)]
    one = windows[:1]
    common = dict(max_epochs=1, random_state=0, device="cpu")
    sst = SSTEmotionNetClassifier(data.ch_names, sfreq=data.sfreq, **common)
    models = [
        ("EEGNet", EEGNetClassifier(**common), True),
        ("SST-EmotionNet", sst, True),
        ("SST-EmotionNet", sst, False),
        ("TS-STDN", TSSTDNClassifier(sfreq=data.sfreq, **common), True),
        ("GRU-XNet", GRUXNetClassifier(sfreq=data.sfreq, **common), True),
    ]
    rows = []
    folder = tempfile.mkdtemp()
    for label, clf, with_stage in models:
        clf.fit(X, y)
        path = os.path.join(folder, f"{label}-{with_stage}.onnx")
        diff = export_onnx(clf, path, include_preprocessing=with_stage)
        session = _session(path, args.threads)
        names = [i.name for i in session.get_inputs()]

        def onnx_proba(x, clf=clf, session=session, names=names, with_stage=with_stage):
            if with_stage:
                feeds = {names[0]: x}
            else:
                prepared = clf._prepare(x)
                feeds = {k: np.ascontiguousarray(prepared[k], dtype=np.float32) for k in names}
            return session.run(None, feeds)[0]

        parity = float(np.max(np.abs(onnx_proba(windows) - clf.predict_proba(windows))))
        lat_pt = _times(lambda clf=clf: clf.predict_proba(one), args.repeats) * 1e3
        lat_ox = _times(lambda f=onnx_proba: f(one), args.repeats) * 1e3
        n_batch = max(5, args.repeats // 5)
        thr_pt = BATCH / np.median(_times(lambda clf=clf: clf.predict_proba(windows), n_batch))
        thr_ox = BATCH / np.median(_times(lambda f=onnx_proba: f(windows), n_batch))
        rows.append(
            (
                label + ("" if with_stage else " (network; numpy prepare)"),
                np.median(lat_pt),
                np.percentile(lat_pt, 99),
                np.median(lat_ox),
                np.percentile(lat_ox, 99),
                thr_pt,
                thr_ox,
                max(diff, parity),
            )
        )

    print(
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}, onnxruntime "
        f"{ort.__version__}, {args.threads} threads, {data.X.shape[1]} channels x "
        f"{data.X.shape[2]} samples, {args.repeats} one-window calls, batch {BATCH}\n"
    )
    print(
        "| classifier | PyTorch 1-window median / p99 (ms) | ONNX Runtime 1-window median / "
        "p99 (ms) | latency ratio (median) | PyTorch windows/s @64 | ONNX Runtime windows/s "
        "@64 | throughput ratio | max abs diff |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, mp, pp, mo, po, tp, to, d in rows:
        print(
            f"| {name} | {mp:.2f} / {pp:.2f} | {mo:.2f} / {po:.2f} | {mp / mo:.1f}x | "
            f"{tp:.0f} | {to:.0f} | {to / tp:.1f}x | {d:.1e} |"
        )


if __name__ == "__main__":
    main()
