"""
SST-EmotionNet: attention maps on the scalp
===========================================

``SSTEmotionNetClassifier`` places every window on an interpolated electrode map twice: the
differential entropy of five frequency bands (the spectral stream) and the signal's samples
(the temporal stream). After each transition of its 3-D dense streams, an attention module
weighs the map's pixels (a spatial gate) and its bands or time steps. ``attention_maps``
returns those weights for any window.

The classifier is trained on four subjects of the synthetic 32-channel corpus and scored on a
fifth, beside the classical DE + logistic-regression baseline on the same split. The first
figure shows the spectral stream's spatial attention after the first transition, averaged
over the held-out windows of each class, on the scalp grid (nose up, the subject's right to
the right) with the electrodes drawn on top; the second, the temporal stream's attention
along time. Attention shows where the network looks, not whether it is right: read the maps
together with the held-out score.
"""

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion.classifiers import SSTEmotionNetClassifier
from skemotion.datasets import make_eeg_emotion
from skemotion.features import DifferentialEntropy
from skemotion.features.functional import grid_weights


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


data = make_eeg_emotion("deap32", n_subjects=5, effect_size=3.0, random_state=0)
train, test = data.groups != 0, data.groups == 0

clf = SSTEmotionNetClassifier("deap32", max_epochs=20, random_state=0)
clf.fit(data.X[train], data.y[train])
baseline = make_pipeline(
    DifferentialEntropy(sfreq=data.sfreq, flatten=True),
    StandardScaler(),
    LogisticRegression(max_iter=2000),
).fit(data.X[train], data.y[train])
for name, model in (("SST-EmotionNet", clf), ("DE + LR", baseline)):
    score = balanced_accuracy_score(data.y[test], model.predict(data.X[test]))
    print(f"{name:<15} held-out subject: balanced accuracy {score:.3f}")
print("attention shapes:", clf.net_.module_.attention_shapes)

# %%
# Spatial attention of the spectral stream after the first transition: a map half as wide as
# the input grid. Pixels outside the electrodes' hull carry no signal, so they are masked
# (``grid_mask_`` pooled to the map's size).
maps = clf.attention_maps(data.X[test])
spatial = maps["spectral_spatial"][0]  # (n_windows, h, w)
h = spatial.shape[1]
factor = clf.grid_size // h
mask = clf.grid_mask_.reshape(h, factor, h, factor).any(axis=(1, 3))

# electrode positions on the map: the pixel of each channel on the input grid, scaled
W, (rows, cols) = grid_weights(clf.ch_names_, f"{clf.grid_size}x{clf.grid_size}", "none")
pixel = W.argmax(axis=0)
ey, ex = (pixel // cols + 0.5) / factor - 0.5, (pixel % cols + 0.5) / factor - 0.5

y_test = data.y[test]
means = [spatial[y_test == k].mean(axis=0) for k in range(len(data.target_names))]
vmin, vmax = min(m[mask].min() for m in means), max(m[mask].max() for m in means)
fig, axes = plt.subplots(1, len(means), figsize=(9, 3.4), layout="constrained")
for ax, name, mean in zip(axes, data.target_names, means):
    im = ax.imshow(np.where(mask, mean, np.nan), cmap="viridis", vmin=vmin, vmax=vmax)
    ax.scatter(ex, ey, s=8, c="w", edgecolors="k", linewidths=0.4)
    ax.set_title(f"class {name}")
    ax.set_axis_off()
fig.colorbar(im, ax=axes, shrink=0.8, label="spatial attention weight")
fig.suptitle("Spectral stream, spatial attention after the first transition (held-out subject)")
show_figure(fig, "_spatial")

# %%
# The temporal stream's attention along time (one weight per time step of its first
# transition), averaged per class.
time_weights = maps["temporal_time"][0]  # (n_windows, d)
fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
for k, name in enumerate(data.target_names):
    ax.plot(time_weights[y_test == k].mean(axis=0), marker="o", label=name)
ax.set_xlabel("time step of the temporal stream (after the first transition)")
ax.set_ylabel("attention weight")
ax.set_title("Temporal stream, attention along time")
ax.legend(fontsize=8)
show_figure(fig, "_temporal")
