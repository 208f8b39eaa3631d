"""The ``skemotion`` command.

``skemotion benchmark`` runs the subject-wise benchmark of :mod:`skemotion.benchmark` on the
built-in synthetic corpus, or on a dataset the user has (``--dataset deap --data-path PATH``),
prints the table and one verdict per model, and writes the results to the output folder. Every
option value is checked before any data are loaded or models trained: the data options here, the
run options (models, protocol, seeds, device ...) by the benchmark's one check of its options,
the one :func:`~skemotion.benchmark.run_benchmark` uses too. A bad value is a one-line usage
error naming the option (exit status 2). Ctrl-C stops the run with exit status 130, keeping the
folds already finished; the same command continues from them.

``skemotion stream MODEL --name NAME`` classifies a Lab Streaming Layer stream in real time with
a fitted model saved with joblib (:class:`skemotion.stream.StreamClassifier`), printing the
probabilities of every hop.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

SYNTHETIC_MONTAGES = ("seed62", "deap32", "emotiv14")
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM

_DESCRIPTION = "scikit-learn-compatible emotion recognition from EEG and ECG."
_BENCH_DESCRIPTION = """\
Subject-wise benchmark of the deep models beside a majority-class and a DE + logistic
regression baseline on the same folds, with a paired Wilcoxon test of every model against
both. Windows of one trial are never on both sides of a split, whatever the protocol.

Protocols: loso (leave one subject out, the default), group-kfold (k folds of whole
subjects), subject-dependent (within each subject, k folds of whole trials){cross}.

The output folder receives results.csv (one row per model, seed and fold), subjects.csv (per
test subject), summary.csv, comparisons.csv, summary.json, results.json (the full record:
command, package versions, devices, seeds) and plots/*.png (with matplotlib). Files are
replaced atomically. An interrupted run (Ctrl-C, exit status 130) keeps its finished folds:
run the same command again to continue."""
_EPILOG = """\
examples:
  skemotion benchmark                                   default run (2-4.5 min on 2 cores)
  skemotion benchmark --models eegnet --epochs 5 --seeds 0 1 2
  skemotion benchmark --protocol subject-dependent --n-jobs 4
  skemotion benchmark --dataset deap --data-path ~/data/deap --subjects 1,2,3,4
  skemotion benchmark --scheduler tcp://10.0.0.5:8786 --device cuda --precision bf16"""


def _type(checker, noun: str | None = None):
    """An argparse ``type`` from a checker of :mod:`skemotion.benchmark._options`: a list of
    checked values (spaces or commas); ``noun`` starts the message of a bad value."""
    from .benchmark._options import split_list

    def convert(text):
        try:
            values = [checker(v) for v in split_list(text)]
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{noun} {exc}" if noun else str(exc)) from None
        if not values:
            raise argparse.ArgumentTypeError(f"needs a value; got {text!r}")
        return values

    convert.__name__ = checker.__name__.removeprefix("check_")
    return convert


def _scalar(checker, noun: str | None = None):
    convert = _type(checker, noun)

    def one(text):
        values = convert(text)
        if len(values) != 1:
            raise argparse.ArgumentTypeError(f"takes one value; got {text!r}")
        return values[0]

    one.__name__ = convert.__name__
    return one


def _existing_path(text):
    path = Path(text).expanduser()
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such file or folder: {text!r}")
    return path


def _choices(values) -> str:
    """The metavar of an option with a few allowed values: ``{a,b,c}``."""
    return "{" + ",".join(values) + "}"


def _cross_dataset_available() -> bool:
    from . import datasets

    return hasattr(datasets, "harmonize")


class _Parser(argparse.ArgumentParser):
    """Options spelled out in full (no abbreviations: ``--model`` is not ``--models``), and
    the closest option suggested for an unknown one."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        unknown = [a.split("=")[0] for a in extras if a.startswith("--")]
        if unknown and self._subparsers is None:
            import difflib

            known = [o for a in self._actions for o in a.option_strings if o.startswith("--")]
            hints = []
            for option in unknown:
                close = difflib.get_close_matches(option, known, n=1, cutoff=0.6)
                if close:
                    hints.append(f"{option}: did you mean {close[0]}?")
            if hints:
                self.error(f"unrecognized arguments: {' '.join(extras)} ({'; '.join(hints)})")
        return namespace, extras


def build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The ``skemotion`` parser and its ``benchmark`` sub-parser.

    The parser only reads the options: the data options are checked by their types, the run
    options (models, protocol, seeds, device ...) by
    :func:`skemotion.benchmark._options.check_options`, in :func:`benchmark`.
    """
    from . import __version__

    parser = _Parser(prog="skemotion", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"skemotion {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    cross = (
        ",\ncross-dataset (leave one dataset out: synthetic seed62, deap32 and emotiv14 corpora\n"
        "resampled to 128 Hz on their common channels)"
        if _cross_dataset_available()
        else ""
    )
    b = sub.add_parser(
        "benchmark",
        help="subject-wise benchmark of the models and the baselines (run with --help)",
        description=_BENCH_DESCRIPTION.format(cross=cross),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for add in (_data_arguments, _protocol_arguments, _model_arguments, _run_arguments):
        add(b)
    _stream_arguments(sub)
    return parser, b


_STREAM_DESCRIPTION = """\
Real-time emotion inference from a Lab Streaming Layer (LSL) stream (needs
skemotion[stream]). MODEL is a fitted classifier or pipeline saved with joblib.dump, or an .onnx
file written by skemotion.export.export_onnx (run with ONNX Runtime). Every hop,
the newest full window is classified with predict_proba; the probabilities are printed, published
on an LSL outlet (one channel per class, stamped with the window's last sample) and optionally
written to a CSV file; each printed line ends with the latency from the window's last sample to
the publication. The stream's rate and channels are checked against the model (--resample
accepts another rate). Ctrl-C, --duration or --max-windows stop it."""
_STREAM_EPILOG = """\
examples:
  skemotion stream model.joblib --type EEG --window-seconds 2
  skemotion stream model.joblib --name MyEEG --hop 0.25 --csv proba.csv --duration 60
  skemotion stream model.joblib --name MyEEG --pick Fp1 Fp2 F3 F4
  skemotion stream eegnet.onnx --name MyEEG --resample"""


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"needs a number; got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"needs a finite number > 0; got {text!r}")
    return value


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"needs an integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"needs an integer >= 1; got {text!r}")
    return value


def _names(text):
    names = [n for n in text.replace(",", " ").split() if n]
    if not names:
        raise argparse.ArgumentTypeError(f"needs a channel name; got {text!r}")
    return names


def _stream_arguments(sub) -> None:
    """The ``stream`` sub-command (its imports wait for the command to run)."""
    s = sub.add_parser(
        "stream",
        help="real-time emotion inference from an LSL stream (run with --help)",
        description=_STREAM_DESCRIPTION,
        epilog=_STREAM_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("model", type=_existing_path, metavar="MODEL",
                   help="fitted estimator saved with joblib.dump, or an .onnx file written by "
                   "export_onnx")  # fmt: skip
    which = s.add_mutually_exclusive_group(required=True)
    which.add_argument("--name", help="name of the LSL stream to read")
    which.add_argument("--type", help="type of the LSL stream to read (e.g. EEG)")
    s.add_argument("--hop", type=_positive_float, default=0.5, metavar="S",
                   help="seconds between two classified windows (default 0.5)")  # fmt: skip
    s.add_argument("--window-seconds", type=_positive_float, metavar="S",
                   help="window length (default: the model's own; needed for feature "
                   "pipelines, which accept any length)")  # fmt: skip
    s.add_argument(
        "--pick",
        nargs="+",
        type=_names,
        metavar="CH",
        help="stream channels fed to the model, in its order (spaces or commas)",
    )
    s.add_argument(
        "--ch-names",
        nargs="+",
        type=_names,
        metavar="CH",
        help="channels the model was fitted on, when it cannot tell",
    )
    s.add_argument(
        "--sfreq",
        type=_positive_float,
        metavar="HZ",
        help="sampling rate the model was fitted at, when it cannot tell",
    )
    s.add_argument(
        "--resample",
        action="store_true",
        help="accept a stream at another rate than the model's: resample every window to the "
        "model's rate (polyphase filter)",
    )
    s.add_argument(
        "--outlet",
        default="skemotion",
        metavar="NAME",
        help="name of the LSL outlet of the probabilities (default skemotion)",
    )
    s.add_argument(
        "--csv",
        type=Path,
        metavar="FILE",
        help="write one row per window: timestamp, one column per class",
    )
    s.add_argument("--duration", type=_positive_float, metavar="S", help="stop after S seconds")
    s.add_argument("--max-windows", type=_positive_int, metavar="N",
                   help="stop after N windows")  # fmt: skip
    s.add_argument("--timeout", type=_positive_float, default=10.0, metavar="S",
                   help="seconds to wait for the stream (default 10)")  # fmt: skip
    s.add_argument(
        "--stall",
        type=_positive_float,
        default=2.0,
        metavar="S",
        help="report a stall after S seconds without samples (default 2)",
    )


def _stream_words(exc) -> str:
    """A :class:`~skemotion.stream.StreamClassifier` message in the command's words."""
    text = str(exc).splitlines()[0].removeprefix("StreamClassifier: ")
    for api, option in (("window_seconds", "--window-seconds"), ("pick=[...]", "--pick"),
                        ("ch_names=", "--ch-names "), ("sfreq=", "--sfreq "),
                        ("resample=True", "--resample")):  # fmt: skip
        text = text.replace(api, option)
    return text


def stream(s, args) -> int:
    """Run ``skemotion stream`` with parsed ``args``; return the exit status."""
    try:
        from .stream import StreamClassifier
    except ImportError as exc:  # pragma: no cover - the module imports numpy only
        s.error(str(exc))
    try:
        clf = StreamClassifier(
            str(args.model), stream_name=args.name, stream_type=args.type,
            window_seconds=args.window_seconds, hop_seconds=args.hop,
            pick=_flat(args.pick), ch_names=_flat(args.ch_names), sfreq=args.sfreq,
            resample=args.resample, outlet_name=args.outlet,
            csv_path=None if args.csv is None else args.csv.expanduser(), timeout=args.timeout,
            stall_seconds=args.stall,
        )  # fmt: skip
    except (ValueError, TypeError) as exc:
        s.error(f"argument MODEL: {args.model}: {_stream_words(exc)}")
    except Exception as exc:  # noqa: BLE001 - an unreadable file: one line, no traceback
        s.error(f"argument MODEL: cannot load {str(args.model)!r} ({type(exc).__name__}: {exc})")
    if args.csv is not None and not args.csv.expanduser().resolve().parent.is_dir():
        s.error(f"argument --csv: no such folder: {str(args.csv.parent)!r}")
    try:
        clf.open()
    except (ImportError, TimeoutError, ValueError) as exc:
        option = "--name" if args.name is not None else "--type"
        s.error(f"argument {option}: {_stream_words(exc)}")
    except OSError as exc:  # the CSV file (TimeoutError, an OSError too, is above)
        s.error(f"argument --csv: cannot write {str(args.csv)!r} ({exc.strerror or exc})")
    resampled = ""
    if clf.resampling_ is not None:
        resampled = f" (resampled to {clf.n_times_} at {clf.model_input_['sfreq']:g} Hz)"
    print(f"stream {clf.stream_name_!r}: {len(clf.ch_names_)} channels at {clf.sfreq_:g} Hz; "
          f"windows of {clf.window_samples_} samples{resampled} every {clf.hop_samples_}; classes "
          f"{', '.join(map(str, clf.classes_))}"
          + (f"; outlet {args.outlet!r}" if args.outlet else ""), flush=True)  # fmt: skip
    try:
        for pred in clf.iter(max_windows=args.max_windows, duration=args.duration):
            probs = "  ".join(f"{c}={p:.3f}" for c, p in zip(clf.classes_, pred.proba))
            print(f"{pred.timestamp:.3f}  {probs}  -> {pred.label}  "
                  f"({1e3 * pred.latency:.1f} ms)", flush=True)  # fmt: skip
    finally:
        clf.close()
    return EXIT_INTERRUPTED if clf.interrupted_ else 0


def _data_arguments(b) -> None:
    from .benchmark._options import (
        check_int_at_least,
        check_nonnegative_float,
        check_positive_float,
        check_positive_int,
        check_seed,
    )
    from .datasets import LOADERS

    d = b.add_argument_group("data")
    d.add_argument("--dataset", default="synthetic", choices=["synthetic", *LOADERS],
                   help="synthetic: the built-in corpus (default); otherwise a dataset you "
                   "have, read from --data-path")  # fmt: skip
    d.add_argument("--data-path", type=_existing_path, metavar="PATH",
                   help="your copy of --dataset")  # fmt: skip
    d.add_argument("--cache-dir", type=Path, metavar="DIR",
                   help="window cache folder for --dataset: the first run writes the windows "
                   "there once, later runs map them from disk instead of reading the dataset "
                   "(memory bounded by the page cache, not the data size)")  # fmt: skip
    d.add_argument("--subjects", nargs="+", type=_type(check_positive_int), metavar="ID",
                   help="subjects to load from --data-path (ids >= 1, spaces or commas; "
                   "default all)")  # fmt: skip
    d.add_argument("--montage", choices=SYNTHETIC_MONTAGES,
                   help="synthetic montage (default emotiv14: 14 channels, 128 Hz; deap32 costs "
                   "about 2x and seed62 about 7x the compute)")  # fmt: skip
    d.add_argument("--n-subjects", type=_scalar(check_int_at_least(2)), metavar="N",
                   help="synthetic subjects, at least 2 (default 6)")  # fmt: skip
    d.add_argument("--effect-size", type=_scalar(check_nonnegative_float), metavar="X",
                   help="synthetic class effect, >= 0 (0: no class information; default "
                   "1.0)")  # fmt: skip
    d.add_argument("--data-seed", type=_scalar(check_seed, "seeds"), metavar="N",
                   help="seed of the synthetic corpus, >= 0 (default 0)")  # fmt: skip
    d.add_argument("--window-seconds", type=_scalar(check_positive_float), metavar="S",
                   help="window length in seconds, > 0 (default: 2 for the synthetic corpus, "
                   "4 for its EEG + ECG version, the loader's own otherwise)")  # fmt: skip
    d.add_argument("--modality", choices=list(_MODALITY_DATA), default="eeg",
                   help="eeg (default): the EEG and the EEG models; ecg: the ECG models "
                   "(hrv_lr, sslecg) on EEG + ECG windows; fusion: EEG + ECG fusion (hrv_lr, "
                   "fusion_early, fusion_late); the EEG baseline de_lr reads the EEG channels. "
                   "Data with ECG: the synthetic EEG + ECG corpus, dreamer, amigos")  # fmt: skip


def _protocol_arguments(b) -> None:
    from .benchmark import PROTOCOLS

    protocols = [p for p in PROTOCOLS if p != "cross-dataset" or _cross_dataset_available()]
    p = b.add_argument_group("protocol")
    p.add_argument("--protocol", metavar=_choices(protocols),
                   help="evaluation protocol (default loso); see above")  # fmt: skip
    p.add_argument("--n-splits", metavar="K",
                   help="folds of group-kfold (default 5) or per subject in subject-dependent "
                   "(default: the fewest trials a subject has of one class, 2 to 5)")  # fmt: skip
    p.add_argument("--max-folds", metavar="N",
                   help="only the first N folds, N >= 1 (a quick look)")  # fmt: skip


def _model_arguments(b) -> None:
    from .benchmark import ALIGNMENTS, PRECISIONS, RECIPES, REGISTRY

    models = [n for n, s in REGISTRY.items() if not s.baseline]
    default = [n for n, s in REGISTRY.items() if s.default and not s.baseline]
    m = b.add_argument_group("models")
    m.add_argument("--models", nargs="+", metavar="NAME",
                   help=f"models to run, spaces or commas (available: {', '.join(models)}; "
                   f"default: {', '.join(default)}); the baselines "
                   f"{' and '.join(n for n, s in REGISTRY.items() if s.baseline)} always run; "
                   "none: the baselines only")  # fmt: skip
    if len(ALIGNMENTS) > 1:
        m.add_argument("--align", nargs="+", metavar="NAME",
                       help="per-subject, label-free alignment before every model and baseline; "
                       f"several values run each on the same folds ({', '.join(ALIGNMENTS)}; "
                       "default none)")  # fmt: skip
    m.add_argument("--recipe", metavar=_choices(RECIPES),
                   help="cross-subject training options of every deep model: adversarial "
                   "(subject-adversarial features, weight 0.3), adabn (batch-norm statistics of "
                   "each test subject), augment (time shift, scaling, channel dropout, band "
                   "noise, frequency shift, mixup), all (the three); default: none. Compared in "
                   "benchmarks/generalisation.py")  # fmt: skip
    if "euclidean" in ALIGNMENTS:
        m.add_argument("--shrinkage", metavar="S",
                       help="shrinkage of the Euclidean alignment's reference covariances, "
                       "0 <= S < 1 (default 0; singular covariances, e.g. average-referenced "
                       "data such as DEAP's preprocessed copy, need a little: 0.01)")  # fmt: skip
    m.add_argument("--epochs", metavar="N",
                   help="training epochs of every deep model, N >= 1 (default: each model's own "
                   "budget, e.g. 60 for EEGNet; results.csv records what ran)")  # fmt: skip
    m.add_argument("--seeds", nargs="+", metavar="S",
                   help="training seeds, >= 0; every model runs once per seed on the same folds "
                   "(default 0)")  # fmt: skip
    m.add_argument("--device", metavar="DEVICE",
                   help="device of the deep models: auto (CUDA when available, the default), "
                   "cpu, cuda, cuda:N")  # fmt: skip
    m.add_argument("--precision", metavar=_choices(PRECISIONS),
                   help="training precision of the deep models (default 32; bf16 also on CPU; "
                   "16-mixed on CUDA only)")  # fmt: skip


def _run_arguments(b) -> None:
    e = b.add_argument_group("execution")
    e.add_argument("--n-jobs", metavar="N",
                   help="folds run in parallel through joblib (default 1; -1: all cores, or all "
                   "workers of --scheduler)")  # fmt: skip
    e.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the folds on a Dask cluster through joblib's dask backend, e.g. "
                   "tcp://host:8786 (needs skemotion[dask]); start single-threaded workers (dask "
                   "worker ADDRESS --nworkers N --nthreads 1): trainings side by side in one "
                   "process share torch's random generator and may not reproduce the serial "
                   "numbers")  # fmt: skip
    o = b.add_argument_group("output")
    o.add_argument("--output", type=Path, default=Path("skemotion_results"), metavar="DIR",
                   help="results folder (default skemotion_results). One configuration (data, "
                   "protocol, epochs, device, precision, recipe) per folder, checked before any "
                   "work: the same command continues from the folds the folder holds; other "
                   "models, alignments or seeds add to it and its tables cover them all; "
                   "another configuration is refused (use another folder)")  # fmt: skip
    o.add_argument("--overwrite", action="store_true",
                   help="discard results of another configuration found in --output")  # fmt: skip
    o.add_argument("--no-plots", action="store_true", help="do not write the PNG plots")
    o.add_argument("--quiet", action="store_true", help="no progress bars")


def _flat(values):
    return None if values is None else [v for group in values for v in group]


def _run_options(b, args):
    """The run options, checked by the benchmark's one check of them
    (:func:`~skemotion.benchmark._options.check_options`); a bad one is a usage error."""
    from .benchmark import MODALITY_MODELS
    from .benchmark._options import DEFAULTS, OptionError, check_options

    given = {name: getattr(args, name, None) for name in DEFAULTS}
    if given["models"] is None and MODALITY_MODELS.get(args.modality) is not None:
        given["models"] = list(MODALITY_MODELS[args.modality])
    if given["n_jobs"] is None and args.scheduler is not None:
        given["n_jobs"] = -1  # every worker of the cluster
    try:
        return check_options(**{k: v for k, v in given.items() if v is not None})
    except OptionError as exc:
        b.error(f"argument --{exc.option.replace('_', '-')}: {exc.clause}")


def _check_args(b, args):
    """Every option value and combination, before anything is loaded or written; each error
    names the option (exit status 2). Returns the checked run options."""
    options = _run_options(b, args)
    synthetic = args.dataset == "synthetic"
    given = [o for o in ("data_path", "subjects", "cache_dir") if getattr(args, o) is not None]
    if synthetic and given:
        b.error(f"argument --{given[0].replace('_', '-')}: only for a --dataset you have "
                "(deap, seed, ...), not the synthetic corpus")  # fmt: skip
    if not synthetic and args.data_path is None:
        b.error(f"argument --data-path: --dataset {args.dataset} needs --data-path PATH")
    given = [o for o in ("montage", "n_subjects", "effect_size", "data_seed")
             if getattr(args, o) is not None]  # fmt: skip
    if not synthetic and given:
        b.error(f"argument --{given[0].replace('_', '-')}: only for --dataset synthetic")
    if options.protocol == "cross-dataset":
        if not _cross_dataset_available():
            b.error("argument --protocol: cross-dataset needs skemotion.datasets.harmonize")
        if not synthetic:
            b.error("argument --protocol: cross-dataset runs on the synthetic corpora only")
        if args.montage is not None:
            b.error("argument --montage: cross-dataset uses all three synthetic montages")
    k = options.n_splits or 5
    if options.protocol == "group-kfold" and synthetic and (args.n_subjects or 6) < k:
        b.error(f"argument --n-splits: group-kfold with {k} folds needs at least {k} "
                f"subjects; --n-subjects is {args.n_subjects or 6}")  # fmt: skip
    from .benchmark import MODALITY_MODELS

    ecg_models = {m for key in ("ecg", "fusion") for m in MODALITY_MODELS[key]}
    needing_ecg = [m for m in options.models if m in ecg_models]
    if args.modality == "eeg" and needing_ecg:
        b.error(f"argument --models: {needing_ecg[0]} reads the ECG beside the EEG; add "
                "--modality ecg or --modality fusion")  # fmt: skip
    if args.modality != "eeg":
        with_ecg = ["synthetic", *_MODALITY_DATA[args.modality]]
        if args.dataset not in with_ecg:
            b.error(f"argument --modality: {args.modality} needs EEG and ECG in the same "
                    f"windows; --dataset {args.dataset} has no ECG beside its EEG (datasets "
                    f"with both: {', '.join(with_ecg)})")  # fmt: skip
        if options.protocol == "cross-dataset":
            b.error(f"argument --modality: {args.modality} is not for the cross-dataset "
                    "protocol (EEG corpora only)")  # fmt: skip
        if any(a != "none" for a in options.align):
            b.error(f"argument --align: the alignments are for EEG; --modality "
                    f"{args.modality} runs without them")  # fmt: skip
        if args.montage is not None and args.montage != "emotiv14":
            b.error(f"argument --montage: the synthetic EEG + ECG corpus of --modality "
                    f"{args.modality} has the emotiv14 montage")  # fmt: skip
    _check_sizes(b, args, options.protocol)
    if args.scheduler is not None and options.n_jobs == 1:
        b.error("argument --n-jobs: 1 would run every fold here, not on --scheduler; omit it "
                "or give the number of parallel folds")  # fmt: skip
    return options


#: the synthetic corpus: windows per subject (3 classes x 2 trials x 10 windows)
_SYNTHETIC_WINDOWS_PER_SUBJECT = 60


#: ``--modality``: what each dataset loads for ``ecg`` and ``fusion`` (its loader's keyword
#: arguments; None: the dataset has no EEG + ECG windows); ``eeg`` loads as always
_MODALITY_DATA = {
    "eeg": None,
    "ecg": {"dreamer": {"modality": "all"}, "amigos": {"modality": "all"}},
    "fusion": {"dreamer": {"modality": "all"}, "amigos": {"modality": "all"}},
}


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on every platform
        return None


def _check_sizes(b, args, protocol: str) -> None:
    """Window length and corpus size, before anything is allocated (synthetic corpus)."""
    if args.dataset != "synthetic":
        return
    from ._montages import MONTAGES

    montages = SYNTHETIC_MONTAGES if protocol == "cross-dataset" else [
        args.montage or "emotiv14"
    ]  # fmt: skip
    seconds = args.window_seconds or 2.0
    n_bytes = 0
    for montage in montages:
        sfreq = MONTAGES[montage]["sfreq"]
        n_times = int(round(seconds * sfreq))
        if n_times < 2:
            b.error(f"argument --window-seconds: {seconds:g} s is {n_times} sample(s) at "
                    f"{sfreq:g} Hz ({montage}); windows need at least 2 samples "
                    f"(>= {2 / sfreq:g} s)")  # fmt: skip
        n_windows = (args.n_subjects or 6) * _SYNTHETIC_WINDOWS_PER_SUBJECT
        n_bytes += n_windows * len(MONTAGES[montage]["ch_names"]) * n_times * 4
    memory = _memory_bytes()
    # generating and filtering the corpus holds a few float64 copies of it
    if memory is not None and 4 * n_bytes > memory:
        b.error(f"argument --window-seconds/--n-subjects: the synthetic corpus would take "
                f"{n_bytes / 2**30:.1f} GiB as float32 (about 4x that while it is made), more "
                f"than this machine's {memory / 2**30:.1f} GiB; use shorter windows or fewer "
                "subjects")  # fmt: skip


def _check_output(b, folder: Path) -> None:
    """Create the output folder and check it is writable, before anything is computed."""
    probe = folder / f".skemotion-write-test-{id(folder)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        b.error(f"argument --output: cannot write to {str(folder)!r} "
                f"({exc.strerror or type(exc).__name__})")  # fmt: skip


def _synthetic_kwargs(args) -> dict:
    kwargs = dict(
        n_subjects=args.n_subjects or 6,
        effect_size=1.0 if args.effect_size is None else args.effect_size,
    )
    if args.window_seconds is not None:
        kwargs["window_seconds"] = args.window_seconds
    return kwargs


def _description(args, options) -> dict:
    """What the data depend on, from the arguments alone: recorded with the results, and
    checked against the output folder before anything is loaded."""
    if options.protocol == "cross-dataset" or args.dataset == "synthetic":
        cross = options.protocol == "cross-dataset"
        desc = {"dataset": "synthetic",
                "montage": "+".join(SYNTHETIC_MONTAGES) if cross else args.montage or "emotiv14",
                **_synthetic_kwargs(args), "data_seed": args.data_seed or 0,
                "window_seconds": args.window_seconds or _default_seconds(args)}  # fmt: skip
        if cross:
            desc["harmonized"] = "128 Hz, common channels"
        if args.modality != "eeg":
            desc["modality"] = args.modality
        return desc
    desc = {
        "dataset": args.dataset,
        "data_path": str(args.data_path.resolve()),
        "subjects": None if args.subjects is None else _flat(args.subjects),
        "window_seconds": args.window_seconds,
    }
    if args.modality != "eeg":
        desc["modality"] = args.modality
    return desc


def _default_seconds(args) -> float:
    """The synthetic window length: 2 s, 4 s for the EEG + ECG corpus (heart beats for HRV)."""
    return 2.0 if args.modality == "eeg" else 4.0


def _load_synthetic(args):
    from .datasets import make_eeg_emotion, make_multimodal_emotion

    montage = args.montage or "emotiv14"
    if args.modality != "eeg":
        kwargs = _synthetic_kwargs(args)
        effect = kwargs.pop("effect_size")
        kwargs.setdefault("window_seconds", _default_seconds(args))
        return make_multimodal_emotion(
            montage, random_state=args.data_seed or 0, eeg_effect_size=effect,
            ecg_effect_size=effect, **kwargs,
        )  # fmt: skip
    return make_eeg_emotion(montage, random_state=args.data_seed or 0, **_synthetic_kwargs(args))


def _load_cross_dataset(args):
    from .datasets import harmonize, make_eeg_emotion

    seed = args.data_seed or 0
    corpora = {
        name: make_eeg_emotion(name, random_state=seed + i, **_synthetic_kwargs(args))
        for i, name in enumerate(SYNTHETIC_MONTAGES)
    }
    return harmonize(corpora, sfreq=128.0, channels="intersection")


def _load_real(b, args):
    from .datasets import LOADERS, DatasetFormatError

    kwargs = {"verbose": not args.quiet, **(_MODALITY_DATA[args.modality] or {}).get(
        args.dataset, {})}  # fmt: skip
    if args.subjects is not None:
        kwargs["subjects"] = _flat(args.subjects)
    if args.window_seconds is not None:
        kwargs["window_seconds"] = args.window_seconds
    if args.cache_dir is not None:
        kwargs["cache_dir"] = args.cache_dir
    try:
        return LOADERS[args.dataset](args.data_path, **kwargs)
    except (DatasetFormatError, FileNotFoundError, ValueError) as exc:
        b.error(f"--dataset {args.dataset} --data-path {args.data_path}: {exc}")


def _connect(b, address):
    try:
        import distributed
    except ImportError:
        b.error("argument --scheduler: needs dask.distributed (pip install 'skemotion[dask]')")
    try:
        return distributed.Client(address, timeout=10)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        b.error(f"argument --scheduler: cannot connect to {address!r} ({exc})")


def _count_finished(folder: Path) -> int:
    try:
        return len(json.loads((folder / "results.json").read_text())["folds"])
    except (OSError, ValueError, KeyError):
        return 0


def benchmark(b, args, argv) -> int:
    """Run ``skemotion benchmark`` with parsed ``args``; return the exit status."""
    from .benchmark import BenchmarkInputError, ResultsMismatchError

    options = _check_args(b, args)
    _check_output(b, args.output)
    desc = _description(args, options)
    if not args.overwrite:  # one configuration per folder, checked before any work
        from .benchmark._runner import run_config
        from .benchmark._store import check_folder_config

        try:
            check_folder_config(args.output, run_config(options, desc))
        except ResultsMismatchError as exc:
            b.error(f"argument --output: {exc} (--overwrite discards them)")
    client = _connect(b, args.scheduler) if args.scheduler else None
    t0 = time.perf_counter()
    try:
        res = _run(b, args, argv, options, desc, client)
    except ResultsMismatchError as exc:
        b.error(f"argument --output: {exc} (--overwrite discards them)")
    except BenchmarkInputError as exc:
        b.error(str(exc).removeprefix("run_benchmark: "))
    except (ValueError, FloatingPointError) as exc:  # the data or a model refused during a run
        hint = " (on the command line: --shrinkage 0.01)" if "shrinkage" in str(exc) else ""
        print(f"skemotion benchmark: error: {str(exc).splitlines()[0]}{hint}; "
              f"{_count_finished(args.output)} finished fold result(s) kept in {args.output}",
              file=sys.stderr, flush=True)  # fmt: skip
        return 1
    except KeyboardInterrupt as exc:
        _shutdown_workers()
        what = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(f"\n{what}: {_count_finished(args.output)} finished fold result(s) kept in "
              f"{args.output}; run the same command again to continue", file=sys.stderr,
              flush=True)  # fmt: skip
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    finally:
        if client is not None:
            client.close()
    _print_results(res, options, args.output, time.perf_counter() - t0)
    return 0


def _run(b, args, argv, options, desc, client):
    """Load the data, then :func:`~skemotion.benchmark.run_benchmark` (on the cluster of
    ``client`` when there is one)."""
    import contextlib
    import shlex

    import numpy as np

    from .benchmark import run_benchmark

    domains = None
    if options.protocol == "cross-dataset":
        data = _load_cross_dataset(args)
        domains = data.frame["dataset"].to_numpy()
    elif args.dataset == "synthetic":
        data = _load_synthetic(args)
    else:
        data = _load_real(b, args)
    X, y, groups = data.X, np.asarray(data.y), np.asarray(data.groups)
    if X.shape[-1] < 2:  # a loader's own rate, unknown before loading
        b.error(f"argument --window-seconds: the windows have {X.shape[-1]} sample(s) at "
                f"{data.sfreq:g} Hz; they need at least 2")  # fmt: skip
    print(f"dataset {desc['dataset']}" + (f" ({desc['montage']})" if "montage" in desc else "")
          + f": {X.shape[0]} windows of {X.shape[1]} channels x {X.shape[2]} samples "
          f"({data.sfreq:g} Hz), {len(np.unique(groups))} subjects, {len(np.unique(y))} classes "
          f"[{', '.join(map(str, data.target_names))}]; protocol {options.protocol}",
          flush=True)  # fmt: skip
    parallel = contextlib.nullcontext()
    if client is not None:
        import joblib

        parallel = joblib.parallel_backend("dask")
        print(f"scheduler {args.scheduler}: {len(client.scheduler_info()['workers'])} "
              f"workers", flush=True)  # fmt: skip
    with parallel:
        return run_benchmark(
            X, y, groups, np.asarray(data.trials), sfreq=data.sfreq, **options.kwargs(),
            domains=domains, class_names=[str(c) for c in data.target_names],
            ch_names=list(data.ch_names), ch_types=data.get("ch_types"), output=args.output,
            overwrite=args.overwrite,
            plots=not args.no_plots, description=desc, command=shlex.join(["skemotion", *argv]),
            progress=not args.quiet, log=lambda line: print(line, flush=True),
        )  # fmt: skip


def _print_results(res, options, output, seconds: float) -> None:
    """The epochs that ran, the table, the verdicts and the files written."""
    epochs = {m: e for m, e in zip(res.folds["model"], res.folds["max_epochs"]) if e == e and e}
    if epochs:
        print("epochs: " + ", ".join(f"{m} {int(e)}" for m, e in epochs.items()))
    print(res.table())
    unit = "subjects" if options.protocol == "subject-dependent" else "folds"
    print(f"\nverdicts (balanced accuracy, two-sided Wilcoxon signed-rank test paired over {unit}, "
          "alpha 0.05, no correction for multiple comparisons):")  # fmt: skip
    for line in res.verdicts:
        print(f"  {line}")
    print(f"\nresults in {output}/: " + ", ".join(Path(f).name for f in res.files)
          + f" ({seconds:.0f} s)")  # fmt: skip


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C: finished folds kept, worker processes shut down."""


def _on_sigterm(signum, frame):
    raise Terminated


def _shutdown_workers() -> None:
    """Stop joblib's worker processes now (they would otherwise outlive the command for
    minutes, holding its stdout and stderr open for a pipe or ``capture_output``)."""
    try:
        from joblib.externals.loky import reusable_executor
    except ImportError:  # pragma: no cover
        return
    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


@contextmanager
def _sigterm_as_interrupt():
    """SIGTERM raises :class:`Terminated` in the main thread while the block runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _subparser(parser, name: str) -> argparse.ArgumentParser:
    """The sub-parser of command ``name`` (its ``error`` prefixes ``skemotion NAME``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]
    raise KeyError(name)  # pragma: no cover


def main(argv=None) -> int:
    """Entry point of the ``skemotion`` command; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv == ["--version"]:  # answered before the parser, whose options import torch
        from . import __version__

        print(f"skemotion {__version__}")
        raise SystemExit(0)
    if argv[:1] == ["stream"] and "torch" not in sys.modules:
        # before the parser imports torch: OpenMP's spinning workers would take the CPU from
        # the LSL threads that receive the samples (see skemotion.stream)
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        with _sigterm_as_interrupt():
            parser, b = build_parser()
            args = parser.parse_args(argv)
            if args.command == "benchmark":
                return benchmark(b, args, argv)
            if args.command == "stream":
                return stream(_subparser(parser, "stream"), args)
    except KeyboardInterrupt as exc:  # before the benchmark started
        print("\nterminated" if isinstance(exc, Terminated) else "\ninterrupted", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    return 2  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
