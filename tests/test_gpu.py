"""CUDA training, mixed precision, and a GPU-trained model loading on a CPU-only machine.

Skipped without a CUDA device (CI has none); run with ``pytest -m gpu`` on a GPU machine.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from skemotion.classifiers import EEGNetClassifier
from skemotion.datasets import make_eeg_emotion

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no cuda device"),
]


@pytest.fixture(scope="module")
def data():
    return make_eeg_emotion("emotiv14", n_subjects=2, random_state=0)


@pytest.mark.parametrize("precision", ["32", "bf16", "16-mixed"])
def test_cuda_training(data, precision):
    clf = EEGNetClassifier(max_epochs=3, device="auto", precision=precision, random_state=0)
    clf.fit(data.X, data.y)
    assert next(clf.net_.module_.parameters()).is_cuda
    proba = clf.predict_proba(data.X)
    assert np.isfinite(proba).all() and np.allclose(proba.sum(1), 1, atol=1e-3)


def test_gpu_model_loads_on_cpu(tmp_path, data):
    import joblib

    clf = EEGNetClassifier(max_epochs=2, device="cuda", random_state=0).fit(data.X, data.y)
    joblib.dump(clf, tmp_path / "m.joblib")
    np.save(tmp_path / "X.npy", data.X[:8])
    np.save(tmp_path / "p.npy", clf.predict_proba(data.X[:8]))
    code = textwrap.dedent(
        f"""
        import warnings, joblib, numpy as np, torch
        assert not torch.cuda.is_available()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = joblib.load({str(tmp_path / "m.joblib")!r})
        out = clf.predict_proba(np.load({str(tmp_path / "X.npy")!r}))
        np.testing.assert_allclose(out, np.load({str(tmp_path / "p.npy")!r}), atol=1e-4)
        print("ok")
        """
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
