"""Subject-wise benchmark of the models against a trivial and a classical baseline.

Every table shows, on the same folds, a majority-class baseline and a differential-entropy +
logistic-regression baseline beside the models, with a paired test of each model against them,
so a reader sees at once whether a model learned anything. Folds come from one of the
protocols of :func:`make_folds` and never put windows of one trial on both sides of a split.
Models are evaluated with scikit-learn's ``cross_validate`` (``n_jobs``, joblib backends and a
Dask cluster apply unchanged), and results are recorded fold by fold so that an interrupted run
continues where it stopped.

The command line (``skemotion benchmark``) lives in :mod:`skemotion.cli`; this package holds
the reusable parts: the model registry (:data:`REGISTRY`, :func:`register_model`), the protocols,
:func:`run_benchmark`, the summaries and the statistics.
"""

from ._models import ALIGNMENTS
from ._options import PRECISIONS
from ._protocols import PROTOCOLS, Fold, check_folds, make_folds
from ._registry import (
    BASELINES,
    MODALITY_MODELS,
    MODELS,
    RECIPES,
    REGISTRY,
    BenchmarkContext,
    ModelSpec,
    recipe_options,
    register_model,
    resolve_models,
)
from ._report import compare_to_baselines, format_table, plot_results, summarize
from ._runner import BenchmarkResult, package_versions, run_benchmark
from ._stats import PairedComparison, min_pairs_for_test, paired_comparison, rank_biserial
from ._store import BenchmarkInputError, ResultsMismatchError, read_results

__all__ = [
    "ALIGNMENTS",
    "BASELINES",
    "MODALITY_MODELS",
    "MODELS",
    "PRECISIONS",
    "PROTOCOLS",
    "RECIPES",
    "REGISTRY",
    "BenchmarkContext",
    "BenchmarkInputError",
    "BenchmarkResult",
    "Fold",
    "ModelSpec",
    "PairedComparison",
    "ResultsMismatchError",
    "check_folds",
    "compare_to_baselines",
    "format_table",
    "make_folds",
    "min_pairs_for_test",
    "package_versions",
    "paired_comparison",
    "plot_results",
    "rank_biserial",
    "read_results",
    "recipe_options",
    "register_model",
    "resolve_models",
    "run_benchmark",
    "summarize",
]
