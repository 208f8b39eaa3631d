"""The benchmark on a Dask ``LocalCluster`` against the same benchmark run serially.

Workload: the synthetic SEED-like corpus (:func:`skemotion.datasets.make_eeg_emotion`,
``seed62``: 62 channels at 200 Hz, 2 s windows), 15 subjects by default, leave-one-subject-out
(15 folds), the baselines (majority, DE + logistic regression) and EEGNet for one epoch, run by
:func:`skemotion.benchmark.run_benchmark` as ``skemotion benchmark`` runs it:

- **serial**: ``n_jobs=1`` in this process, torch with 2 threads (what a user gets by default)
  and again with 1 thread;
- **joblib processes**: ``n_jobs=2`` without Dask (joblib's own process pool, loky), one
  thread per process, for comparison;
- **dask**: a ``distributed.LocalCluster`` of 2 worker processes with 1 thread each (and
  ``OMP_NUM_THREADS=1``), ``n_jobs=-1`` inside ``joblib.parallel_backend("dask")``. The
  benchmark scatters the windows and labels to the workers once for the whole run (a
  broadcast), so no task carries the data; the script counts the scatter calls and the bytes
  they sent.

Memory: the resident set (RSS) and its anonymous part (``RssAnon`` of ``/proc``, what the
process itself allocated) of every worker, sampled every 0.2 s, and the peak of this process.
The fold scores of the two runs are compared (EEGNet on one thread per process reproduces the
serial numbers only where torch's kernels are deterministic; the baselines must match exactly).

Usage::

    python benchmarks/dask_scaling.py [--subjects 15] [--windows-per-trial 20] [--epochs 1]

Prints the machine, the data size and a markdown table for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import threading
import time

import numpy as np


def _rss_anon() -> tuple[int, int]:
    """(RSS, RssAnon) of the calling process in bytes (Linux ``/proc``)."""
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                fields[key] = int(value.split()[0]) * 1024
    return fields.get("VmRSS", 0), fields.get("RssAnon", 0)


def _run(data, *, n_jobs, epochs, output):
    from skemotion.benchmark import run_benchmark

    t0 = time.perf_counter()
    res = run_benchmark(
        data.X, data.y, data.groups, data.trials, sfreq=data.sfreq, models=["eegnet"],
        epochs=epochs, device="cpu", n_jobs=n_jobs, output=output, plots=False,
        progress=False, ch_names=list(data.ch_names),
    )  # fmt: skip
    return time.perf_counter() - t0, res.folds.sort_values(["model", "fold"]).reset_index()


def _serial(data, epochs, threads, folder):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _run(data, n_jobs=1, epochs=epochs, output=f"{folder}/serial{threads}")
    finally:
        torch.set_num_threads(before)


def _on_cluster(data, epochs, folder):
    import distributed
    import joblib

    os.environ["OMP_NUM_THREADS"] = "1"  # inherited by the worker processes
    peaks: dict[str, list[int]] = {}
    sent = []
    real_scatter = distributed.Client.scatter

    def counting_scatter(self, items, *args, **kwargs):
        seq = items if isinstance(items, list | tuple) else [items]
        sent.append(sum(int(getattr(x, "nbytes", 0)) for x in seq))
        return real_scatter(self, items, *args, **kwargs)

    distributed.Client.scatter = counting_scatter
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster:  # fmt: skip
            with distributed.Client(cluster) as client:
                client.run(lambda: __import__("torch").set_num_threads(1))
                base = client.run(_rss_anon)
                stop = threading.Event()

                def sample():
                    while not stop.is_set():
                        try:
                            for w, (rss, anon) in client.run(_rss_anon).items():
                                old = peaks.get(w, [0, 0])
                                peaks[w] = [max(old[0], rss), max(old[1], anon)]
                        except Exception:  # the cluster is closing
                            return
                        stop.wait(0.2)

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                try:
                    with joblib.parallel_backend("dask"):
                        seconds, folds = _run(data, n_jobs=-1, epochs=epochs,
                                              output=f"{folder}/dask")  # fmt: skip
                finally:
                    stop.set()
                    sampler.join()
    finally:
        distributed.Client.scatter = real_scatter
    return seconds, folds, peaks, base, sent


def main() -> None:
    import tempfile

    import torch

    from skemotion.datasets import make_eeg_emotion

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--subjects", type=int, default=15)
    p.add_argument("--windows-per-trial", type=int, default=20)
    p.add_argument("--epochs", type=int, default=1)
    args = p.parse_args()

    data = make_eeg_emotion("seed62", n_subjects=args.subjects,
                            n_windows_per_trial=args.windows_per_trial, random_state=0)  # fmt: skip
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__}")  # fmt: skip
    print(f"data: {data.X.shape[0]} windows x {data.X.shape[1]} channels x {data.X.shape[2]} "
          f"samples = {data.X.nbytes / 1e6:.0f} MB float32, {args.subjects} subjects (LOSO, "
          f"{args.subjects} folds); majority, de_lr, eegnet ({args.epochs} epoch)")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        warm = make_eeg_emotion("seed62", n_subjects=2, n_windows_per_trial=2, random_state=0)
        _run(warm, n_jobs=1, epochs=1, output=f"{folder}/warm-up")  # imports, first calls
        rows = []
        for threads in (2, 1):
            seconds, folds = _serial(data, args.epochs, threads, folder)
            rows.append((f"serial, torch {threads} thread(s)", seconds, folds))
            if threads == 2:
                reference = folds
        os.environ["OMP_NUM_THREADS"] = "1"  # inherited by joblib's worker processes
        seconds, loky = _run(data, n_jobs=2, epochs=args.epochs, output=f"{folder}/loky")
        rows.append(("joblib processes (loky), n_jobs=2 x 1 thread", seconds, loky))
        seconds, folds, peaks, base, sent = _on_cluster(data, args.epochs, folder)
        rows.append(("LocalCluster, 2 workers x 1 thread", seconds, folds))
    main_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    cols = ["model", "fold", "balanced_accuracy"]
    base_models = folds["model"].isin(["majority", "de_lr"])
    same_baselines = reference.loc[base_models, cols].equals(folds.loc[base_models, cols])
    eeg = folds["model"] == "eegnet"
    diff = np.abs(reference.loc[eeg, "balanced_accuracy"].to_numpy()
                  - folds.loc[eeg, "balanced_accuracy"].to_numpy()).max()  # fmt: skip
    print()
    print("| run | wall time (s) | speed-up vs serial, 2 threads | vs serial, 1 thread | "
          "sum of EEGNet fold fit times (s) |")  # fmt: skip
    print("|---|---|---|---|---|")
    for name, seconds, f in rows:
        fit = f.loc[f["model"] == "eegnet", "fit_time_s"].sum()
        print(f"| {name} | {seconds:.1f} | {rows[0][1] / seconds:.2f}x | "
              f"{rows[1][1] / seconds:.2f}x | {fit:.1f} |")  # fmt: skip
    print()
    print("| worker | RSS before (MB) | peak RSS (MB) | peak RssAnon (MB) |")
    print("|---|---|---|---|")
    for w, (rss, anon) in sorted(peaks.items()):
        print(f"| {w} | {base[w][0] / 1e6:.0f} | {rss / 1e6:.0f} | {anon / 1e6:.0f} |")
    print()
    print(f"scatter calls: {len(sent)}, bytes sent by them: {sum(sent) / 1e6:.0f} MB "
          f"(X is {data.X.nbytes / 1e6:.0f} MB)")  # fmt: skip
    print(f"peak RSS of this process (serial runs included): {main_peak / 1e6:.0f} MB")
    print(f"baselines' fold scores identical to the serial run: {same_baselines}; EEGNet "
          f"largest fold difference: {diff:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
