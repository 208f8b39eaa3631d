"""load_dreamer on a tiny DREAMER.mat with the original nested struct/cell layout."""

import numpy as np
import pytest
import scipy.io
from _fixtures_datasets import snapshot, truncate, write_dreamer

from skemotion.datasets import EMOTIV14, DatasetFormatError, list_subjects, load_dreamer


@pytest.fixture(scope="module")
def dreamer(tmp_path_factory):
    root = tmp_path_factory.mktemp("dreamer")
    return root, write_dreamer(root, n_subjects=3, n_videos=18)


def test_access_path_of_the_real_file(dreamer):
    root, ref = dreamer
    m = scipy.io.loadmat(root / "DREAMER.mat")
    x = m["DREAMER"][0, 0]["Data"][0, 1]["EEG"][0, 0]["stimuli"][0, 0][5, 0]
    np.testing.assert_array_equal(x, ref["subjects"][1]["EEG"]["stimuli"][5, 0])
    assert m["DREAMER"][0, 0]["Data"][0, 1]["ScoreValence"][0, 0].shape == (18, 1)


def test_eeg_shapes_labels(dreamer):
    root, ref = dreamer
    before = snapshot(root)
    b = load_dreamer(root, verbose=False)
    assert snapshot(root) == before
    assert b.ch_names == EMOTIV14 and b.sfreq == 128.0
    assert b.X.shape[1:] == (14, 128) and b.X.dtype == np.float32
    n = sum(s["EEG"]["stimuli"][t, 0].shape[0] // 128 for s in ref["subjects"] for t in range(18))
    assert len(b.y) == n and len(np.unique(b.trials)) == 3 * 18
    f = b.frame
    for s in (1, 2, 3):
        subj = ref["subjects"][s - 1]
        rows = f[f.subject == s]
        # each scale from its own field: valence is never read from dominance
        np.testing.assert_array_equal(rows.valence, subj["ScoreValence"][rows.trial - 1, 0])
        np.testing.assert_array_equal(rows.arousal, subj["ScoreArousal"][rows.trial - 1, 0])
        np.testing.assert_array_equal(rows.dominance, subj["ScoreDominance"][rows.trial - 1, 0])
        assert rows.age.iloc[0] == subj["Age"] and rows.gender.iloc[0] == subj["Gender"]
    np.testing.assert_array_equal(b.y, (f.valence >= 3).astype(int))
    i = np.flatnonzero((f.subject == 3) & (f.trial == 18) & (f.start == 2))[0]
    np.testing.assert_allclose(
        b.X[i], ref["subjects"][2]["EEG"]["stimuli"][17, 0][256:384].T.astype(np.float32)
    )
    assert list_subjects("dreamer", root) == [1, 2, 3]


def test_targets_and_comparison(dreamer):
    root, _ = dreamer
    gt = load_dreamer(root / "DREAMER.mat", target="dominance", comparison=">", verbose=False)
    np.testing.assert_array_equal(gt.y, (gt.frame.dominance > 3).astype(int))
    q = load_dreamer(root, subjects=[2], target="quadrant", verbose=False)
    np.testing.assert_array_equal(
        q.y, 2 * (q.frame.valence >= 3) + (q.frame.arousal >= 3).astype(int)
    )
    reg = load_dreamer(root, subjects=[1], target="arousal", threshold=None, verbose=False)
    np.testing.assert_array_equal(reg.y, reg.frame.arousal)


def test_ecg_and_baseline(dreamer):
    root, ref = dreamer
    ecg = load_dreamer(root, subjects=[1], modality="ecg", window_seconds=2, verbose=False)
    assert ecg.sfreq == 256.0 and ecg.ch_names == ["ECG1", "ECG2"] and ecg.X.shape[1:] == (2, 512)
    np.testing.assert_allclose(
        ecg.X[0], ref["subjects"][0]["ECG"]["stimuli"][0, 0][:512].T.astype(np.float32)
    )
    seg = load_dreamer(root, subjects=[2], baseline="segment", verbose=False)
    stim = ref["subjects"][1]["EEG"]["stimuli"][0, 0].T
    base = ref["subjects"][1]["EEG"]["baseline"][0, 0].T
    template = base[:, : 3 * 128].reshape(14, 3, 128).mean(axis=1)
    np.testing.assert_allclose(seg.X[1], stim[:, 128:256] - template, atol=1e-5)
    mean = load_dreamer(root, subjects=[2], baseline="mean", verbose=False)
    np.testing.assert_allclose(
        mean.X[0], stim[:, :128] - base.mean(axis=1, keepdims=True), atol=1e-5
    )


def test_eeg_and_ecg_in_one_window(dreamer):
    from scipy.signal import resample_poly

    root, ref = dreamer
    both = load_dreamer(root, subjects=[1, 2], modality="all", window_seconds=1, verbose=False)
    eeg = load_dreamer(root, subjects=[1, 2], window_seconds=1, verbose=False)
    assert both.sfreq == 128.0 and both.X.shape[1:] == (16, 128)
    assert both.ch_names == [*EMOTIV14, "ECG1", "ECG2"]
    assert both.ch_types == ["eeg"] * 14 + ["ecg"] * 2
    # every trial is cut to the shorter of its EEG and its resampled ECG (aligned at onset)
    for t in range(18):
        n_eeg = ref["subjects"][0]["EEG"]["stimuli"][t, 0].shape[0]
        n_ecg = -(-ref["subjects"][0]["ECG"]["stimuli"][t, 0].shape[0] // 2)
        rows = (both.groups == 1) & (both.frame["trial"].to_numpy() == t + 1)
        assert rows.sum() == min(n_eeg, n_ecg) // 128
    # the EEG channels are the EEG windows; the ECG leads, the 256-Hz ECG resampled to 128 Hz
    first = (eeg.groups == 1) & (eeg.frame["trial"].to_numpy() == 1)
    np.testing.assert_array_equal(both.X[: first.sum(), :14], eeg.X[first])
    ecg = ref["subjects"][0]["ECG"]["stimuli"][0, 0].T
    expected = resample_poly(ecg, 1, 2, axis=-1)[:, :128].astype(np.float32)
    np.testing.assert_allclose(both.X[0, 14:], expected, rtol=1e-5, atol=1e-6)
    # and a fusion pipeline picks each modality by type
    from skemotion.features import PickChannels

    picked = PickChannels(types="ecg").fit_transform(both)
    np.testing.assert_array_equal(picked, both.X[:, 14:])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"modality": "both"}, "load_dreamer: modality must be one of"),
        ({"target": "liking"}, "load_dreamer: target must be one of"),
        ({"subjects": [24]}, "load_dreamer: subjects contains 24"),
        ({"baseline": True}, "load_dreamer: baseline must be"),
        ({"threshold": [3]}, "load_dreamer: threshold"),
    ],
)
def test_argument_errors(dreamer, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_dreamer(dreamer[0], **kwargs)


def test_missing_and_corrupt_files(tmp_path, dreamer):
    with pytest.raises(FileNotFoundError, match="DREAMER.mat"):
        load_dreamer(tmp_path)
    with pytest.raises(DatasetFormatError, match="holds 3"):
        load_dreamer(dreamer[0], subjects=[4], verbose=False)
    write_dreamer(tmp_path, n_subjects=2)
    truncate(tmp_path / "DREAMER.mat", keep=0.5)
    with pytest.raises(DatasetFormatError, match=r"could not read .*DREAMER\.mat"):
        load_dreamer(tmp_path, verbose=False)
    scipy.io.savemat(tmp_path / "DREAMER.mat", {"dreamer": np.zeros(3)})
    with pytest.raises(DatasetFormatError, match="no variable 'DREAMER'"):
        load_dreamer(tmp_path, verbose=False)
    scipy.io.savemat(tmp_path / "DREAMER.mat", {"DREAMER": {"Subjects": np.zeros(3)}})
    with pytest.raises(DatasetFormatError, match="lacks 'Data'"):
        load_dreamer(tmp_path, verbose=False)
    write_dreamer(tmp_path, n_subjects=2)
    m = scipy.io.loadmat(tmp_path / "DREAMER.mat")
    m["DREAMER"][0, 0]["Data"][0, 1]["EEG"][0, 0]["stimuli"][0, 0][3, 0] = np.zeros((500, 13))
    scipy.io.savemat(tmp_path / "DREAMER.mat", {"DREAMER": m["DREAMER"]})
    with pytest.raises(DatasetFormatError, match=r"Data\{2\}\.EEG\.stimuli\{4\}.*\(500, 13\)"):
        load_dreamer(tmp_path, verbose=False)
    load_dreamer(tmp_path, subjects=[1], verbose=False)  # the other subject still loads
