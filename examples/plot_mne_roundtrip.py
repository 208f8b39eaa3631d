"""
From MNE epochs to a cross-validated pipeline and back
======================================================

Recordings prepared with MNE-Python end up as :class:`mne.Epochs`: signals in volts, class
names in ``event_id``, anything else (subject, trial, ratings) in ``epochs.metadata``. This
example goes from such epochs to a subject-wise cross-validated pipeline and puts its
predictions back into the epochs, without handling arrays by hand:

1. a synthetic corpus is turned into ``mne.EpochsArray`` by ``to_mne`` (a stand-in for your
   own epochs: events named by emotion, ``subject`` and ``trial_id`` columns in the metadata);
2. ``from_mne(epochs, groups="subject")`` returns the package's dataset: ``X`` in microvolts,
   ``y`` class codes named by ``target_names``, ``groups`` the subjects, ``trials`` the trials;
3. differential entropy + logistic regression is scored with ``cross_val_score`` and
   ``LeaveOneGroupOut`` (each fold tests one unseen subject);
4. ``cross_val_predict`` gives each epoch the prediction of the model that never saw its
   subject; the predictions go into ``epochs.metadata``, where MNE's own selection syntax
   reads them (``epochs['predicted == "positive"']``).

The bar chart shows the accuracy of each held-out subject, computed from the metadata.
MNE-Python is an optional dependency: ``pip install "skemotion[mne]"``.
"""

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion.datasets import from_mne, make_eeg_emotion, to_mne
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


# %%
# Epochs as MNE users hold them
# -----------------------------
# ``to_mne`` stores the signals in volts, sets the channel types and the standard 10-05
# electrode positions, names the events by class and keeps one metadata row per epoch.
epochs = to_mne(make_eeg_emotion("emotiv14", n_subjects=5, random_state=0))
print(epochs)
print(epochs.metadata[["subject", "trial_id", "start"]].head(3))

# %%
# From the epochs to a cross-validated pipeline
# ---------------------------------------------
# The labels come from the events (pass ``label="<column>"`` to read them from the metadata
# instead) and the subjects from the ``subject`` column.
data = from_mne(epochs, groups="subject")
print(data.X.shape, data.target_names, f"{data.sfreq:g} Hz")

pipe = make_pipeline(
    DifferentialEntropy(sfreq=data.sfreq, flatten=True),
    StandardScaler(),
    LogisticRegression(max_iter=1000),
)
cv = LeaveOneGroupOut()
scores = cross_val_score(
    pipe, data.X, data.y, groups=data.groups, cv=cv, scoring="balanced_accuracy"
)
print(f"balanced accuracy over subjects: {scores.mean():.2f} +- {scores.std():.2f}")

# %%
# The epochs straight into an estimator
# -------------------------------------
# Outside cross-validation (whose splitters index arrays), the estimators take the epochs
# themselves: ``DifferentialEntropy()`` reads the rate and the channel names from them (its
# features are named after the electrodes), and epochs whose rate or channels differ from
# those seen in fit are refused with a message that says where.
direct = make_pipeline(
    DifferentialEntropy(flatten=True), StandardScaler(), LogisticRegression(max_iter=1000)
)
direct.fit(epochs, data.y)
print("features:", ", ".join(direct[:-1].get_feature_names_out()[:3]), "...")
print("first predictions:", [data.target_names[k] for k in direct.predict(epochs[:3])])

# %%
# Predictions back into the epochs
# --------------------------------
# Each epoch gets the class predicted by the fold that held out its subject.
predicted = cross_val_predict(pipe, data.X, data.y, groups=data.groups, cv=cv)
metadata = epochs.metadata.copy()
metadata["true"] = [data.target_names[k] for k in data.y]
metadata["predicted"] = [data.target_names[k] for k in predicted]
epochs.metadata = metadata
print(epochs['predicted == "positive"'])

per_subject = (metadata["predicted"] == metadata["true"]).groupby(metadata["subject"]).mean()
fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
bars = ax.bar([f"subject {s}" for s in per_subject.index], per_subject.to_numpy())
ax.bar_label(bars, labels=[f"{a:.2f}" for a in per_subject], padding=3)
ax.axhline(1 / len(data.target_names), color="k", ls="--", lw=0.8, label="chance")
ax.set_ylim(0, 1.1)
ax.set_ylabel("accuracy (held-out subject)")
ax.set_title("Out-of-subject predictions, read from epochs.metadata")
ax.legend(loc="upper right")
show_figure(fig)
