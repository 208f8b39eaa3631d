"""Streaming latency: from a window's last sample to its published probabilities.

An amplifier is simulated on the loopback interface: a thread pushes a synthetic recording on
an LSL outlet in real time, each chunk of ``--chunk`` samples pushed once the time of its last
sample has come, every sample stamped with its time (``local_clock()`` at ``t0 + i / sfreq``).
:class:`skemotion.stream.StreamClassifier` reads it, classifies the newest window every hop
(0.5 s) and publishes the probabilities on an LSL outlet. The latency of a window is
:attr:`~skemotion.stream.StreamPrediction.latency`: ``local_clock()`` once its probabilities
were pushed, minus the timestamp of its last sample. It covers the transport, the reader's
polling, the model and the publication; the model's own time (``predict_proba`` of one
window, timed apart on the same windows) is given beside it.

Models (default architectures, fitted one epoch on the DEAP-like synthetic montage: 32
channels, 128 Hz, 2-s windows, 3 classes; the weights do not change the cost): EEGNet and
TS-STDN, each as the fitted estimator (PyTorch through skorch) and as its ONNX file
(:func:`skemotion.export.export_onnx`, run by ONNX Runtime).

Usage: ``python benchmarks/stream_latency.py [--windows 60] [--threads 2] [--chunk 16]``;
prints a markdown table (median and 99th percentile, ms). The goal: under 50 ms median at a
0.5-s hop.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import threading
import time
import uuid
import warnings

import numpy as np
import torch
from mne_lsl.lsl import StreamInfo, StreamOutlet, local_clock

from skemotion.classifiers import EEGNetClassifier, TSSTDNClassifier
from skemotion.datasets import make_eeg_emotion
from skemotion.export import export_onnx
from skemotion.stream import StreamClassifier

HOP_SECONDS = 0.5


class Amplifier(threading.Thread):
    """Pushes ``recording`` (n_samples, n_channels) in real time, chunk by chunk."""

    def __init__(self, recording, ch_names, sfreq, chunk):
        super().__init__(daemon=True)
        self.name_ = f"skemotion-bench-{uuid.uuid4().hex}"
        info = StreamInfo(self.name_, "EEG", len(ch_names), sfreq, "float32", self.name_)
        info.set_channel_names(list(ch_names))
        self.outlet = StreamOutlet(info, chunk_size=chunk)
        self.recording, self.sfreq, self.chunk = recording, sfreq, chunk
        self.halt = threading.Event()

    def run(self):
        self.outlet.wait_for_consumers(timeout=10)
        t0 = local_clock()
        for i in range(0, len(self.recording), self.chunk):
            if self.halt.is_set():
                return
            block = self.recording[i : i + self.chunk]
            stamps = t0 + (i + np.arange(len(block))) / self.sfreq
            time.sleep(max(0.0, stamps[-1] - local_clock()))
            self.outlet.push_chunk(np.ascontiguousarray(block), stamps)


def _predict_ms(model, windows):
    """Median milliseconds of predict_proba on one window."""
    for w in windows[:3]:
        model.predict_proba(w[None])
    times = []
    for w in windows:
        t = time.perf_counter()
        model.predict_proba(w[None])
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=60, help="windows per model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=16, help="samples per pushed chunk")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")

    data = make_eeg_emotion(
        "deap32", n_subjects=2, n_trials_per_class=1, n_windows_per_trial=8, random_state=0
    )
    X, y, sfreq = data.X.astype(np.float32), data.y, float(data.sfreq)
    ch_names = [str(c) for c in data.ch_names]
    n_times = X.shape[-1]
    seconds = n_times / sfreq + HOP_SECONDS * (args.windows + 2)
    repeats = int(np.ceil(seconds * sfreq / n_times))
    recording = np.concatenate([X[i % len(X)] for i in range(repeats)], axis=1).T.copy()
    common = dict(max_epochs=1, random_state=0, device="cpu")
    folder = tempfile.mkdtemp()
    rows = []
    for label, clf in (
        ("EEGNet", EEGNetClassifier(**common)),
        ("TS-STDN", TSSTDNClassifier(sfreq=sfreq, **common)),
    ):
        clf.fit(X, y)
        path = os.path.join(folder, f"{label}.onnx")
        export_onnx(clf, path)
        for runtime, model in (("PyTorch", clf), ("ONNX Runtime", path)):
            amp = Amplifier(recording, ch_names, sfreq, args.chunk)
            outlet = f"skemotion-out-{uuid.uuid4().hex}"
            streamer = StreamClassifier(model, stream_name=amp.name_, hop_seconds=HOP_SECONDS,
                                        sfreq=sfreq, outlet_name=outlet, timeout=10.0,
                                        log=lambda line: None)  # fmt: skip
            with streamer:
                amp.start()
                preds = streamer.run(max_windows=args.windows)
            amp.halt.set()
            latency = 1e3 * np.array([p.latency for p in preds])
            windows = np.stack([recording[p.sample - n_times + 1 : p.sample + 1].T for p in preds])
            model_ms = _predict_ms(streamer.model_, windows)
            rows.append((label, runtime, len(preds), np.median(latency),
                         np.percentile(latency, 99), latency.max(), model_ms))  # fmt: skip

    print(
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} threads, {len(ch_names)} channels x {n_times} samples at {sfreq:g} Hz, "
        f"hop {HOP_SECONDS} s, chunks of {args.chunk} samples, load average "
        f"{os.getloadavg()[0]:.2f}\n"
    )
    print(
        "| model | runtime | windows | latency median (ms) | latency p99 (ms) | latency max "
        "(ms) | predict_proba, 1 window, median (ms) |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, runtime, n, med, p99, worst, model_ms in rows:
        print(
            f"| {label} | {runtime} | {n} | {med:.1f} | {p99:.1f} | {worst:.1f} | {model_ms:.2f} |"
        )


if __name__ == "__main__":
    main()
