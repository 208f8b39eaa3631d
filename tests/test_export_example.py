"""The gallery example ``examples/plot_export_onnx.py`` exports a model that matches PyTorch.

The example runs as a user runs it, as a script without a display (a copy in a temporary
folder, ``MPLBACKEND=Agg``), and the test reads what it printed:

- the parity check of ``export_onnx`` and the differences between ONNX Runtime and
  ``predict_proba`` on the held-out windows, in batches of 1 and 17 and on all of them, are
  all at most 1e-5 (the example itself asserts that the predicted labels agree);
- the model compared is worth comparing (held-out accuracy well above chance), so that its
  probabilities are not all alike;
- the one-window latencies are printed;
- the figure is saved next to the script, where is printed, and the ONNX file is gone with
  its temporary folder (nothing else is left next to the script).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
_missing = [m for m in ("onnx", "onnxscript", "matplotlib") if importlib.util.find_spec(m) is None]
if _missing:  # the example needs the onnx and plot extras
    pytest.skip(f"not installed: {', '.join(_missing)}", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "plot_export_onnx.py"
ATOL = 1e-5  # skemotion.export.PARITY_ATOL
NUMBER = r"([0-9.]+(?:e[-+]?[0-9]+)?)"


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The example's standard output and its folder, run once as a script without a display."""
    folder = tmp_path_factory.mktemp("example")
    script = folder / EXAMPLE.name
    shutil.copy(EXAMPLE, script)
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    env.pop("DISPLAY", None)
    res = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    return res.stdout, folder


def _numbers(pattern, stdout):
    found = [float(m) for m in re.findall(pattern, stdout)]
    assert found, f"{pattern!r} not in the output:\n{stdout[-2000:]}"
    return found


def test_onnx_runtime_matches_predict_proba(example):
    stdout, _ = example
    (parity,) = _numbers(rf"parity check: {NUMBER}", stdout)
    assert 0 <= parity <= ATOL, parity
    pattern = rf"batch of +([0-9]+): max abs difference ONNX Runtime vs predict_proba {NUMBER}"
    by_batch = {int(b): float(d) for b, d in re.findall(pattern, stdout)}
    assert sorted(by_batch) == [1, 17], stdout[-2000:]
    (overall,) = _numbers(rf"all held-out windows: max abs difference {NUMBER}", stdout)
    for diff in [*by_batch.values(), overall]:
        assert 0 <= diff <= ATOL, (by_batch, overall)


def test_the_model_compared_has_learned_something(example):
    stdout, _ = example
    (accuracy,) = _numbers(rf"held-out accuracy \(PyTorch\): {NUMBER}", stdout)
    assert accuracy >= 0.8, accuracy
    assert "metadata: EEGNetClassifier, classes [0, 1], 14 channels x 128 samples" in stdout


def test_the_latencies_are_printed(example):
    stdout, _ = example
    pattern = rf"PyTorch {NUMBER} ms, ONNX Runtime {NUMBER} ms \(load_onnx: {NUMBER} ms\)"
    match = re.search(pattern, stdout)
    assert match, stdout[-2000:]
    assert all(float(t) > 0 for t in match.groups())


def test_the_figure_is_saved_and_nothing_else_is_left(example):
    stdout, folder = example
    png = folder / "plot_export_onnx.png"
    assert png.is_file() and png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"figure saved to {png}" in stdout, stdout[-2000:]
    assert sorted(p.name for p in folder.iterdir()) == sorted([EXAMPLE.name, png.name])
