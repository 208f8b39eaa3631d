"""
Which channels does a model rely on? Importance and attribution maps
====================================================================

A cross-subject score says how well a model does, not what it looks at. This example explains
two models of the same emotion data on held-out subjects, with the tools of
:mod:`skemotion.inspection`, and draws the answers on the scalp:

1. a synthetic corpus is turned into ``mne.Epochs`` by ``to_mne`` (a stand-in for your own
   recording) and read back with ``from_mne(epochs, groups="subject")``;
2. differential entropy + logistic regression and a small ``EEGNetClassifier`` are fitted on
   six subjects and scored on the two others;
3. ``channel_importance`` (permutation importance, any model) explains the first, by channel
   and by channel and frequency band;
4. ``attribute`` (integrated gradients, the deep classifiers) explains the second, reduced by
   ``summarize_channels`` and ``summarize_bands``;
5. ``plot_topomap`` draws both per-channel maps side by side and ``plot_band_channel`` the
   band x channel maps.

The data's generative model (``skemotion.datasets._synthetic``) is known, so the maps can be
checked: with two classes (negative and positive valence) the effect is an increase of
lateral-temporal beta and gamma power with valence (as Zheng & Lu 2015 report on SEED), plus a
weaker frontal alpha asymmetry. On the 14 channels of the Emotiv montage the lateral-temporal
region peaks at T7 and T8; the occipital channels O1 and O2 carry no valence effect.

Needs the ``explain`` (captum), ``mne`` and ``plot`` extras:
``pip install "skemotion[explain,mne,plot]"``.
"""

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion.classifiers import EEGNetClassifier
from skemotion.datasets import from_mne, make_eeg_emotion, to_mne
from skemotion.features import DifferentialEntropy
from skemotion.inspection import (
    attribute,
    channel_importance,
    plot_band_channel,
    plot_topomap,
    summarize_bands,
    summarize_channels,
)


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


def ranking(values, ch_names):
    """Channel names from the most to the least important."""
    return [ch_names[i] for i in np.argsort(values)[::-1]]


# %%
# Epochs of eight subjects
# ------------------------
# The epochs stand in for your own recording. Two classes, 1 s windows, no artifacts and a
# strong effect keep the example fast and the maps clear; ``to_mne`` stores the signals in
# volts with the 10-05 electrode positions, ``from_mne`` gives back microvolts, the labels (from
# the events) and the subjects (from the metadata).
epochs = to_mne(
    make_eeg_emotion(
        "emotiv14",
        n_subjects=8,
        n_classes=2,
        n_windows_per_trial=5,
        window_seconds=1.0,
        effect_size=3.0,
        artifacts=False,
        random_state=0,
    )
)
data = from_mne(epochs, groups="subject")
ch_names, sfreq = data.ch_names, data.sfreq
train = data.groups < 6  # subjects 0-5 train, subjects 6 and 7 are held out
X_train, y_train = data.X[train], data.y[train]
X_test, y_test = data.X[~train], data.y[~train]
print(data.X.shape, data.target_names, f"{sfreq:g} Hz, held out: {np.unique(data.groups[~train])}")

# %%
# Two models
# ----------
# Differential entropy of five bands per channel feeds a regularised logistic regression; the
# EEGNet reads the raw windows.
de_lr = make_pipeline(
    DifferentialEntropy(sfreq, flatten=True),
    StandardScaler(),
    LogisticRegression(C=0.1, max_iter=1000),
).fit(X_train, y_train)
eegnet = EEGNetClassifier(
    F1=4, D=2, F2=8, kernel_length=16, lr=1e-2, max_epochs=10, device="cpu", random_state=0
).fit(X_train, y_train)
print(
    f"held-out accuracy: DE + LR {de_lr.score(X_test, y_test):.2f}, "
    f"EEGNet {eegnet.score(X_test, y_test):.2f}"
)

# %%
# Permutation importance of the channels (DE + LR)
# ------------------------------------------------
# Each channel in turn is shuffled across the held-out windows (all its samples move together)
# and the drop of the score is its importance. The log-loss sees smaller changes than the
# accuracy, which saturates with such an easy problem.
by_channel = channel_importance(
    de_lr,
    X_test,
    y_test,
    scoring="neg_log_loss",
    n_repeats=5,
    random_state=0,
    ch_names=ch_names,
)
by_band = channel_importance(
    de_lr,
    X_test,
    y_test,
    scoring="neg_log_loss",
    n_repeats=3,
    random_state=0,
    by="band",
    sfreq=sfreq,
    ch_names=ch_names,
)
de_channels = by_channel.importances_mean
de_bands = by_band.importances_mean  # (n_channels, n_bands)
print("DE + LR, most important channels:", ranking(de_channels, ch_names)[:4])
per_band = ", ".join(f"{b} {v:.3f}" for b, v in zip(by_band.band_names, de_bands.sum(axis=0)))
print("DE + LR, importance summed over channels:", per_band)

# %%
# Integrated gradients (EEGNet)
# -----------------------------
# ``attribute`` integrates the gradient of the predicted class's logit from a flat signal (the
# default baseline, zeros) to each held-out window: one value per channel and time sample.
# ``summarize_channels`` averages their magnitude, ``summarize_bands`` splits their power into
# the same frequency bands.
attributions = attribute(eegnet, X_test, n_steps=16)
eegnet_channels = summarize_channels(attributions)
eegnet_bands = summarize_bands(attributions, sfreq)
print("EEGNet, most attributed channels:", ranking(eegnet_channels, ch_names)[:4])

# %%
# The two maps on the scalp
# -------------------------
# Both models lean on the lateral-temporal electrodes, T8 and T7 first (see the rankings
# printed above), where the generative model puts the valence effect; their neighbours F8,
# F7, FC5 and P8, which volume conduction and the edge of the lateral-temporal region reach,
# come next, and the occipital channels O1 and O2, which carry no valence effect, stay pale.
# The values are in different units (a drop of log-loss, a mean absolute attribution), so
# each map has its own colour scale, starting at zero.
fig, axes = plt.subplots(1, 2, figsize=(8, 3.8), layout="constrained")
plot_topomap(
    de_channels,
    ch_names,
    axes=axes[0],
    cmap="Reds",
    vlim=(0, None),
    show_names=True,
    title="DE + LR: permutation importance",
)
plot_topomap(
    eegnet_channels,
    ch_names,
    axes=axes[1],
    cmap="Reds",
    vlim=(0, None),
    show_names=True,
    title="EEGNet: integrated gradients",
)
show_figure(fig)

# %%
# Channel and band
# ----------------
# Shuffling one band of one channel at a time tells in which rhythm the logistic regression
# finds its evidence: beta and gamma of T8 and T7 above all (the sums over channels printed
# above are largest for beta and gamma), and alpha of the left-frontal F7 and F3, the frontal
# alpha asymmetry that is the generative model's second, weaker valence effect. With 40
# held-out windows the small values are noisy (some fall below zero: a shuffle that happened to
# help), and the gamma band of channels the effect barely reaches (O1, O2, AF4) gets some
# weight: permutation importance measures how much this model relies on a feature on these
# windows, not whether the feature carries the effect.
#
# The EEGNet's attributions have their power at T8 and T7, most of it in beta and gamma.
# Integrated gradients multiply the gradient by the window minus the baseline (zeros here), so
# the strong low-frequency power of EEG also shows, weaker, in the delta to alpha rows.
# (Each row of a map is a band, each column a channel; each map has its own scale.)
band_names = by_band.band_names
fig, axes = plt.subplots(2, 1, figsize=(7, 5.5), layout="constrained")
plot_band_channel(
    de_bands,
    ch_names,
    band_names,
    axes=axes[0],
    title="DE + LR: permutation importance by band",
)
plot_band_channel(
    eegnet_bands,
    ch_names,
    band_names,
    axes=axes[1],
    title="EEGNet: attribution power by band",
)
show_figure(fig, "_bands")
