"""Windowing helpers, the shared window assembler and the other helpers the loaders share."""

import re
from pathlib import Path

import numpy as np
import pytest

from skemotion.datasets import LOADERS, sliding_windows
from skemotion.datasets._loading import (
    DatasetFormatError,
    TrialSource,
    Windowing,
    assemble_windows,
    index_files,
    present_pairs,
    remove_baseline,
    select_subjects,
)
from skemotion.datasets._targets import QUADRANT_NAMES, ClassCodes, RatingTarget
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


def test_windowing_counts_windows_and_builds_the_bunch():
    x = np.arange(2 * 250, dtype=np.float64).reshape(2, 250)
    bad = np.zeros(250, bool)
    bad[120] = True  # inside the windows starting at samples 50 and 100
    sources = [TrialSource.held(x, 4, 2, 3, target=1, labels={"v": 0.5}, bad=bad)]
    windowing = Windowing("load_x", 100.0, 1.0, 0.5)
    assert windowing.count(sources) == 4
    data = windowing.bunch(
        sources, ch_names=("a", "b"), target=ClassCodes({}, ("lo", "hi")), about="X, 2 subjects"
    )
    assert data.DESCR == "X, 2 subjects, 1.0 s windows, overlap 0.5."
    assert data.X.shape == (2, 2, 100) and data.X.dtype == np.float32
    np.testing.assert_array_equal(data.X[1], x[:, 150:250])
    assert data.y.tolist() == [1, 1] and data.y.dtype == np.int64
    assert data.frame["start"].tolist() == [0.0, 1.5] and data.frame["v"].tolist() == [0.5] * 2
    assert data.trials.tolist() == [4_002_003] * 2
    assert data.ch_names == ["a", "b"] and data.target_names == ["lo", "hi"]
    assert data.sfreq == 100.0


def test_rating_target_encodes_names_and_describes():
    scales = ("valence", "arousal")
    quadrant = RatingTarget.check("quadrant", 5, ">=", scales, "load_x")
    assert quadrant.encode({"valence": 5.0, "arousal": 4.0}) == 2  # high valence, low arousal
    assert quadrant.names == QUADRANT_NAMES and quadrant.y_dtype is np.int64
    assert str(quadrant) == "target='quadrant', threshold=5 (>=)"
    binary = RatingTarget.check("arousal", 5.0, ">", scales, "load_x")
    assert [binary.encode({"arousal": v}) for v in (5.0, 5.5)] == [0, 1]
    assert binary.names == ["low_arousal", "high_arousal"]
    raw = RatingTarget.check("valence", None, ">", scales, "load_x")
    assert raw.encode({"valence": 6.5}) == 6.5 and raw.y_dtype is np.float64
    assert raw.names == ["valence"]
    with pytest.raises(ValueError, match="load_x: target='quadrant' needs a numeric threshold"):
        RatingTarget.check("quadrant", None, ">", scales, "load_x")
    with pytest.raises(ValueError, match="load_x: target must be one of"):
        RatingTarget.check("liking", 5.0, ">", scales, "load_x")


def test_select_subjects():
    assert select_subjects(None, {3: "c", 1: "a"}, "none found") == [1, 3]  # sorted
    with pytest.raises(FileNotFoundError, match="^none found$"):
        select_subjects(None, {}, "none found")
    assert select_subjects([2], {1}, "none found") == [2]  # no per-subject check asked
    with pytest.raises(FileNotFoundError, match="^no 2$"):
        select_subjects([1, 2], {1}, "none found", lambda s: f"no {s}")


def test_present_pairs_partial_copies_and_selections():
    found = {(1, 1): "a", (1, 3): "b", (2, 2): "c"}

    def pairs(subjects, parts, selected):
        return present_pairs(
            subjects, parts, found, selected, lambda s, p: f"{s}/{p}", lambda s, p: f"no {s}/{p}"
        )

    # nothing selected: what is there loads, in subject then part order; the rest is listed
    assert pairs([1, 2], [1, 2, 3], False) == ([(1, 1), (1, 3), (2, 2)], ["1/2", "2/1", "2/3"])
    assert pairs([2, 1], [2, 3], False) == ([(2, 2), (1, 3)], ["2/3", "1/2"])
    with pytest.raises(FileNotFoundError, match="^no 1/2$"):  # a selected part must be there
        pairs([1], [1, 2], True)
    with pytest.raises(FileNotFoundError, match="^no 3/1$"):  # a subject with no part at all
        pairs([3], [1, 2, 3], False)


def test_index_files_keys_and_duplicates():
    pattern = re.compile(r"^S(\d+)\.pkl$")
    files = [Path("a/S2.pkl"), Path("a/notes.txt"), Path("S3.pkl")]

    def index(files):
        return index_files(
            files, pattern, lambda m: int(m.group(1)), lambda k, a, b: f"two {k}: {a} {b}"
        )

    assert index(files) == {2: Path("a/S2.pkl"), 3: Path("S3.pkl")}
    with pytest.raises(DatasetFormatError, match="^two 2: a/S2.pkl b/S2.pkl$"):
        index([*files, Path("b/S2.pkl")])
