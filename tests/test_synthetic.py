"""The synthetic corpus: structure, determinism, and the documented effects really present."""

import numpy as np
import pytest
from scipy.signal import find_peaks, welch

from skemotion.datasets import DEAP32, EMOTIV14, SEED62, make_ecg_emotion, make_eeg_emotion


@pytest.mark.parametrize(
    "montage, names, sfreq",
    [("seed62", SEED62, 200.0), ("deap32", DEAP32, 128.0), ("emotiv14", EMOTIV14, 128.0)],
)
def test_bunch_structure(montage, names, sfreq):
    d = make_eeg_emotion(
        montage, n_subjects=2, n_trials_per_class=1, n_windows_per_trial=3, random_state=0
    )
    n = 2 * 3 * 1 * 3
    assert d.X.shape == (n, len(names), int(2 * sfreq)) and d.X.dtype == np.float32
    assert d.ch_names == list(names) and d.sfreq == sfreq
    assert d.target_names == ["negative", "neutral", "positive"]
    assert list(d.frame.columns[:4]) == ["subject", "session", "trial", "trial_in_subject"]
    np.testing.assert_array_equal(d.frame["trial"], d.trials)
    # every trial belongs to one subject and one label; trial ids unique across subjects
    per_trial = d.frame.groupby("trial")[["subject", "label"]].nunique()
    assert (per_trial == 1).all().all()
    assert len(np.unique(d.trials)) == 2 * 3
    # plausible EEG amplitude (microvolts)
    assert 2 < np.std(d.X) < 100


def test_deterministic():
    a = make_eeg_emotion("emotiv14", n_subjects=2, random_state=3)
    b = make_eeg_emotion("emotiv14", n_subjects=2, random_state=3)
    c = make_eeg_emotion("emotiv14", n_subjects=2, random_state=4)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)


def _log_band(d, lo, hi):
    f, P = welch(d.X, fs=d.sfreq, nperseg=int(d.sfreq), axis=-1)
    return np.log(P[..., (f >= lo) & (f < hi)].mean(-1))  # (n, C)


@pytest.fixture(scope="module")
def seed():
    return make_eeg_emotion("seed62", n_subjects=6, effect_size=1.0, random_state=0)


def _idx(d, names):
    up = [c.upper() for c in d.ch_names]
    return [up.index(n) for n in names]


def test_lateral_temporal_beta_gamma_increase_with_valence(seed):
    tem = _idx(seed, ["T7", "T8", "FT7", "FT8", "TP7", "TP8"])
    for lo, hi in [(14, 31), (31, 45)]:
        p = _log_band(seed, lo, hi)[:, tem].mean(1)
        neg, neu, pos = (p[seed.y == k].mean() for k in range(3))
        assert pos > neu > neg, (lo, neg, neu, pos)


def test_frontal_alpha_asymmetry(seed):
    a = _log_band(seed, 8, 13)
    asym = a[:, _idx(seed, ["F8", "F6", "F4", "AF4"])].mean(1) - a[
        :, _idx(seed, ["F7", "F5", "F3", "AF3"])
    ].mean(1)
    assert asym[seed.y == 2].mean() > asym[seed.y == 0].mean() + 0.1


def test_parietal_alpha_highest_for_neutral(seed):
    p = _log_band(seed, 8, 13)[:, _idx(seed, ["PZ", "POZ", "OZ", "O1", "O2"])].mean(1)
    assert p[seed.y == 1].mean() > max(p[seed.y == 0].mean(), p[seed.y == 2].mean())


def test_alpha_peak_and_one_over_f():
    d = make_eeg_emotion("deap32", n_subjects=1, artifacts=False, random_state=0)
    f, P = welch(d.X, fs=d.sfreq, nperseg=256, axis=-1)
    occ = P[:, _idx(d, ["O1", "O2", "OZ"])].mean((0, 1))
    band = (f >= 6) & (f <= 14)
    assert 7.5 <= f[band][np.argmax(occ[band])] <= 12.5  # alpha peak
    assert occ[(f >= 2) & (f < 4)].mean() > occ[(f >= 25) & (f < 35)].mean() * 5  # 1/f


def test_effect_size_zero_removes_class_information():
    d = make_eeg_emotion("emotiv14", n_subjects=4, effect_size=0.0, random_state=0)
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import LeaveOneGroupOut, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    feats = np.concatenate([_log_band(d, lo, hi) for lo, hi in [(4, 8), (8, 13), (14, 31)]], 1)
    score = cross_val_score(
        make_pipeline(StandardScaler(), LogisticRegression()),
        feats,
        d.y,
        groups=d.groups,
        cv=LeaveOneGroupOut(),
        scoring="balanced_accuracy",
    ).mean()
    assert score < 0.5  # chance is 1/3


def test_windows_of_a_trial_are_correlated(seed):
    # band-power features of two windows of the same trial are closer than across trials
    feat = _log_band(seed, 8, 13)
    feat = feat - feat.mean(0)
    same, other = [], []
    for t in np.unique(seed.trials)[:12]:
        idx = np.flatnonzero(seed.trials == t)
        same.append(np.linalg.norm(feat[idx[0]] - feat[idx[1]]))
        j = np.flatnonzero(
            (seed.trials != t) & (seed.groups == seed.groups[idx[0]]) & (seed.y == seed.y[idx[0]])
        )[0]
        other.append(np.linalg.norm(feat[idx[0]] - feat[j]))
    assert np.mean(same) < np.mean(other)


def test_ecg_heart_rate_and_hrv_depend_on_arousal():
    d = make_ecg_emotion(n_subjects=4, random_state=0)
    assert d.X.shape[1:] == (1, 2560) and d.sfreq == 256.0
    hr, rmssd = [], []
    for x in d.X[:, 0]:
        peaks, _ = find_peaks(x, height=0.5, distance=int(0.3 * d.sfreq))
        rr = np.diff(peaks) / d.sfreq
        hr.append(60 / rr.mean())
        rmssd.append(np.sqrt(np.mean(np.diff(rr) ** 2)))
    hr, rmssd = np.array(hr), np.array(rmssd)
    assert hr[d.y == 1].mean() > hr[d.y == 0].mean() + 4
    assert rmssd[d.y == 1].mean() < rmssd[d.y == 0].mean()
    # detected beats agree with the generator's own R-peak positions
    det, _ = find_peaks(d.X[0, 0], height=0.5, distance=int(0.3 * d.sfreq))
    truth = d.frame["r_peaks"][0]
    assert abs(len(det) - len(truth)) <= 1
    assert np.median(np.min(np.abs(det[:, None] - truth[None]), axis=1)) <= 2


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"montage": "x"}, "montage"),
        ({"n_subjects": 0}, "n_subjects"),
        ({"n_classes": 5}, "n_classes"),
        ({"effect_size": -1}, "effect_size"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=f"make_eeg_emotion: argument {match}"):
        make_eeg_emotion(**kwargs)
