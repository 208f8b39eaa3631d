"""load_wesad on tiny Python 2 pickles in the WESAD layout."""

import pickle

import numpy as np
import pytest
from _fixtures_datasets import dump_py2_pickle, snapshot, truncate, write_wesad

from skemotion.datasets import DatasetFormatError, list_subjects, load_wesad


@pytest.fixture(scope="module")
def wesad(tmp_path_factory):
    root = tmp_path_factory.mktemp("wesad")
    return root, write_wesad(root, subjects=(2, 3))


def test_fixture_reads_as_the_real_files(wesad):
    root, _ = wesad
    with open(root / "WESAD" / "S2" / "S2.pkl", "rb") as f:
        content = pickle.load(f, encoding="latin1")
    assert sorted(content) == ["label", "signal", "subject"]
    assert content["signal"]["chest"]["ECG"].shape[1] == 1


def test_ecg_blocks_and_labels(wesad):
    root, ref = wesad
    before = snapshot(root)
    b = load_wesad(root, window_seconds=1.0, verbose=False)
    assert snapshot(root) == before
    assert b.ch_names == ["ECG"] and b.sfreq == 700.0 and b.X.shape[1:] == (1, 700)
    assert b.target_names == ["baseline", "stress", "amusement"]
    f = b.frame
    np.testing.assert_array_equal(b.y, f.label - 1)
    assert set(f.condition) == {"baseline", "stress", "amusement"}  # no meditation, no 0/5-7
    # per subject: baseline 4 s, stress 3 s, amusement 2 s, baseline 2 s (4 blocks = 4 trials)
    assert (f.subject == 2).sum() == 4 + 3 + 2 + 2
    assert len(np.unique(b.trials)) == 8
    assert f.block_start[(f.subject == 2) & (f.trial == 2)].iloc[0] == 6.0
    # windows never straddle two blocks: each window's labels are constant in the source
    label = ref[3]["label"]
    ecg = ref[3]["signal"]["chest"]["ECG"][:, 0]
    for i in np.flatnonzero(f.subject == 3):
        a = int(round((f.block_start[i] + f.start[i]) * 700))
        assert np.all(label[a : a + 700] == f.label[i])
        np.testing.assert_allclose(b.X[i, 0], ecg[a : a + 700].astype(np.float32))
    assert list_subjects("wesad", root) == [2, 3]


def test_stress_binary_channels_resample(wesad):
    root, _ = wesad
    b = load_wesad(
        root / "WESAD", subjects=3, target="stress", channels=["ECG", "Resp"], resample=256,
        window_seconds=1.0, verbose=False,
    )  # fmt: skip
    assert b.sfreq == 256.0 and b.ch_names == ["ECG", "Resp"] and b.X.shape[1:] == (2, 256)
    assert b.target_names == ["non_stress", "stress"]
    np.testing.assert_array_equal(b.y, (b.frame.label == 2).astype(int))
    ov = load_wesad(root, subjects=[2], window_seconds=2.0, overlap=0.5, verbose=False)
    assert ov.frame.start[:3].tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"subjects": [12]}, r"load_wesad: subjects contains 12"),
        ({"subjects": [1]}, r"load_wesad: subjects contains 1"),
        ({"target": "meditation"}, "load_wesad: target must be one of"),
        ({"channels": ["ECG", "BVP"]}, "load_wesad: channels must be names among"),
        ({"channels": 3}, "load_wesad: channels must be names among"),
        ({"resample": -5}, "load_wesad: argument resample"),
        ({"window_seconds": 20.0}, "load_wesad: no window"),
    ],
)
def test_argument_errors(wesad, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_wesad(wesad[0], verbose=False, **kwargs)


def test_missing_and_corrupt_files(tmp_path):
    ref = write_wesad(tmp_path, subjects=(2, 3, 4, 5))
    with pytest.raises(FileNotFoundError, match=r"S6/S6\.pkl"):
        load_wesad(tmp_path, subjects=[6], verbose=False)
    truncate(tmp_path / "WESAD" / "S2" / "S2.pkl", keep=0.7)
    with pytest.raises(DatasetFormatError, match=r"could not read .*S2\.pkl"):
        load_wesad(tmp_path, subjects=[2], verbose=False)
    content = ref[3]
    content["signal"] = {"wrist": content["signal"]["wrist"]}
    dump_py2_pickle(content, tmp_path / "WESAD" / "S3" / "S3.pkl")
    with pytest.raises(DatasetFormatError, match=r"S3\.pkl.*'chest'"):
        load_wesad(tmp_path, subjects=[3], verbose=False)
    content = ref[4]
    content["label"] = content["label"][:-10]
    dump_py2_pickle(content, tmp_path / "WESAD" / "S4" / "S4.pkl")
    with pytest.raises(DatasetFormatError, match=r"S4\.pkl' chest 'ECG' has shape"):
        load_wesad(tmp_path, subjects=[4], verbose=False)
    dump_py2_pickle({"data": 1}, tmp_path / "WESAD" / "S5" / "S5.pkl")
    with pytest.raises(DatasetFormatError, match=r"S5\.pkl' holds \['data'\]"):
        load_wesad(tmp_path, subjects=[5], verbose=False)
