"""The benchmark's model registry: one entry per model or baseline.

Adding a model takes a factory (a function of a :class:`BenchmarkContext` returning an unfitted
estimator) and one :func:`register_model` call::

    def _mynet(ctx):
        from skemotion.classifiers import MyNetClassifier

        return MyNetClassifier(
            max_epochs=ctx.epochs or 30, device=ctx.device, precision=ctx.precision,
            random_state=ctx.random_state,
        )

    register_model("mynet", _mynet, label="MyNet")

Imports of the estimator classes stay inside the factories, so listing the registry (for
``skemotion benchmark --help``) does not import torch.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

__all__ = [
    "BASELINES",
    "MODELS",
    "RECIPES",
    "REGISTRY",
    "BenchmarkContext",
    "MODALITY_MODELS",
    "ModelSpec",
    "recipe_options",
    "register_model",
    "resolve_models",
]


@dataclass
class BenchmarkContext:
    """What a model factory may use to configure its estimator.

    Parameters
    ----------
    sfreq : float
        Sampling rate of the windows (Hz).
    n_channels, n_times, n_classes : int
        Shape of the data and number of classes.
    epochs : int or None, default=None
        Training epochs of every deep model; None lets each model use its own budget.
    device : str, default="auto"
        Device of the deep models.
    precision : {"32", "bf16", "16-mixed"}, default="32"
        Training precision of the deep models.
    random_state : int, default=0
        Seed of the estimator (one benchmark seed).
    verbose : int, default=0
        Verbosity of the estimator.
    ch_names : list of str or None, default=None
        Channel names of the windows (for models that place electrodes on the scalp).
    recipe : str, default="default"
        Cross-subject training options of every deep model (:data:`RECIPES`): ``"default"``
        (none), ``"adversarial"``, ``"adabn"``, ``"augment"`` or ``"all"``.
    shrinkage : float, default=0.0
        Shrinkage of the Euclidean alignment's reference covariances (``--align euclidean``):
        needed when a subject's covariance is singular (average-referenced data, e.g. DEAP's
        preprocessed copy: rank 31 of 32 channels).
    ch_types : list of str or None, default=None
        MNE type of every channel (``skemotion benchmark --modality ecg|fusion``: EEG and ECG
        in one window). When the data hold other types than EEG, the EEG models read the EEG
        channels only (a :class:`~skemotion.features.PickChannels` step first), the ECG
        models the ECG channels; None or EEG only: the models see every channel.

    Examples
    --------
    >>> from skemotion.benchmark import BenchmarkContext, REGISTRY
    >>> ctx = BenchmarkContext(sfreq=128.0, n_channels=14, n_times=256, n_classes=3)
    >>> REGISTRY["majority"](ctx)
    DummyClassifier(strategy='most_frequent')
    """

    sfreq: float
    n_channels: int
    n_times: int
    n_classes: int
    epochs: int | None = None
    device: str = "auto"
    precision: str = "32"
    random_state: int = 0
    verbose: int = 0
    ch_names: list | None = None
    recipe: str = "default"
    shrinkage: float = 0.0
    ch_types: list | None = None


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: its name, its factory and how the benchmark shows and runs it.

    Calling the spec with a context calls its factory.

    Parameters
    ----------
    name : str
        Name used on the command line (``--models NAME``) and in the results.
    factory : callable
        ``factory(ctx) -> estimator``, a new unfitted estimator for a :class:`BenchmarkContext`.
    label : str
        Readable name for reports.
    baseline : bool
        Baselines run on every benchmark, on the same folds as the models.
    default : bool
        Run when ``--models`` is not given.

    Examples
    --------
    >>> from skemotion.benchmark import REGISTRY
    >>> REGISTRY["de_lr"].label, REGISTRY["de_lr"].baseline
    ('DE + logistic regression', True)
    """

    name: str
    factory: Callable[[BenchmarkContext], object]
    label: str
    baseline: bool = False
    default: bool = True

    def __call__(self, ctx: BenchmarkContext):
        return self.factory(ctx)


#: every registered model and baseline, in the order they are shown
REGISTRY: dict[str, ModelSpec] = {}


class _View(Mapping):
    """Live read-only view of the registry: the baselines, or the other models."""

    def __init__(self, baseline: bool):
        self._baseline = baseline

    def _names(self):
        return [n for n, s in REGISTRY.items() if s.baseline == self._baseline]

    def __getitem__(self, name):
        if name not in self._names():
            raise KeyError(name)
        return REGISTRY[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self):
        return len(self._names())

    def __repr__(self):
        return f"{type(self).__name__}({self._names()})"


#: baselines (majority class, DE + logistic regression): run on every benchmark
BASELINES: Mapping[str, ModelSpec] = _View(baseline=True)
#: the models selectable with ``--models``
MODELS: Mapping[str, ModelSpec] = _View(baseline=False)


def register_model(
    name: str,
    factory: Callable[[BenchmarkContext], object],
    *,
    label: str | None = None,
    baseline: bool = False,
    default: bool = True,
) -> ModelSpec:
    """Add a model (or a baseline) to the benchmark.

    Parameters
    ----------
    name : str
        Lower-case name without spaces or commas, as typed after ``--models``.
    factory : callable
        ``factory(ctx) -> estimator`` (see :class:`BenchmarkContext`).
    label : str, optional
        Readable name (default: ``name``).
    baseline : bool, default=False
        Run on every benchmark beside the selected models.
    default : bool, default=True
        Run when no ``--models`` are given.

    Returns
    -------
    spec : ModelSpec

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from skemotion.benchmark import REGISTRY, register_model
    >>> spec = register_model("uniform", lambda ctx: DummyClassifier(strategy="uniform"),
    ...                       default=False)
    >>> "uniform" in REGISTRY
    True
    >>> del REGISTRY["uniform"]
    """
    if not isinstance(name, str) or not name or any(c in name for c in " ,\t"):
        raise ValueError(
            f"register_model: argument name must be a non-empty string without spaces or "
            f"commas; got {name!r}."
        )
    if name == "none":
        raise ValueError("register_model: 'none' is reserved (--models none: baselines only).")
    if not callable(factory):
        raise TypeError(f"register_model: argument factory must be callable; got {factory!r}.")
    spec = ModelSpec(name, factory, label or name, baseline=baseline, default=default)
    REGISTRY[name] = spec
    return spec


def resolve_models(names=None) -> list[str]:
    """Names to run, baselines first: the baselines plus ``names`` (default: default models).

    Parameters
    ----------
    names : list of str, optional
        Registered names; ``["none"]``: the baselines only. Unknown names raise a
        ``ValueError`` listing the registered ones.

    Returns
    -------
    names : list of str

    Examples
    --------
    >>> from skemotion.benchmark import resolve_models
    >>> resolve_models(["eegnet"])
    ['majority', 'de_lr', 'eegnet']
    >>> resolve_models(["none"])
    ['majority', 'de_lr']
    """
    if names is None:
        wanted = [n for n, s in REGISTRY.items() if s.default and not s.baseline]
    else:
        names = list(names)
        if names == ["none"]:
            names = []
        unknown = [n for n in names if n not in REGISTRY]
        if unknown:
            raise ValueError(
                f"unknown model(s) {', '.join(map(repr, unknown))}; available: "
                f"{', '.join(REGISTRY)} (or none for the baselines only)"
            )
        wanted = names
    out = list(BASELINES)
    out += [n for n in dict.fromkeys(wanted) if n not in out]
    return out


# --- the registered models --------------------------------------------------------------------
#: cross-subject training recipes of the deep models (``--recipe``); the parameters are
#: those of ``benchmarks/generalisation.py``, where the recipes were compared
RECIPES = ("default", "adversarial", "adabn", "augment", "all")


def recipe_options(ctx: BenchmarkContext) -> dict:
    """The deep classifiers' options of ``ctx.recipe``.

    - ``"adversarial"``: ``subject_adversarial=0.3`` (the subjects of the training windows
      reach ``fit``);
    - ``"adabn"``: ``adapt_bn="batch"`` (the benchmark predicts one subject at a time, so the
      statistics are each test subject's);
    - ``"augment"``: time shift, amplitude scaling, channel dropout, 1-45 Hz noise, frequency
      shift and mixup, each on half the windows;
    - ``"all"``: the three together.

    Examples
    --------
    >>> from skemotion.benchmark import BenchmarkContext, recipe_options
    >>> recipe_options(BenchmarkContext(128.0, 14, 256, 3, recipe="adabn"))
    {'adapt_bn': 'batch'}
    """
    if ctx.recipe not in RECIPES:
        raise ValueError(f"recipe must be one of {', '.join(RECIPES)}; got {ctx.recipe!r}.")
    out = {}
    if ctx.recipe in ("adversarial", "all"):
        out["subject_adversarial"] = 0.3
    if ctx.recipe in ("adabn", "all"):
        out["adapt_bn"] = "batch"
    if ctx.recipe in ("augment", "all"):
        from ..augment import (
            AmplitudeScale,
            BandNoise,
            ChannelDropout,
            FrequencyShift,
            Mixup,
            TimeShift,
        )

        out["augment"] = [
            TimeShift(max_shift=0.25, p=0.5),
            AmplitudeScale(low=0.8, high=1.25, p=0.5),
            ChannelDropout(drop=0.1, p=0.5),
            BandNoise(sfreq=ctx.sfreq, band=(1.0, min(45.0, 0.45 * ctx.sfreq)), p=0.5),
            FrequencyShift(sfreq=ctx.sfreq, max_shift=1.0, p=0.5),
            Mixup(alpha=0.2, p=0.5),
        ]
    return out


def _mixed(ctx: BenchmarkContext) -> bool:
    """Whether the data hold channels of other types than EEG."""
    return ctx.ch_types is not None and any(t != "eeg" for t in ctx.ch_types)


def _picked(ctx: BenchmarkContext, kind: str, steps: list, name: str):
    """``steps`` as a Pipeline, after a :class:`PickChannels` of type ``kind`` when the data
    hold several types (for EEG models on EEG-only data, the steps alone, unchanged)."""
    from sklearn.pipeline import Pipeline

    from ..features import PickChannels

    if kind == "eeg" and not _mixed(ctx):
        return steps[0][1] if len(steps) == 1 else Pipeline(steps)
    if ctx.ch_types is None or kind not in ctx.ch_types:
        found = "no channel types" if ctx.ch_types is None else sorted(set(ctx.ch_types))
        raise ValueError(
            f"{name} reads the {kind.upper()} channels; the data have {found} (skemotion "
            "benchmark --modality ecg or fusion loads the ECG beside the EEG)"
        )
    pick = PickChannels(types=kind, ch_types=list(ctx.ch_types), ch_names=ctx.ch_names)
    return Pipeline([("pick", pick), *steps])


def _eeg_names(ctx: BenchmarkContext):
    if ctx.ch_names is None or not _mixed(ctx):
        return ctx.ch_names
    return [c for c, t in zip(ctx.ch_names, ctx.ch_types) if t == "eeg"]


def _hrv(ctx: BenchmarkContext) -> list:
    """HRV features of the ECG: NaN where a window is too short for one, imputed, log1p."""
    import numpy as np
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import FunctionTransformer

    from ..features import HRVFeatures

    return [
        ("hrv", HRVFeatures(sfreq=ctx.sfreq)),
        ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
        ("log", FunctionTransformer(np.log1p)),
    ]


def _majority(ctx: BenchmarkContext):
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="most_frequent")


def _lr_steps() -> list:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    return [("scale", StandardScaler()), ("lr", LogisticRegression(max_iter=2000))]


def _de(ctx: BenchmarkContext) -> list:
    from ..features import DifferentialEntropy

    return [("de", DifferentialEntropy(sfreq=ctx.sfreq, flatten=True))]


def _de_lr(ctx: BenchmarkContext, name: str = "de_lr"):
    return _picked(ctx, "eeg", [*_de(ctx), *_lr_steps()], name)


def _hrv_lr(ctx: BenchmarkContext, name: str = "hrv_lr"):
    return _picked(ctx, "ecg", [*_hrv(ctx), *_lr_steps()], name)


def _fusion_early(ctx: BenchmarkContext):
    from sklearn.pipeline import FeatureUnion, Pipeline

    name = "fusion_early"
    features = FeatureUnion(
        [
            ("eeg", _picked(ctx, "eeg", _de(ctx), name)),
            ("ecg", _picked(ctx, "ecg", _hrv(ctx), name)),
        ]
    )
    return Pipeline([("features", features), *_lr_steps()])


def _fusion_late(ctx: BenchmarkContext):
    from sklearn.ensemble import VotingClassifier

    name = "fusion_late"
    return VotingClassifier(
        [("eeg", _de_lr(ctx, name)), ("ecg", _hrv_lr(ctx, name))], voting="soft"
    )


def _sslecg(ctx: BenchmarkContext):
    """SSL-ECG fine-tuned on the ECG channels, its encoder pre-trained in fit (no labels) at a
    CPU width (8, 16, 32 filters)."""
    from ..classifiers import SSLECGClassifier

    clf = SSLECGClassifier(
        sfreq=ctx.sfreq, target_sfreq=None, n_filters=(8, 16, 32), pretrain_epochs=5,
        head_units=(), **_deep_options(ctx),
    )  # fmt: skip
    return _picked(ctx, "ecg", [("sslecg", clf)], "sslecg")


def _deep_options(ctx: BenchmarkContext, budget: dict | None = None) -> dict:
    """What every deep model takes from the context: device, precision, seed, verbosity, the
    epochs (``budget``, default :func:`_own_budget`) and the recipe's options."""
    return dict(
        device=ctx.device,
        precision=ctx.precision,
        random_state=ctx.random_state,
        verbose=ctx.verbose,
        **(_own_budget(ctx) if budget is None else budget),
        **recipe_options(ctx),
    )


def _eegnet(ctx: BenchmarkContext):
    from ..classifiers import EEGNetClassifier

    clf = EEGNetClassifier(kernel_length=max(2, int(ctx.sfreq // 2)), **_deep_options(ctx))
    return _picked(ctx, "eeg", [("eegnet", clf)], "eegnet")


def _tsstdn(ctx: BenchmarkContext):
    from ..classifiers import TSSTDNClassifier

    clf = TSSTDNClassifier(sfreq=ctx.sfreq, **_deep_options(ctx))
    return _picked(ctx, "eeg", [("tsstdn", clf)], "tsstdn")


def _own_budget(ctx: BenchmarkContext) -> dict:
    """``max_epochs`` when the benchmark sets it, else nothing (the model's own default)."""
    return {} if ctx.epochs is None else {"max_epochs": ctx.epochs}


def _sstemotionnet(ctx: BenchmarkContext):
    from ..classifiers.sstemotionnet import SSTEmotionNetClassifier

    if ctx.ch_names is None:
        raise ValueError("sstemotionnet needs the channel names of the data (ctx.ch_names).")
    clf = SSTEmotionNetClassifier(
        ch_names=list(_eeg_names(ctx)), sfreq=ctx.sfreq, **_deep_options(ctx)
    )
    return _picked(ctx, "eeg", [("sstemotionnet", clf)], "sstemotionnet")


def _gruxnet(ctx: BenchmarkContext):
    """GRU-XNet; the estimator's small default on a CPU, the original width on a GPU.

    The original width and grid (filters (32, 64, 128), GRU hidden 128, 129 x 126 STFT grid,
    GRU input pooled) cost minutes per epoch on a CPU; without CUDA the benchmark runs the
    estimator's default (small network, 20 epochs at a constant rate); on a GPU the original
    width with the original schedule (30 epochs, cosine annealing).
    """
    import torch

    from ..classifiers.gruxnet import GRUXNetClassifier

    on_gpu = ctx.device != "cpu" and torch.cuda.is_available()
    size = dict(filters=(32, 64, 128), gru_hidden=128, head_units=(256, 128),
                stft_shape=(129, 126), lr_schedule="cosine") if on_gpu else {}  # fmt: skip
    budget = _own_budget(ctx) or ({"max_epochs": 30} if on_gpu else {})
    clf = GRUXNetClassifier(**size, sfreq=ctx.sfreq, **_deep_options(ctx, budget))
    return _picked(ctx, "eeg", [("gruxnet", clf)], "gruxnet")


register_model("majority", _majority, label="majority class", baseline=True)
register_model("de_lr", _de_lr, label="DE + logistic regression", baseline=True)
register_model("eegnet", _eegnet, label="EEGNet")
register_model("tsstdn", _tsstdn, label="TS-STDN")
# heavier networks: run on request (--models sstemotionnet gruxnet), with their own defaults
if importlib.util.find_spec("skemotion.classifiers.sstemotionnet") is not None:
    register_model("sstemotionnet", _sstemotionnet, label="SST-EmotionNet", default=False)
if importlib.util.find_spec("skemotion.classifiers.gruxnet") is not None:
    register_model("gruxnet", _gruxnet, label="GRU-XNet", default=False)
# the ECG and EEG + ECG models (skemotion benchmark --modality ecg or fusion)
register_model("hrv_lr", _hrv_lr, label="HRV + logistic regression (ECG)", default=False)
register_model("sslecg", _sslecg, label="SSL-ECG fine-tuned (ECG)", default=False)
register_model("fusion_early", _fusion_early, label="early fusion: DE + HRV, one LR",
               default=False)  # fmt: skip
register_model("fusion_late", _fusion_late, label="late fusion: soft vote of DE + LR and "
               "HRV + LR", default=False)  # fmt: skip

#: the models of ``skemotion benchmark --modality``: what each runs by default (the baselines
#: majority and de_lr run too; de_lr reads the EEG channels, the EEG reference of the others)
MODALITY_MODELS = {
    "eeg": None,  # the default models
    "ecg": ("hrv_lr", "sslecg"),
    "fusion": ("hrv_lr", "fusion_early", "fusion_late"),
}
