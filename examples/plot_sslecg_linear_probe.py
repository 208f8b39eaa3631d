"""
SSL-ECG: self-supervised pre-training, then a linear probe
==========================================================

``SSLECGEncoder`` pre-trains a 1-D CNN without emotion labels: each ECG window is shown in
seven versions (the original and six transformations) and seven binary heads learn to tell
which version they see. The frozen encoder then embeds windows, and a linear classifier on the
embeddings (a *linear probe*) measures how much arousal information the representation holds.

The encoder is pre-trained on the unlabelled windows of the training subjects only, and the
probe is scored on two held-out subjects beside the classical heart-rate-variability features
(:class:`skemotion.features.HRVFeatures`) and a majority-class baseline. To run in a minute on a
CPU, the encoder is narrower than the original (8, 16, 32 filters instead of 32, 64, 128) and
pre-trains for 10 epochs instead of 100.
"""

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion.datasets import make_ecg_emotion
from skemotion.features import HRVFeatures
from skemotion.ssl import SSLECGEncoder, person_zscore


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
# Synthetic single-lead ECG, 10-s windows at 256 Hz, low vs high arousal. Every subject is
# z-scored with their own robust statistics (label-free, so also fine on test subjects).
data = make_ecg_emotion(n_subjects=6, random_state=0)
X = person_zscore(data.X, data.groups)
train, test = data.groups < 4, data.groups >= 4
print(f"{train.sum()} training windows, {test.sum()} test windows of {X.shape[-1]} samples")

# %%
# Pre-training: ``y`` is not used (``fit(X)`` would do the same).
encoder = SSLECGEncoder(
    sfreq=data.sfreq, n_filters=(8, 16, 32), max_epochs=10, batch_size=8, lr=3e-3, random_state=0
)
encoder.fit(X[train])
print(f"pretext 7-way accuracy on the training windows: {encoder.pretext_accuracy_:.2f}")
print(f"pretext 7-way accuracy on the test subjects:    {encoder.score(X[test]):.2f}")

# %%
# Linear probe on the frozen embeddings, against HRV features and the majority class.
models = {
    "majority": DummyClassifier(strategy="most_frequent"),
    # LF/HF powers need minutes of signal: they are NaN on 10-s windows, hence the imputer
    "HRV + LR": make_pipeline(
        HRVFeatures(sfreq=data.sfreq),
        SimpleImputer(keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    ),
    "SSL-ECG + LR": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
}
inputs = {"majority": X, "HRV + LR": data.X, "SSL-ECG + LR": encoder.transform(X)}
scores = {}
for name, model in models.items():
    Z = inputs[name]
    model.fit(Z[train], data.y[train])
    scores[name] = balanced_accuracy_score(data.y[test], model.predict(Z[test]))
    print(f"{name:<14} balanced accuracy on the held-out subjects {scores[name]:.3f}")

# %%
# Left: the pre-training curve (pretext accuracy over epochs, chance 1/7). Right: the probe.
history = encoder.history_  # skorch History: one row per epoch
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(8, 3.4), layout="constrained")
ax0.plot(history[:, "epoch"], history[:, "train_pretext_accuracy"], marker="o")
ax0.axhline(1 / 7, color="k", ls="--", lw=0.8, label="chance (1/7)")
ax0.set_xlabel("epoch")
ax0.set_ylabel("pretext accuracy (training batches)")
ax0.set_title("Self-supervised pre-training")
ax0.set_ylim(0, 1)
ax0.legend(fontsize=8)
bars = ax1.bar(list(scores), list(scores.values()), color=["grey", "tab:orange", "tab:blue"])
ax1.bar_label(bars, labels=[f"{v:.2f}" for v in scores.values()], padding=2)
ax1.axhline(0.5, color="k", ls="--", lw=0.8)
ax1.set_ylim(0, 1.05)
ax1.set_ylabel("balanced accuracy, 2 held-out subjects")
ax1.set_title("Arousal from ECG")
show_figure(fig)

# %%
# On this synthetic corpus, arousal is carried by heart rate and its variability, which the
# HRV features read almost directly; whether the self-supervised embedding competes depends
# on its width and pre-training budget (see the SSL-ECG benchmark in the documentation).
print("embedding size:", encoder.transform(X[:1]).shape[1], "| windows:", np.bincount(data.y))
