"""load_seed and load_seed_iv on tiny MATLAB v5 files in the exact SEED / SEED-IV layout."""

import tracemalloc

import numpy as np
import pytest
import scipy.io
from _fixtures_datasets import (
    SEED_IV_LABELS,
    SEED_LABELS,
    snapshot,
    truncate,
    write_seed,
    write_seed_iv,
)

from skemotion.datasets import SEED62, DatasetFormatError, list_subjects, load_seed, load_seed_iv


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    root = tmp_path_factory.mktemp("seed")
    return root, write_seed(root, subjects=(1, 2))


@pytest.fixture(scope="module")
def seed_iv(tmp_path_factory):
    root = tmp_path_factory.mktemp("seed_iv")
    return root, write_seed_iv(root, subjects=(1, 3))


def _n_windows(trials, length):
    return sum(t.shape[1] // length for t in trials)


def test_seed_shapes_labels_sessions(seed):
    root, ref = seed
    before = snapshot(root)
    b = load_seed(root, verbose=False)
    assert snapshot(root) == before
    assert b.ch_names == SEED62 and b.sfreq == 200.0
    n = sum(_n_windows(ref[k], 200) for k in ref)
    assert b.X.shape == (n, 62, 200) and b.X.dtype == np.float32
    assert b.target_names == ["negative", "neutral", "positive"]
    f = b.frame
    raw = np.array(SEED_LABELS)[f.trial - 1]
    np.testing.assert_array_equal(f.label, raw)
    np.testing.assert_array_equal(b.y, raw + 1)  # -1, 0, 1 -> 0, 1, 2
    assert sorted(f.session.unique()) == [1, 2, 3]
    assert len(np.unique(b.trials)) == 2 * 3 * 15
    # trials ids are unique per subject-session-trial
    assert (
        f.assign(t=b.trials)
        .groupby("t")[["subject", "session", "trial"]]
        .nunique()
        .eq(1)
        .all(axis=None)
    )
    np.testing.assert_array_equal(b.groups, f.subject)
    # content: subject 2, session 3 (third date), trial 7, second window
    i = np.flatnonzero((f.subject == 2) & (f.session == 3) & (f.trial == 7) & (f.start == 1.0))[0]
    np.testing.assert_allclose(b.X[i], ref[(2, 3)][6][:, 200:400].astype(np.float32))


def test_seed_subject_session_selection_and_targets(seed):
    root, ref = seed
    b = load_seed(root / "Preprocessed_EEG", subjects=2, sessions=[1, 3], verbose=False)
    assert set(b.groups) == {2} and set(b.frame.session) == {1, 3}
    pn = load_seed(root, subjects=[1], sessions=1, target="positive_negative", verbose=False)
    assert pn.target_names == ["negative", "positive"]
    assert 0 not in set(pn.frame.label)
    np.testing.assert_array_equal(pn.y, (pn.frame.label == 1).astype(int))
    custom = load_seed(
        root, subjects=[1], sessions=1, label_map={1: "pos", 0: "other", -1: "other"},
        verbose=False,
    )  # fmt: skip
    assert custom.target_names == ["pos", "other"]
    np.testing.assert_array_equal(custom.y, (custom.frame.label != 1).astype(int))
    ov = load_seed(root, subjects=[1], sessions=[2], window_seconds=2, overlap=0.5, verbose=False)
    assert ov.X.shape[2] == 400
    assert sorted(ov.frame.start.unique())[:3] == [0.0, 1.0, 2.0]
    assert list_subjects("seed", root) == [1, 2]


def test_seed_iv_labels_per_session_and_binary(seed_iv):
    root, ref = seed_iv
    b = load_seed_iv(root, verbose=False)
    assert b.X.shape[1:] == (62, 800) and b.ch_names == SEED62
    f = b.frame
    for sess in (1, 2, 3):
        rows = f.session == sess
        np.testing.assert_array_equal(
            f.label[rows], np.array(SEED_IV_LABELS[sess])[f.trial[rows] - 1]
        )
    np.testing.assert_array_equal(b.y, f.label)  # 0 neutral, 1 sad, 2 fear, 3 happy
    assert b.target_names == ["neutral", "sad", "fear", "happy"]
    n = sum(_n_windows(ref[k], 800) for k in ref)
    assert len(b.y) == n
    binary = load_seed_iv(root, subjects=[3], sessions=[2], target="binary", verbose=False)
    assert binary.target_names == ["not_happy", "happy"]
    np.testing.assert_array_equal(binary.y, (binary.frame.label == 3).astype(int))
    i = np.flatnonzero((binary.frame.trial == 5) & (binary.frame.start == 0))[0]
    np.testing.assert_allclose(binary.X[i], ref[(3, 2)][4][:, :800].astype(np.float32))
    assert list_subjects("seed_iv", root) == [1, 3]


@pytest.mark.parametrize(
    "loader, kwargs, match",
    [
        (load_seed, {"subjects": [16]}, "load_seed: subjects contains 16"),
        (load_seed, {"sessions": [4]}, "load_seed: sessions contains 4"),
        (load_seed, {"target": "binary"}, "load_seed: target must be one of"),
        (load_seed, {"label_map": {1: 2}}, "load_seed: label_map values"),
        (load_seed, {"label_map": []}, "load_seed: label_map must be"),
        (load_seed, {"window_seconds": -1}, "load_seed: window_seconds"),
        (load_seed, {"verbose": "yes"}, "load_seed: verbose"),
        (load_seed_iv, {"target": "positive_negative"}, "load_seed_iv: target must be one of"),
        (load_seed_iv, {"overlap": 2}, "load_seed_iv: overlap"),
    ],
)
def test_argument_errors(seed, seed_iv, loader, kwargs, match):
    root = seed[0] if loader is load_seed else seed_iv[0]
    with pytest.raises(ValueError, match=match):
        loader(root, **kwargs)


def test_seed_missing_and_corrupt_files(tmp_path):
    write_seed(tmp_path, subjects=(1, 2, 3), sessions=(1, 2, 3))
    folder = tmp_path / "Preprocessed_EEG"
    (folder / "3_20140629.mat").unlink()
    with pytest.raises(FileNotFoundError, match=r"subject 3 session 3 .*'3_20140629\.mat'"):
        load_seed(tmp_path, subjects=[3], sessions=[1, 3], verbose=False)
    with pytest.raises(FileNotFoundError, match=r"subject 4 session 1"):
        load_seed(tmp_path, subjects=[4], verbose=False)
    # a file whose variables are cut off: the header still parses, a trial does not
    truncate(folder / "1_20131030.mat", keep=0.6)
    with pytest.raises(DatasetFormatError, match=r"1_20131030\.mat"):
        load_seed(tmp_path, subjects=[1], sessions=[2], verbose=False)
    (folder / "1_20131107.mat").write_bytes(b"\x00" * 50)
    with pytest.raises(DatasetFormatError, match=r"could not read .*1_20131107\.mat"):
        load_seed(tmp_path, subjects=[1], sessions=[3], verbose=False)
    # unexpected variable names (no initials prefix, one trial missing)
    rng = np.random.default_rng(0)
    scipy.io.savemat(
        folder / "2_20140404.mat",
        {f"eeg_{t}": rng.standard_normal((62, 401)) for t in range(1, 16)},
    )
    with pytest.raises(DatasetFormatError, match=r"2_20140404\.mat.*'<initials>_eeg1'"):
        load_seed(tmp_path, subjects=[2], sessions=[1], verbose=False)
    scipy.io.savemat(
        folder / "2_20140413.mat",
        {f"jl_eeg{t}": rng.standard_normal((61, 401)) for t in range(1, 16)},
    )
    with pytest.raises(DatasetFormatError, match=r"2_20140413\.mat.*jl_eeg\d+.*\(61, 401\)"):
        load_seed(tmp_path, subjects=[2], sessions=[2], verbose=False)
    (folder / "label.mat").unlink()
    with pytest.raises(FileNotFoundError, match=r"label\.mat"):
        load_seed(tmp_path, subjects=[2], sessions=[3], verbose=False)
    with pytest.raises(FileNotFoundError, match="expected the SEED Preprocessed_EEG"):
        load_seed(tmp_path / "Preprocessed_EEG" / ".." / "..", verbose=False)


def test_seed_iv_missing_and_corrupt_files(tmp_path):
    write_seed_iv(tmp_path, subjects=(1, 2), sessions=(1, 2))
    with pytest.raises(FileNotFoundError, match=r"subject 1 session 3.*eeg_raw_data/3"):
        load_seed_iv(tmp_path, subjects=[1], sessions=[2, 3], verbose=False)
    f = next((tmp_path / "eeg_raw_data" / "2").glob("2_*.mat"))
    truncate(f, keep=0.3)
    with pytest.raises(DatasetFormatError, match=f.name):
        load_seed_iv(tmp_path, subjects=[2], sessions=[2], verbose=False)
    with pytest.raises(FileNotFoundError, match="eeg_raw_data"):
        load_seed_iv(tmp_path / "eeg_raw_data" / "1", verbose=False)


def test_seed_peak_memory(tmp_path):
    write_seed(tmp_path, subjects=(1, 2), sessions=(1, 2))
    folder = tmp_path / "Preprocessed_EEG"
    raw = sum(
        np.prod(shape) * 8 for f in folder.glob("*_*.mat") for _, shape, _ in scipy.io.whosmat(f)
    )
    tracemalloc.start()
    try:
        b = load_seed(tmp_path, sessions=[1, 2], verbose=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak / raw < 1.0, (peak, raw, b.X.nbytes)  # X plus one trial variable
