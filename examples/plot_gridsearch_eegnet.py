"""
Tuning a Pipeline with GridSearchCV, subject-wise
=================================================

A deep classifier is a plain scikit-learn estimator: it sits at the end of a ``Pipeline``
(here a band-pass filter in front of EEGNet), and ``GridSearchCV`` tunes the pipeline's
parameters with ``LeaveOneGroupOut`` over the training subjects (``groups=subjects`` in
``fit``). The figure is the grid-search curve: the mean and standard deviation of the
subject-wise validation score for every learning rate and dropout rate.

The score of the best configuration inside the search is optimistic (it was *chosen* on those
folds), so the tuned pipeline is also scored on a subject that the search never saw. One
subject is a small test set and subjects differ a lot: the held-out score can land far from
the selection score, in either direction. Report the held-out number (or, better, nested
cross-validation over all subjects), never ``best_score_``.
"""

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut
from sklearn.pipeline import make_pipeline

from skemotion.classifiers import EEGNetClassifier
from skemotion.datasets import make_eeg_emotion
from skemotion.features import BandpassFilter


def show_figure(fig, suffix=""):
    """Show ``fig``; without a display (a non-interactive backend such as Agg), save it next
    to this script instead and say where. (Sphinx-gallery runs the script without
    ``__file__`` and collects the figures itself.)"""
    headless = matplotlib.get_backend().lower() in {"agg", "cairo", "pdf", "ps", "svg"}
    if not headless or "__file__" not in globals():
        plt.show()
        return
    path = Path(__file__).with_name(f"{Path(__file__).stem}{suffix}.png")
    fig.savefig(path)
    print(f"No display: figure saved to {path}")


data = make_eeg_emotion("emotiv14", n_subjects=5, n_classes=2, effect_size=2.0, random_state=0)
held_out = data.groups == 4  # never seen by the search

pipe = make_pipeline(
    BandpassFilter(sfreq=data.sfreq, l_freq=1.0, h_freq=45.0),
    EEGNetClassifier(kernel_length=64, max_epochs=20, random_state=0),
)
param_grid = {
    "eegnetclassifier__lr": [3e-4, 1e-3, 3e-3, 1e-2],
    "eegnetclassifier__dropout": [0.25, 0.5],
}
search = GridSearchCV(pipe, param_grid, cv=LeaveOneGroupOut(), scoring="balanced_accuracy")
search.fit(data.X[~held_out], data.y[~held_out], groups=data.groups[~held_out])

print("best parameters", search.best_params_)
print("selection score (optimistic)", round(search.best_score_, 3))
pred = search.predict(data.X[held_out])
held_out_score = balanced_accuracy_score(data.y[held_out], pred)
print("held-out subject", round(held_out_score, 3))

# %%
# The grid-search curve, from ``cv_results_``: one line per dropout rate, the learning rate on
# the x axis, the band one standard deviation over the 4 validation subjects.
res = pd.DataFrame(search.cv_results_)
fig, ax = plt.subplots(figsize=(6.5, 3.6), layout="constrained")
for dropout, sub in res.groupby("param_eegnetclassifier__dropout"):
    sub = sub.sort_values("param_eegnetclassifier__lr")
    lr = sub["param_eegnetclassifier__lr"].to_numpy(dtype=float)
    mean = sub["mean_test_score"].to_numpy()
    std = sub["std_test_score"].to_numpy()
    ax.plot(lr, mean, marker="o", label=f"dropout {dropout}")
    ax.fill_between(lr, mean - std, mean + std, alpha=0.2)
best_lr = search.best_params_["eegnetclassifier__lr"]
ax.scatter([best_lr], [search.best_score_], s=120, facecolors="none", edgecolors="k", zorder=3)
ax.axhline(held_out_score, color="tab:green", ls=":", label="tuned model, held-out subject")
ax.axhline(0.5, color="k", ls="--", lw=0.8, label="chance")
ax.set_xscale("log")
ax.set_xlabel("learning rate")
ax.set_ylabel("balanced accuracy (LOSO validation)")
ax.set_ylim(0, 1.05)
ax.set_title("GridSearchCV over a Pipeline, leave one subject out")
ax.legend(fontsize=8, loc="lower right")
show_figure(fig)
