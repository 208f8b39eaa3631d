"""load_amigos on tiny MATLAB v5 files with the AMIGOS cell layout."""

import tracemalloc

import numpy as np
import pytest
import scipy.io
from _fixtures_datasets import snapshot, truncate, write_amigos

from skemotion.datasets import EMOTIV14, DatasetFormatError, list_subjects, load_amigos


@pytest.fixture(scope="module")
def amigos(tmp_path_factory):
    root = tmp_path_factory.mktemp("amigos")
    return root, write_amigos(root, subjects=(1, 2), nested=True, nan_trial=2)


def _load(root, **kw):
    with pytest.warns(UserWarning):  # participant 2 has empty long-video trials
        return load_amigos(root, verbose=False, **kw)


def test_layout_as_scipy_reads_it(amigos):
    root, _ = amigos
    m = scipy.io.loadmat(root / "Data_Preprocessed_P01" / "Data_Preprocessed_P01.mat")
    assert m["joined_data"].shape == (1, 20) and m["joined_data"].dtype == object
    assert m["joined_data"][0][0].shape[1] == 17
    assert m["labels_selfassessment"][0][0].shape == (1, 12)


def test_eeg_shapes_labels_arousal_first(amigos):
    root, ref = amigos
    before = snapshot(root)
    b = _load(root, nan_policy="interpolate")
    assert snapshot(root) == before
    assert b.ch_names == EMOTIV14 and b.sfreq == 128.0 and b.X.shape[1:] == (14, 128)
    f = b.frame
    # participant 2: 16 short trials only (the long ones are empty)
    assert set(f.session[f.subject == 2]) == {1}
    assert set(f.trial[f.subject == 1]) == set(range(1, 21))
    assert set(f.session[(f.subject == 1) & (f.trial > 16)]) == {2}
    t = 4
    sa = ref[1]["selfassessment"][t].ravel()
    rows = f[(f.subject == 1) & (f.trial == t + 1)]
    assert rows.arousal.iloc[0] == sa[0] and rows.valence.iloc[0] == sa[1]
    assert rows.liking.iloc[0] == sa[3] and rows.sadness.iloc[0] == sa[11]
    assert rows.video_id.iloc[0] == ref[1]["video_ids"][t]
    np.testing.assert_array_equal(b.y[rows.index], int(sa[1] > 5))  # valence, column 1
    np.testing.assert_allclose(
        b.X[rows.index[1]], ref[1]["joined"][t][128:256, :14].T.astype(np.float32)
    )
    assert len(np.unique(b.trials)) == 20 + 16


def test_ecg_modality_and_sessions(amigos):
    root, ref = amigos
    with pytest.warns(UserWarning, match="trial 17 \\(empty\\)"):
        b = load_amigos(root, sessions=[2], modality="ecg", window_seconds=2, verbose=False)
    assert b.ch_names == ["ECG_R", "ECG_L"] and set(b.groups) == {1}
    assert set(b.frame.trial) == {17, 18, 19, 20}
    i = np.flatnonzero(b.frame.trial == 18)[0]
    np.testing.assert_allclose(b.X[i], ref[1]["joined"][17][:256, 14:16].T.astype(np.float32))
    # EEG, ECG and GSR in one window (one rate in the preprocessed files), typed per channel
    with pytest.warns(UserWarning, match="trial 17 \\(empty\\)"):
        both = load_amigos(root, sessions=[2], modality="all", window_seconds=2, verbose=False)
    assert both.ch_types == ["eeg"] * 14 + ["ecg", "ecg", "gsr"]
    i = np.flatnonzero(both.frame.trial == 18)[0]
    np.testing.assert_allclose(both.X[i], ref[1]["joined"][17][:256, :17].T.astype(np.float32))
    a = load_amigos(
        root, subjects=1, sessions=1, target="arousal", threshold=None, verbose=False,
        nan_policy="interpolate",
    )  # fmt: skip
    np.testing.assert_array_equal(a.y, a.frame.arousal)
    assert list_subjects("amigos", root) == [1, 2]


def test_nan_policies(amigos):
    root, ref = amigos
    # trial 3 of each participant has NaN at 0.5-0.75 s in EEG channel 3 (FC5)
    with pytest.warns(UserWarning) as record:
        drop = load_amigos(root, verbose=False)
    assert any("left out 2 of" in str(w.message) for w in record)
    assert drop.n_nan_windows_dropped == 2
    assert not np.isnan(drop.X).any()
    assert 0.0 not in set(drop.frame.start[drop.frame.trial == 3])
    interp = load_amigos(root, subjects=[1], nan_policy="interpolate", verbose=False)
    i = np.flatnonzero((interp.frame.trial == 3) & (interp.frame.start == 0))[0]
    x = ref[1]["joined"][2][:128, 3]
    ok = ~np.isnan(x)
    expected = np.interp(np.arange(128), np.flatnonzero(ok), x[ok])
    np.testing.assert_allclose(interp.X[i, 3], expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"Data_Preprocessed_P01\.mat.*trial 3.*NaN"):
        load_amigos(root, subjects=[1], nan_policy="raise", verbose=False)
    # ECG columns have no NaN: nothing dropped
    ecg = load_amigos(root, subjects=[1], modality="ecg", verbose=False)
    assert ecg.n_nan_windows_dropped == 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"modality": "gsr"}, "load_amigos: modality must be one of"),
        ({"target": "familiarity"}, "load_amigos: target must be one of"),
        ({"nan_policy": "zero"}, "load_amigos: nan_policy must be one of"),
        ({"subjects": [41]}, "load_amigos: subjects contains 41"),
        ({"sessions": [3]}, "load_amigos: sessions contains 3"),
        ({"comparison": "<"}, "load_amigos: comparison"),
    ],
)
def test_argument_errors(amigos, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_amigos(amigos[0], **kwargs)


def test_missing_and_corrupt_files(tmp_path):
    write_amigos(tmp_path, subjects=(1, 2, 3, 4))
    with pytest.raises(FileNotFoundError, match="Data_Preprocessed_P05.mat"):
        load_amigos(tmp_path, subjects=[5], verbose=False)
    truncate(tmp_path / "Data_Preprocessed_P01.mat", keep=0.5)
    with pytest.raises(DatasetFormatError, match=r"could not read .*Data_Preprocessed_P01\.mat"):
        load_amigos(tmp_path, subjects=[1], verbose=False)
    m = scipy.io.loadmat(tmp_path / "Data_Preprocessed_P02.mat")
    scipy.io.savemat(
        tmp_path / "Data_Preprocessed_P02.mat",
        {"VideoIDs": m["VideoIDs"], "data": m["joined_data"],
         "labels_selfassessment": m["labels_selfassessment"]},
    )  # fmt: skip
    with pytest.raises(DatasetFormatError, match=r"P02\.mat.*lacks \['joined_data'\]"):
        load_amigos(tmp_path, subjects=[2], verbose=False)
    m = scipy.io.loadmat(tmp_path / "Data_Preprocessed_P03.mat")
    m["joined_data"][0, 0] = m["joined_data"][0, 0][:, :16]
    scipy.io.savemat(
        tmp_path / "Data_Preprocessed_P03.mat",
        {k: v for k, v in m.items() if not k.startswith("__")},
    )
    with pytest.raises(DatasetFormatError, match=r"P03\.mat.*trial 1.*expected \(n_samples, 17\)"):
        load_amigos(tmp_path, subjects=[3], verbose=False)
    scipy.io.savemat(tmp_path / "Data_Preprocessed_P04.mat", {
        "VideoIDs": np.zeros((1, 20)), "joined_data": np.zeros((1, 20)),
        "labels_selfassessment": np.zeros((1, 20))})  # fmt: skip
    with pytest.raises(DatasetFormatError, match=r"P04\.mat.*expected a \(1, 20\) cell"):
        load_amigos(tmp_path, subjects=[4], verbose=False)
    (tmp_path / "Data_Preprocessed_P04").mkdir()
    (tmp_path / "Data_Preprocessed_P04" / "Data_Preprocessed_P04.mat").write_bytes(b"")
    with pytest.raises(DatasetFormatError, match="participant 4 has two files"):
        load_amigos(tmp_path, verbose=False)


def test_missing_self_assessment_skips_trial(tmp_path):
    write_amigos(tmp_path, subjects=(1,))
    m = scipy.io.loadmat(tmp_path / "Data_Preprocessed_P01.mat")
    m["labels_selfassessment"][0, 5] = np.full((1, 12), np.nan)
    scipy.io.savemat(
        tmp_path / "Data_Preprocessed_P01.mat",
        {k: v for k, v in m.items() if not k.startswith("__")},
    )
    with pytest.warns(UserWarning, match=r"trial 6 \(no self-assessment\)"):
        b = load_amigos(tmp_path, verbose=False)
    assert 6 not in set(b.frame.trial)


def test_peak_memory(tmp_path):
    write_amigos(tmp_path, subjects=(1, 3, 5, 7), seconds=(8, 10))
    raw = sum(
        x.shape[0] * 14 * 8
        for f in tmp_path.glob("*.mat")
        for x in scipy.io.loadmat(f)["joined_data"][0]
    )
    tracemalloc.start()
    try:
        with pytest.warns(UserWarning, match="empty"):
            b = load_amigos(tmp_path, verbose=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak / raw < 1.5, (peak, raw, b.X.nbytes)
