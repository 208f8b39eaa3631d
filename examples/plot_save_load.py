"""
Saving and loading a fitted model with joblib
=============================================

A fitted skemotion estimator, or a whole fitted ``Pipeline``, is saved with ``joblib.dump``
and loaded with ``joblib.load`` like any scikit-learn object; the network's weights travel
inside. The loaded pipeline predicts exactly what the original predicted: the figure plots the
class probabilities of the reloaded model against those of the original.

The files go to a temporary folder that is removed at the end. A joblib file is a pickle:
load only files that you saved yourself or that come from a source you trust. A model trained
on a GPU loads on a CPU-only machine.
"""

import tempfile
from pathlib import Path

import joblib
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.pipeline import make_pipeline

from skemotion.classifiers import EEGNetClassifier
from skemotion.datasets import make_eeg_emotion
from skemotion.features import BandpassFilter
from skemotion.models import EEGNet


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


data = make_eeg_emotion("emotiv14", n_subjects=4, effect_size=2.0, random_state=0)
train, test = data.groups < 3, data.groups == 3
pipe = make_pipeline(
    BandpassFilter(sfreq=data.sfreq, l_freq=1.0, h_freq=45.0),
    EEGNetClassifier(kernel_length=64, max_epochs=20, random_state=0),
)
pipe.fit(data.X[train], data.y[train])
proba = pipe.predict_proba(data.X[test])

# %%
# Save, load, predict again.
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "eegnet_pipeline.joblib"
    joblib.dump(pipe, path)
    print(f"saved {path.name}: {path.stat().st_size / 1024:.0f} KiB")
    reloaded = joblib.load(path)  # a pickle: only load files you trust

    # The network alone, without a pickle: its state_dict, loaded with weights_only=True.
    clf = pipe[-1]
    weights = Path(folder) / "eegnet_weights.pt"
    torch.save(clf.net_.module_.state_dict(), weights)
    module = EEGNet(clf.n_channels_, clf.n_times_, len(clf.classes_), kernel_length=64)
    module.load_state_dict(torch.load(weights, weights_only=True))

proba_reloaded = reloaded.predict_proba(data.X[test])
print(
    "identical predictions:",
    np.array_equal(reloaded.predict(data.X[test]), pipe.predict(data.X[test])),
)
print("largest probability difference:", np.abs(proba_reloaded - proba).max())

module.eval()
with torch.no_grad():
    x = torch.from_numpy(pipe[0].transform(data.X[test]).astype(np.float32))
    proba_module = torch.softmax(module(x), dim=1).numpy()
print("state_dict route, largest difference:", np.abs(proba_module - proba).max())

# %%
# Every probability of the reloaded pipeline sits on the diagonal.
fig, ax = plt.subplots(figsize=(4.2, 4.2), layout="constrained")
for k, name in enumerate(data.target_names):
    ax.scatter(proba[:, k], proba_reloaded[:, k], s=14, label=name)
ax.plot([0, 1], [0, 1], color="k", lw=0.8)
ax.set_xlabel("probability, original pipeline")
ax.set_ylabel("probability, reloaded pipeline")
ax.set_title("joblib round trip")
ax.legend(fontsize=8)
show_figure(fig)
