"""
Exporting a deep classifier to ONNX and checking it against PyTorch
===================================================================

A fitted deep classifier can leave Python's scientific stack: ``export_onnx`` writes it as an
ONNX model of its class probabilities, from raw windows ``(batch, n_channels, n_times)`` to
``predict_proba``, that ONNX Runtime runs without torch or skemotion. This example

1. fits a small ``EEGNetClassifier`` on four subjects of the synthetic corpus;
2. exports it with ``export_onnx``, which compares ONNX Runtime with ``predict_proba`` on probe
   windows before it writes anything, and returns the largest difference;
3. runs the file with a plain ``onnxruntime.InferenceSession`` (numpy, json and onnxruntime
   only) and with ``load_onnx``, on the windows of the held-out subject, in batches of 1 and
   17 windows, and checks that both agree with ``predict_proba``;
4. times the prediction of one window, ONNX Runtime against PyTorch.

The figure plots the probability of the positive class from ONNX Runtime against PyTorch's:
every point lies on the diagonal. The file goes to a temporary folder that is removed at the
end. Needs the ``onnx`` and ``plot`` extras: ``pip install "skemotion[onnx,plot]"``.
"""

import json
import tempfile
import time
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort

from skemotion.classifiers import EEGNetClassifier
from skemotion.datasets import make_eeg_emotion
from skemotion.export import export_onnx, load_onnx


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


def median_ms(predict, x, n_calls=40):
    """Median wall time of ``predict(x)`` in milliseconds, after one warm-up call."""
    predict(x)
    times = []
    for _ in range(n_calls):
        start = time.perf_counter()
        predict(x)
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


# %%
# A small EEGNet on four subjects
# -------------------------------
# Two classes, 1 s windows of the 14-channel Emotiv montage at 128 Hz, no artifacts and a
# strong effect keep the example fast. The fifth subject is held out: the ONNX model is
# compared with PyTorch on windows neither has seen.
data = make_eeg_emotion(
    "emotiv14",
    n_subjects=5,
    n_classes=2,
    n_windows_per_trial=5,
    window_seconds=1.0,
    effect_size=3.0,
    artifacts=False,
    random_state=0,
)
train, test = data.groups < 4, data.groups == 4
X_test = data.X[test]
clf = EEGNetClassifier(
    F1=4, D=2, F2=8, kernel_length=32, lr=1e-2, max_epochs=10, device="cpu", random_state=0
)
clf.fit(data.X[train], data.y[train])
print(f"{X_test.shape[0]} held-out windows {X_test.shape[1:]}, {data.sfreq:g} Hz")
print(f"held-out accuracy (PyTorch): {clf.score(X_test, data.y[test]):.2f}")

# %%
# Export, then run the file with ONNX Runtime alone
# -------------------------------------------------
# ``export_onnx`` returns the largest absolute difference it measured on its probe windows
# (it refuses to write a model that differs by more than 1e-5). The labels, the window shape
# and the skemotion version travel in the model's metadata. The plain session below needs only
# numpy, json and onnxruntime: this is what runs on a machine without torch.
folder = tempfile.TemporaryDirectory()
path = Path(folder.name) / "eegnet.onnx"
parity = export_onnx(clf, path, include_preprocessing=True)
print(f"exported {path.name} ({path.stat().st_size / 1024:.0f} KiB); parity check: {parity:.3g}")

session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
meta = session.get_modelmeta().custom_metadata_map
classes = np.asarray(json.loads(meta["classes_"]))
print(f"metadata: {meta['estimator']}, classes {classes.tolist()}, ", end="")
print(f"{meta['n_channels']} channels x {meta['n_times']} samples")
model = load_onnx(path)  # the same file, wrapped with predict_proba / predict / classes_

# %%
# Parity on the held-out windows, in batches of 1 and 17
# ------------------------------------------------------
# The batch axis of the model is dynamic: the same file takes one window or many.
for batch in (1, 17):
    windows = X_test[:batch].astype(np.float32)
    expected = clf.predict_proba(windows)
    plain = session.run(None, {"windows": windows})[0]
    wrapped = model.predict_proba(windows)
    diff = max(np.abs(plain - expected).max(), np.abs(wrapped - expected).max())
    print(f"batch of {batch:2d}: max abs difference ONNX Runtime vs predict_proba {diff:.3g}")
    assert (classes[plain.argmax(axis=1)] == clf.predict(windows)).all()
    assert (model.predict(windows) == clf.predict(windows)).all()

proba_torch = clf.predict_proba(X_test)
proba_onnx = session.run(None, {"windows": X_test.astype(np.float32)})[0]
print(f"all held-out windows: max abs difference {np.abs(proba_onnx - proba_torch).max():.3g}")

# %%
# One window at a time
# --------------------
# Real-time use classifies one window per hop. The PyTorch path also validates the input and
# goes through skorch's data loader on every call; the times depend on the machine and its
# load, so read the ratio rather than the digits.
one = X_test[:1].astype(np.float32)
ms_torch = median_ms(clf.predict_proba, one)
ms_plain = median_ms(lambda x: session.run(None, {"windows": x}), one)
ms_wrapped = median_ms(model.predict_proba, one)
print(f"one-window latency, median of 40 calls: PyTorch {ms_torch:.2f} ms, ", end="")
print(f"ONNX Runtime {ms_plain:.2f} ms (load_onnx: {ms_wrapped:.2f} ms)")
folder.cleanup()

# %%
# ONNX Runtime against PyTorch
# ----------------------------
# The probability of the positive class for every held-out window.
positive = list(clf.classes_).index(1)
fig, ax = plt.subplots(figsize=(4.2, 4.2), layout="constrained")
ax.plot([0, 1], [0, 1], color="k", lw=0.8, label="identity")
ax.scatter(proba_torch[:, positive], proba_onnx[:, positive], s=16, label="held-out window")
ax.set_xlabel(f"P({data.target_names[1]}), PyTorch predict_proba")
ax.set_ylabel(f"P({data.target_names[1]}), ONNX Runtime")
ax.set_title("EEGNet exported to ONNX")
ax.legend(loc="upper left", fontsize=8)
show_figure(fig)
