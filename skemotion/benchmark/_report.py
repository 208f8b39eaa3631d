"""Summaries, verdicts against the baselines, the printed table and the plots."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd

from ._stats import _count, paired_comparison

__all__ = ["compare_to_baselines", "format_table", "plot_results", "summarize"]

_REFERENCES = ("majority", "de_lr")


def _with_defaults(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    if "align" not in df:
        df["align"] = "none"
    if "seed" not in df:
        df["seed"] = 0
    return df


def _arm_order(df: pd.DataFrame) -> list[tuple]:
    return list(dict.fromkeys(zip(df["model"], df["align"])))


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over folds per model (and alignment).

    Scores are first averaged over seeds within each fold; ``*_std`` is the standard deviation
    (``ddof=1``) over folds of these averages, ``balanced_accuracy_seed_std`` the standard
    deviation over seeds of the mean over folds (NaN with one seed). Models keep the order in
    which they first appear.

    Parameters
    ----------
    results : pandas.DataFrame
        One row per fold: columns ``model``, ``fold``, ``balanced_accuracy``, ``macro_f1``,
        ``fit_time_s`` and optionally ``align``, ``seed``, ``predict_time_s``, ``device``.

    Returns
    -------
    summary : pandas.DataFrame
        Indexed by model (by ``(model, align)`` when several alignments are present).

    Examples
    --------
    >>> import pandas as pd
    >>> from skemotion.benchmark import summarize
    >>> res = pd.DataFrame({"model": ["a", "a"], "fold": [0, 1], "balanced_accuracy": [0.5, 0.7],
    ...                     "macro_f1": [0.4, 0.6], "fit_time_s": [1.0, 3.0]})
    >>> s = summarize(res)
    >>> float(s.loc["a", "balanced_accuracy_mean"]), float(s.loc["a", "fit_time_s_mean"])
    (0.6, 2.0)
    """
    df = _with_defaults(results)
    rows = []
    for model, align in _arm_order(df):
        arm = df[(df["model"] == model) & (df["align"] == align)]
        per_fold = arm.groupby("fold")[["balanced_accuracy", "macro_f1"]].mean()
        per_seed = arm.groupby("seed")["balanced_accuracy"].mean()
        row = {"model": model, "align": align}
        for m in ("balanced_accuracy", "macro_f1"):
            row[f"{m}_mean"] = per_fold[m].mean()
            row[f"{m}_std"] = per_fold[m].std(ddof=1) if len(per_fold) > 1 else np.nan
        row["balanced_accuracy_seed_std"] = per_seed.std(ddof=1) if len(per_seed) > 1 else np.nan
        for m in ("train_balanced_accuracy", "fit_time_s", "predict_time_s"):
            if m in arm:
                row[f"{m}_mean"] = arm[m].mean()
        row["n_folds"] = len(per_fold)
        row["n_seeds"] = len(per_seed)
        if "device" in arm:
            row["device"] = ",".join(sorted(set(map(str, arm["device"]))))
        rows.append(row)
    out = pd.DataFrame(rows)
    if (out["align"] == "none").all():
        return out.drop(columns="align").set_index("model")
    return out.set_index(["model", "align"])


def _pm(mean, std) -> str:
    return f"{mean:.3f} +- {std:.3f}" if np.isfinite(std) else f"{mean:.3f}"


def format_table(summary: pd.DataFrame, chance: float | None = None) -> str:
    """Plain-text table of a :func:`summarize` result: scores as mean +- std over folds.

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`summarize`.
    chance : float, optional
        Balanced accuracy of chance, printed below the table.

    Returns
    -------
    table : str

    Examples
    --------
    >>> import pandas as pd
    >>> from skemotion.benchmark import format_table, summarize
    >>> res = pd.DataFrame({"model": ["a", "a"], "fold": [0, 1], "balanced_accuracy": [0.5, 0.7],
    ...                     "macro_f1": [0.4, 0.6], "fit_time_s": [1.0, 3.0]})
    >>> print(format_table(summarize(res), chance=0.5))  # doctest: +NORMALIZE_WHITESPACE
    model            balanced acc         macro-F1   fit (s)  predict (s)  folds
    ----------------------------------------------------------------------------
    a              0.600 +- 0.141   0.500 +- 0.141      2.00            -      2
    (chance balanced accuracy: 0.500)
    """
    s = summary.reset_index()
    if "align" not in s:
        s["align"] = "none"
    show_align = (s["align"] != "none").any()
    show_seeds = "n_seeds" in s and (s["n_seeds"] > 1).any()
    names = [f"{m}/{a}" if show_align else str(m) for m, a in zip(s["model"], s["align"])]
    w = max(12, *(len(n) for n in names))
    head = (
        f"{'model':<{w}} {'balanced acc':>16} {'macro-F1':>16} {'fit (s)':>9} {'predict (s)':>12}"
    )
    head += f" {'folds':>6}"
    if show_seeds:
        head += f" {'seeds':>6} {'seed sd':>8}"
    lines = [head, "-" * len(head)]
    for name, (_, r) in zip(names, s.iterrows()):
        pred = r.get("predict_time_s_mean", np.nan)
        line = (
            f"{name:<{w}} {_pm(r.balanced_accuracy_mean, r.balanced_accuracy_std):>16}"
            f" {_pm(r.macro_f1_mean, r.macro_f1_std):>16} {r.fit_time_s_mean:>9.2f}"
            f" {(f'{pred:.2f}' if np.isfinite(pred) else '-'):>12} {int(r.n_folds):>6}"
        )
        if show_seeds:
            sd = r.balanced_accuracy_seed_std
            line += f" {int(r.n_seeds):>6} {(f'{sd:.3f}' if np.isfinite(sd) else '-'):>8}"
        lines.append(line)
    if chance is not None:
        lines.append(f"(chance balanced accuracy: {chance:.3f})")
    return "\n".join(lines)


def _unit_scores(folds, subjects, by_subject: bool) -> pd.DataFrame:
    """Balanced accuracy per pairing unit (fold, or subject) and arm, averaged over seeds."""
    if by_subject:
        src, unit = subjects, "subject"
    else:
        src, unit = folds, "fold"
    return src.groupby(["model", "align", unit])["balanced_accuracy"].mean().unstack(unit)


def compare_to_baselines(folds, subjects=None, *, by_subject=False, alpha=0.05):
    """Paired comparisons of every model with the majority and DE + LR baselines.

    Each model is compared with the baselines run with the same alignment, on balanced accuracy
    averaged over seeds, paired over folds (over subjects when ``by_subject``: the
    subject-dependent protocol, whose several folds per subject are not independent).

    Parameters
    ----------
    folds : pandas.DataFrame
        One row per fold (columns model, align, seed, fold, balanced_accuracy).
    subjects : pandas.DataFrame, optional
        One row per subject and fold (needed when ``by_subject``).
    by_subject : bool, default=False
    alpha : float, default=0.05

    Returns
    -------
    comparisons : pandas.DataFrame
        One row per (model, align, reference): means, mean difference, p-value, rank-biserial
        correlation, verdict.
    verdicts : list of str
        One line per model.

    Examples
    --------
    >>> import pandas as pd
    >>> from skemotion.benchmark import compare_to_baselines
    >>> folds = pd.DataFrame({"model": ["majority"] * 3 + ["de_lr"] * 3, "fold": [0, 1, 2] * 2,
    ...                       "balanced_accuracy": [0.5, 0.5, 0.5, 0.7, 0.9, 0.8]})
    >>> print(compare_to_baselines(folds)[1][0])  # doctest: +NORMALIZE_WHITESPACE
    de_lr: balanced accuracy 0.800 over 3 folds; vs majority +0.300 (rank-biserial +1.00; no
    test: 3 folds differ, a Wilcoxon test needs 6 for p < 0.05)
    """
    folds = _with_defaults(folds)
    if by_subject:
        if subjects is None:
            raise ValueError("compare_to_baselines: by_subject=True needs the subjects table.")
        subjects = _with_defaults(subjects)
    table = _unit_scores(folds, subjects, by_subject)
    unit = "subjects" if by_subject else "folds"
    rows, lines = [], []
    for model, align in _arm_order(folds):
        if model == "majority":
            continue
        a = table.loc[(model, align)]
        clauses = []
        for ref in _REFERENCES:
            if ref == model or (ref, align) not in table.index:
                continue
            b = table.loc[(ref, align)]
            common = a.index[a.notna() & b.notna()]
            if len(common) == 0:
                continue
            r = paired_comparison(a[common].to_numpy(), b[common].to_numpy(), alpha=alpha)
            label = ref if align == "none" else f"{ref}/{align}"
            clauses.append(r.describe(label, unit))
            rows.append(
                {"model": model, "align": align, "reference": ref, "n": r.n,
                 "mean": r.mean_a, "reference_mean": r.mean_b,
                 "mean_difference": r.mean_difference, "p_value": r.p_value,
                 "rank_biserial": r.rank_biserial, "verdict": r.verdict}
            )  # fmt: skip
        name = model if align == "none" else f"{model}/{align}"
        n = int(a.notna().sum())
        lines.append(
            f"{name}: balanced accuracy {a.mean():.3f} over {_count(n, unit)}; "
            + "; ".join(clauses)
        )
    return pd.DataFrame(rows), lines


def plot_results(
    subjects: pd.DataFrame, confusion: dict, class_names, chance=None, caption=None
) -> dict:
    """PNG images (bytes) of the per-subject scores and of the confusion matrices.

    Needs matplotlib (``pip install skemotion[plot]``); raises ``ImportError`` without it.

    Parameters
    ----------
    subjects : pandas.DataFrame
        One row per subject and fold (columns model, align, subject, balanced_accuracy).
    confusion : dict
        ``(model, align) -> ndarray (n_classes, n_classes)`` counts summed over folds and seeds.
    class_names : list of str
    chance : float, optional
        Drawn as a horizontal line on the per-subject plot.
    caption : str, optional
        Stored in the PNG metadata (``Description``), e.g. the command that made the results.

    Returns
    -------
    images : dict
        ``{"subject_scores.png": bytes, "confusion_matrices.png": bytes}``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skemotion.benchmark import plot_results
    >>> subjects = pd.DataFrame({"model": ["de_lr"] * 2, "subject": [1, 2],
    ...                          "balanced_accuracy": [0.6, 0.8]})
    >>> images = plot_results(subjects, {("de_lr", "none"): np.eye(2)}, ["low", "high"])
    >>> sorted(images), images["subject_scores.png"][:4]
    (['confusion_matrices.png', 'subject_scores.png'], b'\x89PNG')
    """
    from matplotlib.figure import Figure

    subjects = _with_defaults(subjects)
    arms = _arm_order(subjects)
    per = subjects.groupby(["model", "align", "subject"])["balanced_accuracy"].mean()
    subj = sorted(subjects["subject"].unique(), key=lambda s: (str(type(s)), s))
    x = np.arange(len(subj))
    fig = Figure(figsize=(max(6, 0.5 * len(subj) + 3), 4), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(arms))
    for i, (m, a) in enumerate(arms):
        vals = [per.get((m, a, s), np.nan) for s in subj]
        label = m if a == "none" else f"{m}/{a}"
        ax.bar(x - 0.4 + width * (i + 0.5), vals, width, label=label)
    if chance is not None:
        ax.axhline(chance, color="k", ls="--", lw=1, label="chance")
    ax.set_xticks(x, [str(s) for s in subj])
    ax.set_xlabel("test subject")
    ax.set_ylabel("balanced accuracy (mean over folds and seeds)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    images = {"subject_scores.png": _png(fig, caption)}

    n = len(confusion)
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(3.2 * cols, 3.0 * rows), layout="constrained")
    for i, ((m, a), cm) in enumerate(confusion.items()):
        ax = fig.add_subplot(rows, cols, i + 1)
        cm = np.asarray(cm, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            norm = np.nan_to_num(cm / cm.sum(axis=1, keepdims=True))
        ax.imshow(norm, vmin=0, vmax=1, cmap="Blues")
        for (r, c), v in np.ndenumerate(norm):
            ax.text(c, r, f"{v:.2f}", ha="center", va="center",
                    color="white" if v > 0.5 else "black", fontsize="small")  # fmt: skip
        ticks = np.arange(len(class_names))
        ax.set_xticks(ticks, class_names, rotation=45, ha="right", fontsize="small")
        ax.set_yticks(ticks, class_names, fontsize="small")
        ax.set_title(m if a == "none" else f"{m}/{a}", fontsize="medium")
        ax.set_xlabel("predicted")
        if i % cols == 0:
            ax.set_ylabel("true (rows sum to 1)")
    images["confusion_matrices.png"] = _png(fig, caption)
    return images


def _png(fig, caption=None) -> bytes:
    from .. import __version__

    meta = {"Software": f"skemotion {__version__}"}
    if caption:
        meta["Description"] = caption
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.savefig(buf, format="png", dpi=100, metadata=meta)
    return buf.getvalue()
