"""GRU-XNet on the synthetic corpus: subject-wise and cross-dataset scores, and training cost.

Three parts (``--parts``, all by default):

- ``loso``: leave-one-subject-out on the default corpus of ``skemotion benchmark`` (emotiv14,
  6 subjects x 3 classes x 2 trials x 10 windows, effect size 1.0), GRU-XNet beside the
  majority and DE + logistic-regression baselines on the same folds (``run_benchmark``);
- ``cross``: leave one dataset out on the corpus of ``skemotion benchmark --protocol
  cross-dataset`` (seed62, deap32 and emotiv14 corpora of 6 subjects, harmonised to 128 Hz and
  their 14 common channels), same baselines;
- ``cost``: seconds per training window of the estimator's default configuration
  (``feature_pooling=1``) and of the canonical one (``feature_pooling=None``), both on the
  original 129 x 126 grid, with 14 and 62 channels, timed by ``fit`` on a few windows (after a
  warm-up fit) and scaled to one epoch of 360 windows.

The scored runs use a configuration sized for a CPU (``--filters``, ``--grid``, ...): the
default and canonical networks cost minutes per epoch there (see the ``cost`` part).

Usage: ``python benchmarks/gruxnet.py [--parts loso cross cost] [--epochs 20]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from skemotion.benchmark import format_table, register_model, run_benchmark
from skemotion.classifiers import GRUXNetClassifier
from skemotion.datasets import harmonize, make_eeg_emotion

MONTAGES = ("seed62", "deap32", "emotiv14")


def _cpu_config(args, sfreq):
    return dict(
        filters=tuple(args.filters),
        gru_hidden=args.gru_hidden,
        head_units=(64, 32),
        stft_shape=tuple(args.grid),
        sfreq=sfreq,
        max_epochs=args.epochs,
        lr=1e-3,
        batch_size=32,
        device="cpu",
    )


def _register(args, sfreq):
    def factory(ctx):
        return GRUXNetClassifier(**_cpu_config(args, sfreq), random_state=ctx.random_state)

    register_model("gruxnet_cpu", factory, label="GRU-XNet (CPU config)")


def _report(title, res, seconds):
    print(f"\n## {title}  ({seconds:.0f} s)")
    print(format_table(res.summary, chance=res.chance))
    for line in res.verdicts:
        print(line)
    per_fold = res.folds.pivot_table(index="fold", columns="model", values="balanced_accuracy")
    print(per_fold.round(3).to_string())


def part_loso(args):
    data = make_eeg_emotion("emotiv14", n_subjects=6, effect_size=1.0, random_state=0)
    _register(args, data.sfreq)
    t = time.perf_counter()
    res = run_benchmark(
        data.X, data.y, data.groups, data.trials, sfreq=data.sfreq, models=["gruxnet_cpu"],
        protocol="loso", device="cpu", plots=False, log=print,
    )  # fmt: skip
    _report("LOSO, emotiv14, 6 subjects, 3 classes", res, time.perf_counter() - t)


def part_cross(args):
    corpora = {
        m: make_eeg_emotion(m, n_subjects=6, effect_size=1.0, random_state=i)
        for i, m in enumerate(MONTAGES)
    }
    data = harmonize(corpora, sfreq=128.0, channels="intersection")
    _register(args, data.sfreq)
    t = time.perf_counter()
    res = run_benchmark(
        data.X, data.y, data.groups, data.trials, sfreq=data.sfreq, models=["gruxnet_cpu"],
        protocol="cross-dataset", domains=data.frame["dataset"].to_numpy(), device="cpu",
        plots=False, log=print,
    )  # fmt: skip
    _report(
        f"Leave one dataset out, {'+'.join(MONTAGES)} at 128 Hz, {len(data.ch_names)} common "
        f"channels, {data.X.shape[0]} windows",
        res,
        time.perf_counter() - t,
    )


def _time_fit(clf, X, y):
    t = time.perf_counter()
    clf.fit(X, y)
    return time.perf_counter() - t


def part_cost(args):
    rng = np.random.default_rng(0)
    print("\n## Cost per epoch (CPU, seconds per training window, extrapolated to 360 windows)")
    print("config            channels  params       batch  windows  s/window  s/epoch(360)")
    tiny = dict(filters=(2, 2, 4), gru_hidden=4, head_units=(4,), n_heads=2, stft_shape=(16, 16))
    warm = GRUXNetClassifier(**tiny, max_epochs=1, device="cpu", random_state=0)
    for n_ch, batch, n_win in ((14, 8, 32), (62, 2, 8)):
        X = (rng.standard_normal((n_win, n_ch, 256)) * 10).astype(np.float32)
        y = np.arange(n_win) % 2
        _time_fit(warm, X, y)
        for name, pooling in (("default", 1), ("canonical", None)):
            clf = GRUXNetClassifier(
                pooling, batch_size=batch, max_epochs=1, device="cpu", random_state=0
            )
            seconds = _time_fit(clf, X, y)
            n_params = sum(p.numel() for p in clf.net_.module_.parameters())
            per = seconds / n_win
            print(
                f"{name:<17} {n_ch:>8}  {n_params:>11,}  {batch:>5}  {n_win:>7}  {per:>8.2f}"
                f"  {per * 360:>12.0f}",
                flush=True,
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["loso", "cross", "cost"])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--filters", type=int, nargs=3, default=[8, 16, 32])
    parser.add_argument("--gru-hidden", type=int, default=32)
    parser.add_argument("--grid", type=int, nargs=2, default=[32, 32])
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
        f"{torch.__version__} with {torch.get_num_threads()} threads, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(f"CPU config: {_cpu_config(args, 128.0)}")
    for part in args.parts:
        {"loso": part_loso, "cross": part_cross, "cost": part_cost}[part](args)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
