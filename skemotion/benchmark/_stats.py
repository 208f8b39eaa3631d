"""Paired comparison of two models over the same folds: Wilcoxon test and effect sizes."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["PairedComparison", "min_pairs_for_test", "paired_comparison", "rank_biserial"]


def min_pairs_for_test(alpha: float = 0.05) -> int:
    """Fewest paired differences with which a Wilcoxon test can reach ``p < alpha``.

    The exact two-sided signed-rank test's smallest p-value with ``n`` non-zero differences is
    ``2 / 2**n``.

    Parameters
    ----------
    alpha : float, default=0.05
        Significance level.

    Returns
    -------
    n : int

    Examples
    --------
    >>> from skemotion.benchmark import min_pairs_for_test
    >>> min_pairs_for_test(0.05), min_pairs_for_test(0.01)
    (6, 8)
    """
    return int(math.floor(1 - math.log2(alpha))) + 1


def rank_biserial(differences) -> float:
    """Matched-pairs rank-biserial correlation of paired differences.

    ``(R+ - R-) / (R+ + R-)`` where ``R+`` and ``R-`` are the sums of the ranks of ``|d|`` (zero
    differences dropped, ties given their average rank) over the positive and the negative
    differences: +1 when every non-zero difference is positive, -1 when every one is negative.

    Parameters
    ----------
    differences : array-like of shape (n_pairs,)
        Paired differences ``a - b``.

    Returns
    -------
    r : float
        In [-1, 1]; NaN when every difference is zero.

    Examples
    --------
    >>> from skemotion.benchmark import rank_biserial
    >>> rank_biserial([0.1, 0.2, -0.05])  # ranks 2, 3 positive, 1 negative: (5 - 1) / 6
    0.6666666666666666
    """
    from scipy.stats import rankdata

    d = np.asarray(differences, dtype=float)
    d = d[d != 0]
    if d.size == 0:
        return float("nan")
    ranks = rankdata(np.abs(d))
    return float((ranks[d > 0].sum() - ranks[d < 0].sum()) / ranks.sum())


@dataclass(frozen=True)
class PairedComparison:
    """Result of :func:`paired_comparison` (``a`` against ``b``).

    Parameters
    ----------
    n : int
        Pairs.
    n_nonzero : int
        Pairs that differ.
    mean_a, mean_b : float
        Means of the two samples.
    mean_difference : float
        Mean of ``a - b``.
    rank_biserial : float
        :func:`rank_biserial` of the differences.
    p_value : float or None
        Two-sided Wilcoxon p-value; None when too few pairs differ for a test.
    alpha : float
        Significance level of the verdict.
    verdict : str
        "better", "worse", "no significant difference", "identical" or "too few folds".

    Examples
    --------
    >>> from skemotion.benchmark import paired_comparison
    >>> print(paired_comparison([0.5, 0.6], [0.3, 0.3]).describe("majority"))
    ... # doctest: +NORMALIZE_WHITESPACE
    vs majority +0.250 (rank-biserial +1.00; no test: 2 folds differ, a Wilcoxon test
    needs 6 for p < 0.05)
    """

    n: int
    n_nonzero: int
    mean_a: float
    mean_b: float
    mean_difference: float
    rank_biserial: float
    p_value: float | None
    alpha: float
    verdict: str

    def describe(self, name_b: str, unit: str = "folds") -> str:
        """One clause of a verdict line, e.g. ``vs de_lr -0.036 (p=0.56, ...): no significant ...``.

        Parameters
        ----------
        name_b : str
            Name of the reference.
        unit : str, default="folds"
            What the pairs are.

        Returns
        -------
        clause : str
        """
        diff = f"{self.mean_difference:+.3f}"
        if self.verdict == "identical":
            return f"vs {name_b} {diff}: identical on all {_count(self.n, unit)}"
        rb = f"rank-biserial {self.rank_biserial:+.2f}"
        if self.p_value is None:
            return (
                f"vs {name_b} {diff} ({rb}; no test: {_count(self.n_nonzero, unit)} differ, a "
                f"Wilcoxon test needs {min_pairs_for_test(self.alpha)} for p < {self.alpha:g})"
            )
        return f"vs {name_b} {diff} (p={self.p_value:.3g}, {rb}): {self.verdict}"


def _count(n: int, unit: str) -> str:
    """``"3 folds"``, ``"1 fold"``: ``unit`` is the plural."""
    return f"{n} {unit[:-1] if n == 1 and unit.endswith('s') else unit}"


def paired_comparison(a, b, *, alpha: float = 0.05) -> PairedComparison:
    """Compare paired scores ``a`` and ``b`` (same folds) with a two-sided Wilcoxon test.

    Zero differences are dropped (``zero_method="wilcox"``); with fewer non-zero differences
    than :func:`min_pairs_for_test` no p-value is computed, since none could be significant.

    Parameters
    ----------
    a, b : array-like of shape (n_pairs,)
        Scores of two models on the same folds.
    alpha : float, default=0.05
        Significance level of the verdict (no correction for multiple comparisons).

    Returns
    -------
    result : PairedComparison

    Examples
    --------
    >>> from skemotion.benchmark import paired_comparison
    >>> r = paired_comparison([0.6, 0.7, 0.65, 0.8, 0.7, 0.75], [0.33] * 6)
    >>> r.verdict, round(r.p_value, 4), r.rank_biserial
    ('better', 0.0312, 1.0)
    """
    from scipy.stats import wilcoxon

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(
            f"paired_comparison: a and b must be 1-D, non-empty and of one length; got shapes "
            f"{a.shape} and {b.shape}."
        )
    d = a - b
    n_nonzero = int(np.count_nonzero(d))
    p = None
    if n_nonzero == 0:
        verdict = "identical"
    elif n_nonzero < min_pairs_for_test(alpha):
        verdict = "too few folds"
    else:
        p = float(wilcoxon(a, b, zero_method="wilcox", alternative="two-sided").pvalue)
        if p < alpha:
            verdict = "better" if d.mean() > 0 else "worse"
        else:
            verdict = "no significant difference"
    return PairedComparison(
        n=int(d.size),
        n_nonzero=n_nonzero,
        mean_a=float(a.mean()),
        mean_b=float(b.mean()),
        mean_difference=float(d.mean()),
        rank_biserial=rank_biserial(d),
        p_value=p,
        alpha=alpha,
        verdict=verdict,
    )
