"""Windowing helpers and the shared window assembler."""

import numpy as np
import pytest

from skemotion.datasets import LOADERS, sliding_windows
from skemotion.datasets._loading import TrialSource, assemble_windows, remove_baseline
from skemotion.datasets._windowing import n_windows, window_params


def test_sliding_windows_are_views_with_start_times():
    x = np.arange(2 * 1000, dtype=np.float64).reshape(2, 1000)
    w, starts = sliding_windows(x, sfreq=100.0, window_seconds=2.0, overlap=0.5)
    assert w.shape == (9, 2, 200)
    assert np.shares_memory(w, x)
    np.testing.assert_allclose(starts, np.arange(9) * 1.0)
    for i in range(9):
        np.testing.assert_array_equal(w[i], x[:, i * 100 : i * 100 + 200])


def test_sliding_windows_no_overlap_drops_remainder():
    x = np.zeros((3, 1050))
    w, starts = sliding_windows(x, 100.0, 2.0)
    assert w.shape == (5, 3, 200)
    assert starts[-1] == 8.0


def test_sliding_windows_shorter_than_a_window():
    w, starts = sliding_windows(np.zeros((2, 50)), 100.0, 1.0)
    assert w.shape == (0, 2, 100) and starts.shape == (0,)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"window_seconds": 0}, "window_seconds"),
        ({"window_seconds": -1.0}, "window_seconds"),
        ({"window_seconds": "2"}, "window_seconds"),
        ({"window_seconds": 1.0, "overlap": 1.0}, "overlap"),
        ({"window_seconds": 1.0, "overlap": -0.1}, "overlap"),
        ({"window_seconds": 0.001}, "shorter than one sample"),
    ],
)
def test_window_params_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        window_params(100.0, where="load_x", **{"overlap": 0.0, **kwargs})


def test_n_windows_matches_views():
    for n in (99, 100, 101, 257, 1000):
        length, step = window_params(100.0, 1.0, 0.25)
        assert (
            n_windows(n, length, step)
            == sliding_windows(np.zeros((1, n)), 100.0, 1.0, 0.25)[0].shape[0]
        )


def test_assemble_windows_trials_groups_and_nan_mask():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 500)), rng.standard_normal((2, 300))
    bad = np.zeros(300, bool)
    bad[150] = True
    sources = [
        TrialSource(7, 1, 1, 500, lambda: a, target=0, labels={"v": 1.0}),
        TrialSource(7, 1, 2, 40, lambda: 1 / 0, target=1),  # too short: never loaded
        TrialSource(9, 2, 1, 300, lambda: b, target=1, labels={"v": 2.0}, bad=bad),
    ]
    out = assemble_windows(
        sources, loader="t", n_channels=2, sfreq=100.0, window_seconds=1.0, overlap=0.0
    )
    assert out["X"].dtype == np.float32 and out["X"].shape == (5 + 2, 2, 100)
    assert out["y"].tolist() == [0] * 5 + [1] * 2
    assert out["groups"].tolist() == [7] * 5 + [9] * 2
    # ids name the recording: subject * 10**6 + session * 1000 + trial
    assert out["trials"].tolist() == [7_001_001] * 5 + [9_002_001] * 2
    assert out["frame"]["start"].tolist() == [0, 1, 2, 3, 4, 0, 2]  # window at 1 s held NaN
    np.testing.assert_allclose(out["X"][6], b[:, 200:300].astype(np.float32))
    assert sources == [None, None, None]  # consumed


def test_remove_baseline_segment_and_mean():
    rng = np.random.default_rng(1)
    trial, base = rng.standard_normal((3, 250)), rng.standard_normal((3, 300))
    seg = remove_baseline(trial, base, "segment", 100, "t")
    template = base.reshape(3, 3, 100).mean(axis=1)
    expected = trial - np.concatenate([template, template, template[:, :50]], axis=1)
    np.testing.assert_allclose(seg, expected, rtol=1e-5, atol=1e-5)
    mean = remove_baseline(trial, base, "mean", 100, "t")
    np.testing.assert_allclose(mean, trial - base.mean(axis=1, keepdims=True), atol=1e-5)
    assert remove_baseline(trial, base, None, 100, "t").dtype == np.float32


def test_loaders_registry_names_and_cli_keywords():
    import inspect

    assert sorted(LOADERS) == sorted(
        ["deap", "seed", "seed_iv", "amigos", "dreamer", "gameemo", "wesad"]
    )
    for name, fn in LOADERS.items():
        params = inspect.signature(fn).parameters
        assert fn.__name__ == f"load_{name}"
        for kw in ("subjects", "window_seconds", "overlap", "verbose"):
            assert params[kw].kind is inspect.Parameter.KEYWORD_ONLY, (name, kw)
