"""
Why subject-wise, trial-safe evaluation matters
===============================================

Windows cut from one trial share that trial's state (electrode contact, drift, mood within the
video), so a split that puts windows of one trial on both sides measures how well a model
recognises the *trial*, not the emotion. This example scores the same DE + logistic-regression
pipeline three ways on the synthetic corpus:

- random windows (``StratifiedKFold`` with shuffling): leaky, the number many papers report;
- trial-wise (``StratifiedGroupKFold`` with the trials as groups): no trial on both sides,
  subjects shared between training and test;
- subject-wise (``LeaveOneGroupOut`` with the subjects as groups): the subject-independent
  protocol.

The bar chart shows the mean balanced accuracy of each protocol (whiskers: standard deviation
over folds) beside chance.
"""

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    LeaveOneGroupOut,
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion.datasets import make_eeg_emotion
from skemotion.features import DifferentialEntropy


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


data = make_eeg_emotion("seed62", n_subjects=6, random_state=0)
pipe = make_pipeline(
    DifferentialEntropy(sfreq=data.sfreq, flatten=True),
    StandardScaler(),
    LogisticRegression(max_iter=2000),
)

# %%
# The same pipeline, the same data, three ways to split it.
protocols = {
    "random windows\n(leaky)": (StratifiedKFold(5, shuffle=True, random_state=0), None),
    "trial-wise\n(StratifiedGroupKFold)": (
        StratifiedGroupKFold(5, shuffle=True, random_state=0),
        data.trials,
    ),
    "subject-wise\n(LeaveOneGroupOut)": (LeaveOneGroupOut(), data.groups),
}
scores = {}
for name, (cv, groups) in protocols.items():
    scores[name] = cross_val_score(
        pipe, data.X, data.y, groups=groups, cv=cv, scoring="balanced_accuracy"
    )
    label = name.replace("\n", " ")
    print(f"{label:<40} balanced accuracy {scores[name].mean():.3f} +- {scores[name].std():.3f}")
chance = 1 / len(data.target_names)
print(f"{'chance':<40} balanced accuracy {chance:.3f}")

# %%
# The random split reports the highest score, and it is the wrong one: it rewards recognising
# a trial's windows. Only the subject-wise number says how the model would do on a new person.
fig, ax = plt.subplots(figsize=(6.5, 3.5), layout="constrained")
names = list(scores)
means = [scores[n].mean() for n in names]
stds = [scores[n].std() for n in names]
bars = ax.bar(names, means, yerr=stds, capsize=4, color=["tab:red", "tab:orange", "tab:green"])
ax.bar_label(bars, labels=[f"{m:.2f}" for m in means], padding=3)
ax.axhline(chance, color="k", ls="--", lw=0.8, label="chance")
ax.set_ylim(0, 1.1)
ax.set_ylabel("balanced accuracy")
ax.set_title("One pipeline, three splits")
ax.legend(loc="upper right")
show_figure(fig)
