"""
GRU-XNet: training on several datasets at once
==============================================

Emotion datasets differ in sampling rate (128 Hz for DEAP, 200 Hz for SEED), montage (14 to 62
electrodes) and window length. GRU-XNet was designed to train on several of them together: every
channel's STFT is resized to one fixed image, channels a dataset lacks are zero images, and one
CNN per channel feeds a bidirectional GRU with self-attention.

Here three synthetic corpora shaped like SEED (62 channels, 200 Hz), DEAP (32 channels,
128 Hz) and an Emotiv headset (14 channels, 128 Hz) are merged with
:func:`skemotion.datasets.harmonize` (resampled to 128 Hz, channels aligned by name). One
subject of each corpus is held out. ``GRUXNetClassifier`` is trained once on the pooled
training subjects of all three corpora, and once per corpus on that corpus alone; the figure
compares their balanced accuracy on the held-out subject of each corpus. The network is a
reduced configuration (smaller CNNs, GRU and STFT grid) so that it trains in a few minutes on a
CPU.
"""

import time
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import balanced_accuracy_score

from skemotion.classifiers import GRUXNetClassifier
from skemotion.datasets import harmonize, make_eeg_emotion


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


common = dict(n_subjects=3, n_classes=2, n_windows_per_trial=6, effect_size=1.5)
corpora = {
    "SEED-like (62 ch)": make_eeg_emotion("seed62", random_state=0, **common),
    "DEAP-like (32 ch)": make_eeg_emotion("deap32", random_state=1, **common),
    "Emotiv (14 ch)": make_eeg_emotion("emotiv14", random_state=2, **common),
}
data = harmonize(corpora, sfreq=128.0)
dataset = data.frame["dataset"].to_numpy()
print(data.X.shape, "channels:", len(data.ch_names))
print(
    "channels present per corpus:",
    {d: int(data.channel_mask[dataset == d][0].sum()) for d in corpora},
)

# %%
# Hold out the last subject of every corpus (``frame["subject"]`` is the subject within its
# corpus; ``groups`` numbers subjects uniquely across corpora).
subject = data.frame["subject"].to_numpy()
test = np.zeros(len(data.y), dtype=bool)
for name in corpora:
    in_corpus = dataset == name
    test |= in_corpus & (subject == subject[in_corpus].max())
train = ~test


def make_model():
    return GRUXNetClassifier(
        filters=(8, 16, 32),
        gru_hidden=32,
        head_units=(32,),
        stft_shape=(32, 32),
        sfreq=data.sfreq,
        lr=3e-3,
        dropout=0.25,
        max_epochs=15,
        random_state=0,
    )


# %%
# One model on the pooled training subjects of all corpora, one model per corpus.
t0 = time.perf_counter()
pooled = make_model().fit(data.X[train], data.y[train])
print(f"pooled model trained in {time.perf_counter() - t0:.0f} s")
scores = {"trained on all three": [], "trained on its own corpus": []}
for name in corpora:
    own = dataset == name
    single = make_model().fit(data.X[train & own], data.y[train & own])
    for label, model in (("trained on all three", pooled), ("trained on its own corpus", single)):
        pred = model.predict(data.X[test & own])
        scores[label].append(balanced_accuracy_score(data.y[test & own], pred))
    print(
        f"{name:<18} held-out subject: pooled {scores['trained on all three'][-1]:.2f}, "
        f"own corpus {scores['trained on its own corpus'][-1]:.2f}"
    )

# %%
# Balanced accuracy on the held-out subject of each corpus (2 classes, chance 0.5).
fig, ax = plt.subplots(figsize=(6.5, 3.5), layout="constrained")
x = np.arange(len(corpora))
for k, (label, values) in enumerate(scores.items()):
    bars = ax.bar(x + (k - 0.5) * 0.38, values, 0.38, label=label)
    ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], padding=2, fontsize=8)
ax.axhline(0.5, color="k", ls="--", lw=0.8, label="chance")
ax.set_xticks(x, list(corpora))
ax.set_ylim(0, 1.1)
ax.set_ylabel("balanced accuracy, held-out subject")
ax.set_title("GRU-XNet on three harmonised corpora")
ax.legend(fontsize=8, loc="lower right")
show_figure(fig)
