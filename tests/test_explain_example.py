"""The gallery example ``examples/plot_explain_topomap.py`` finds what the data put there.

The example explains two models fitted on the synthetic corpus, whose class effect is known
(``skemotion.datasets._synthetic``): with two classes (negative / positive valence) it is an
increase of lateral-temporal beta and gamma power with valence, which peaks at T7 and T8 on
the 14 channels of the Emotiv montage. The example runs as a user runs it, as a script without
a display (a copy in a temporary folder, ``MPLBACKEND=Agg``), and the test reads its results:

- both explanations rank T7 and T8 in the top quarter of the channels: the permutation
  importance of differential entropy + logistic regression (``channel_importance``) and the
  integrated gradients of the EEGNet (``summarize_channels`` of ``attribute``), in the order
  of the example's channel names;
- in beta and gamma rather than delta and theta, for both models;
- both figures are saved next to the script, and where is printed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

_missing = [m for m in ("mne", "captum", "matplotlib") if importlib.util.find_spec(m) is None]
if _missing:  # the example needs the explain, mne and plot extras
    pytest.skip(f"not installed: {', '.join(_missing)}", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "plot_explain_topomap.py"
EMOTIV14 = "AF3 F7 F3 FC5 T7 P7 O1 O2 P8 T8 FC6 F4 F8 AF4".split()
INFORMATIVE = ["T7", "T8"]  # the peak of the lateral-temporal beta/gamma effect
UNINFORMATIVE = ["O1", "O2"]  # no valence effect there
FIGURES = ["plot_explain_topomap.png", "plot_explain_topomap_bands.png"]

# runs the example as a script and prints what it computed as one JSON line
_DRIVER = """
import json, runpy, sys
import numpy as np

ns = runpy.run_path(sys.argv[1], run_name="__main__")
out = {k: np.asarray(ns[k]).tolist() for k in
       ("de_channels", "eegnet_channels", "de_bands", "eegnet_bands")}
out["ch_names"] = list(ns["ch_names"])
out["importance_ch_names"] = list(ns["by_channel"].ch_names)
out["band_names"] = list(ns["band_names"])
out["scores"] = [m.score(ns["X_test"], ns["y_test"]) for m in (ns["de_lr"], ns["eegnet"])]
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The example's results and its folder, run once as a script without a display."""
    folder = tmp_path_factory.mktemp("example")
    script = folder / EXAMPLE.name
    shutil.copy(EXAMPLE, script)
    (folder / "driver.py").write_text(_DRIVER, encoding="utf-8")
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    env.pop("DISPLAY", None)
    res = subprocess.run(
        [sys.executable, str(folder / "driver.py"), str(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-4000:]
    line = next(x for x in res.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    return result, folder, res.stdout


def _rank(values, ch_names, name):
    """1-based rank of channel ``name`` by decreasing value."""
    order = np.argsort(np.asarray(values))[::-1]
    return [ch_names[i] for i in order].index(name) + 1


def _check_informative_on_top(values, ch_names):
    """T7 and T8 rank in the top quarter of the channels and above O1 and O2."""
    n_top = len(ch_names) // 4
    ranks = {name: _rank(values, ch_names, name) for name in INFORMATIVE + UNINFORMATIVE}
    for name in INFORMATIVE:
        assert ranks[name] <= n_top, f"{name} ranks {ranks[name]} of {len(ch_names)}: {ranks}"
    assert max(ranks[n] for n in INFORMATIVE) < min(ranks[n] for n in UNINFORMATIVE), ranks


def test_the_example_explains_models_worth_explaining(example):
    result, _, _ = example
    # the channel names the example ranks by are the Emotiv montage's, in its order
    assert result["ch_names"] == EMOTIV14
    assert result["importance_ch_names"] == result["ch_names"]
    de_score, eegnet_score = result["scores"]
    assert de_score > 0.9 and eegnet_score > 0.85, result["scores"]


@pytest.mark.parametrize("key", ["de_channels", "eegnet_channels"])
def test_informative_channels_rank_in_the_top_quarter(example, key):
    result, _, _ = example
    values = result[key]
    assert len(values) == len(result["ch_names"])
    _check_informative_on_top(values, result["ch_names"])


@pytest.mark.parametrize("key", ["de_bands", "eegnet_bands"])
def test_the_informative_channels_are_read_in_beta_and_gamma(example, key):
    result, _, _ = example
    bands = result["band_names"]
    values = np.asarray(result[key])  # (n_channels, n_bands)
    assert values.shape == (len(result["ch_names"]), len(bands))
    rows = values[[result["ch_names"].index(n) for n in INFORMATIVE]]
    fast = rows[:, [bands.index("beta"), bands.index("gamma")]].mean()
    slow = rows[:, [bands.index("delta"), bands.index("theta")]].mean()
    assert fast > 1.5 * max(slow, 0.0), (bands, rows)


def test_a_shuffled_map_is_noticed(example):
    """The rank check is no formality: the example's maps with their channels rotated (each
    value given to another channel) fail it."""
    result, _, _ = example
    for key in ("de_channels", "eegnet_channels"):
        with pytest.raises(AssertionError):
            _check_informative_on_top(np.roll(result[key], 7), result["ch_names"])


def test_the_example_saves_its_figures(example):
    _, folder, stdout = example
    for name in FIGURES:
        png = folder / name
        assert png.is_file() and png.stat().st_size > 10_000, name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert f"figure saved to {png}" in stdout, stdout[-2000:]
    assert sorted(p.name for p in folder.glob("*.png")) == FIGURES
