"""The ``skemotion`` command.

``skemotion benchmark`` runs the subject-wise (leave-one-subject-out) benchmark of
:mod:`skemotion.benchmark` on the built-in synthetic corpus, or on a dataset the user has
(``--dataset deap --data-path PATH``), prints the table and writes ``results.csv`` (one row per
model and fold) and ``summary.json`` to the output folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

SYNTHETIC_MONTAGES = ("seed62", "deap32", "emotiv14")


def _build_parser() -> argparse.ArgumentParser:
    from .benchmark import MODELS

    parser = argparse.ArgumentParser(prog="skemotion", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser(
        "benchmark",
        help="subject-wise LOSO benchmark of the deep models and baselines",
        description="Leave-one-subject-out benchmark (trial-safe) of the deep models beside a "
        "majority-class and a DE + logistic-regression baseline on the same folds.",
    )
    b.add_argument(
        "--dataset",
        default="synthetic",
        help="'synthetic' (built in, default) or a dataset you have: deap, seed, seed_iv, "
        "amigos, dreamer, gameemo, wesad (needs --data-path)",
    )
    b.add_argument("--data-path", type=Path, default=None, help="folder of your dataset copy")
    b.add_argument(
        "--montage",
        default="emotiv14",
        choices=SYNTHETIC_MONTAGES,
        help="synthetic montage (default emotiv14: 14 channels, 128 Hz, 2 s windows, so the "
        "default run takes minutes on a laptop CPU; deap32 is about 2x and seed62 about 7x the "
        "compute)",
    )
    b.add_argument(
        "--models",
        default=",".join(MODELS),
        help=f"comma-separated deep models (available: {','.join(MODELS)}; 'none' for "
        "baselines only)",
    )
    b.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="training epochs of every deep model (default: each model's own budget, e.g. 60 "
        "for EEGNet)",
    )
    b.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    b.add_argument("--precision", default="32", choices=["32", "bf16", "16-mixed"])
    b.add_argument("--n-subjects", type=int, default=6, help="synthetic subjects (LOSO folds)")
    b.add_argument(
        "--subjects", default=None, help="comma-separated subject ids to load (real datasets)"
    )
    b.add_argument("--window-seconds", type=float, default=None, help="window length (s)")
    b.add_argument("--effect-size", type=float, default=1.0, help="synthetic difficulty knob")
    b.add_argument("--max-folds", type=int, default=None, help="stop after this many folds")
    b.add_argument("--random-state", type=int, default=0)
    b.add_argument("--output", type=Path, default=Path("skemotion_results"))
    b.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _load_data(args):
    from .datasets import make_eeg_emotion

    if args.dataset == "synthetic":
        kwargs = {}
        if args.window_seconds is not None:
            kwargs["window_seconds"] = args.window_seconds
        return make_eeg_emotion(
            args.montage,
            n_subjects=args.n_subjects,
            effect_size=args.effect_size,
            random_state=args.random_state,
            **kwargs,
        )
    from . import datasets

    loaders = getattr(datasets, "LOADERS", {})
    if args.dataset not in loaders:
        raise SystemExit(
            f"skemotion benchmark: unknown --dataset {args.dataset!r}; available: "
            f"{['synthetic', *sorted(loaders)]}"
        )
    if args.data_path is None:
        raise SystemExit(f"skemotion benchmark: --dataset {args.dataset} needs --data-path PATH")
    kwargs = {}
    if args.subjects:
        kwargs["subjects"] = [
            int(s) if s.strip().isdigit() else s.strip() for s in args.subjects.split(",")
        ]
    if args.window_seconds is not None:
        kwargs["window_seconds"] = args.window_seconds
    return loaders[args.dataset](args.data_path, verbose=not args.quiet, **kwargs)


def benchmark(args) -> int:
    from .benchmark import MODELS, BenchmarkContext, format_table, run_benchmark, summarize

    models = [] if args.models.strip() == "none" else [m.strip() for m in args.models.split(",")]
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise SystemExit(f"skemotion benchmark: unknown models {unknown}; available {list(MODELS)}")
    t0 = time.perf_counter()
    data = _load_data(args)
    X, y = data.X, np.asarray(data.y)
    n_subj = len(np.unique(data.groups))
    if n_subj < 2:
        raise SystemExit("skemotion benchmark: leave-one-subject-out needs at least 2 subjects")
    ctx = BenchmarkContext(
        sfreq=data.sfreq,
        n_channels=X.shape[1],
        n_times=X.shape[2],
        n_classes=len(np.unique(y)),
        epochs=args.epochs,
        device=args.device,
        precision=args.precision,
        random_state=args.random_state,
    )
    print(
        f"dataset {args.dataset}: {X.shape[0]} windows of {X.shape[1]} channels x {X.shape[2]} "
        f"samples ({data.sfreq:g} Hz), {n_subj} subjects, {ctx.n_classes} classes "
        f"{list(data.target_names)}; protocol: leave-one-subject-out",
        flush=True,
    )
    results = run_benchmark(
        X,
        y,
        np.asarray(data.groups),
        np.asarray(data.trials),
        ctx=ctx,
        models=models,
        max_folds=args.max_folds,
        progress=not args.quiet,
    )
    summary = summarize(results)
    chance = 1.0 / ctx.n_classes
    table = format_table(summary, chance=chance)
    print(table)
    args.output.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.output / "results.csv", index=False)
    payload = {
        "dataset": args.dataset,
        "montage": args.montage if args.dataset == "synthetic" else None,
        "protocol": "leave-one-subject-out",
        "n_windows": int(X.shape[0]),
        "n_subjects": int(n_subj),
        "classes": [str(c) for c in data.target_names],
        "epochs": args.epochs,
        "device": args.device,
        "precision": args.precision,
        "random_state": args.random_state,
        "chance": chance,
        "summary": summary.reset_index().to_dict(orient="records"),
        "wall_time_s": time.perf_counter() - t0,
    }
    (args.output / "summary.json").write_text(json.dumps(payload, indent=2, default=float))
    print(f"results written to {args.output}/results.csv and summary.json")
    return 0


def main(argv=None) -> int:
    args = _build_parser().parse_args(argv)
    if args.command == "benchmark":
        return benchmark(args)
    return 2  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
