"""make_multimodal_emotion: structure, units, the documented effects, and the fusion claim (EEG
and ECG carry partly independent information, so early fusion beats each modality alone)."""

import numpy as np
import pytest
from scipy.signal import welch
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_val_score
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skemotion.datasets import DEAP32, EMOTIV14, SEED62, make_eeg_emotion
from skemotion.datasets._multimodal import make_multimodal_emotion
from skemotion.features import DifferentialEntropy, HRVFeatures, detect_r_peaks

CLASSES = ["LVLA", "LVHA", "HVLA", "HVHA"]


@pytest.fixture(scope="module")
def data():
    return make_multimodal_emotion(random_state=0)


def test_exported_from_datasets():
    import skemotion.datasets as datasets

    assert datasets.make_multimodal_emotion is make_multimodal_emotion
    assert "make_multimodal_emotion" in datasets.__all__


@pytest.mark.parametrize(
    "montage, names, sfreq",
    [("emotiv14", EMOTIV14, 128.0), ("deap32", DEAP32, 128.0), ("seed62", SEED62, 200.0)],
)
def test_bunch_structure(montage, names, sfreq):
    d = make_multimodal_emotion(
        montage, n_subjects=2, n_trials_per_class=1, n_windows_per_trial=3, random_state=0
    )
    n = 2 * 4 * 1 * 3
    assert d.X.shape == (n, len(names) + 1, int(4 * sfreq)) and d.X.dtype == np.float32
    assert d.sfreq == sfreq and isinstance(d.sfreq, float)
    assert d.ch_names == [*names, "ECG"]
    assert d.ch_types == ["eeg"] * len(names) + ["ecg"]
    assert d.target_names == CLASSES
    assert d.y.shape == d.groups.shape == d.trials.shape == (n,)
    assert list(d.frame.columns) == [
        "subject",
        "session",
        "trial",
        "trial_in_subject",
        "start",
        "label",
        "valence",
        "arousal",
        "heart_rate",
        "r_peaks",
    ]
    assert "EEG" in d.DESCR and "ECG" in d.DESCR
    assert np.isfinite(d.X).all()


def _heart_rate(peaks, sfreq):
    """Heart rate (bpm) of each window from the median R-R interval; NaN under two beats."""
    return np.array([60 * sfreq / np.median(np.diff(p)) if len(p) > 1 else np.nan for p in peaks])


def test_sampling_rate_and_window_length():
    kw = dict(n_subjects=1, n_trials_per_class=1, n_windows_per_trial=1, random_state=0)
    d = make_multimodal_emotion(window_seconds=8.0, sfreq=256.0, **kw)
    assert d.X.shape == (4, 15, 2048) and d.sfreq == 256.0
    hr = _heart_rate(detect_r_peaks(d.X[:, -1], d.sfreq), d.sfreq)
    np.testing.assert_allclose(hr, d.frame["heart_rate"], rtol=0.12)


def test_groups_trials_and_frame(data):
    f, n_win = data.frame, 4
    np.testing.assert_array_equal(f["trial"], data.trials)
    np.testing.assert_array_equal(f["subject"], data.groups)
    np.testing.assert_array_equal(f["label"], data.y)
    assert data.X.shape[0] == 8 * 4 * 2 * n_win
    # the windows of a trial are consecutive rows, in time order
    assert np.all(np.diff(data.trials) >= 0)
    assert np.all(np.diff(data.groups) >= 0)
    ids, counts = np.unique(data.trials, return_counts=True)
    np.testing.assert_array_equal(ids, np.arange(8 * 4 * 2))
    assert np.all(counts == n_win)
    np.testing.assert_allclose(f["start"], np.tile(np.arange(n_win) * 4.0, ids.size))
    # a trial never spans subjects or classes; every subject has 2 trials per class
    per_trial = f.groupby("trial")[["subject", "label", "heart_rate"]].nunique()
    assert (per_trial == 1).all().all()
    trials = f.drop_duplicates("trial")
    assert (trials.groupby(["subject", "label"]).size() == 2).all()
    for _, subject in trials.groupby("subject"):
        assert sorted(subject["trial_in_subject"]) == list(range(8))
    # valence and arousal follow the class names: L/H valence, then L/H arousal
    for code, name in enumerate(CLASSES):
        rows = f[f["label"] == code]
        assert set(rows["valence"]) == {1.0 if name[0] == "H" else -1.0}
        assert set(rows["arousal"]) == {1.0 if name[2] == "H" else -1.0}
    assert (f["session"] == 1).all()


def test_deterministic():
    kw = dict(n_subjects=2, n_trials_per_class=1, n_windows_per_trial=2)
    a = make_multimodal_emotion(random_state=3, **kw)
    b = make_multimodal_emotion(random_state=3, **kw)
    c = make_multimodal_emotion(random_state=np.random.RandomState(4), **kw)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.frame.drop(columns="r_peaks"), b.frame.drop(columns="r_peaks"))
    assert not np.array_equal(a.X[:, :-1], c.X[:, :-1])
    assert not np.array_equal(a.X[:, -1], c.X[:, -1])


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"montage": "gameemo14"}, "montage"),
        ({"n_subjects": 0}, "n_subjects"),
        ({"n_trials_per_class": 1.5}, "n_trials_per_class"),
        ({"n_windows_per_trial": True}, "n_windows_per_trial"),
        ({"window_seconds": 1.0}, "window_seconds"),
        ({"window_seconds": -4.0}, "window_seconds"),
        ({"sfreq": 32.0}, "sfreq"),
        ({"sfreq": "128"}, "sfreq"),
        ({"eeg_effect_size": -1.0}, "eeg_effect_size"),
        ({"ecg_effect_size": float("nan")}, "ecg_effect_size"),
        ({"line_freq": 70.0}, "line_freq"),
        ({"artifacts": "yes"}, "artifacts"),
        ({"return_mne": 1}, "return_mne"),
    ],
)
def test_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=f"^make_multimodal_emotion: argument {argument} "):
        make_multimodal_emotion(**kwargs)


def test_ecg_heart_rate_depends_on_arousal(data):
    ecg = data.X[:, -1]
    # millivolts: R waves of about 1 mV
    assert 0.5 < np.median(ecg.max(axis=-1)) < 2.5
    peaks = detect_r_peaks(ecg, data.sfreq)
    # the detector finds the generator's beats
    same_count = np.mean([len(p) == len(t) for p, t in zip(peaks, data.frame["r_peaks"])])
    assert same_count > 0.85
    hr = _heart_rate(peaks, data.sfreq)
    assert np.mean((hr > 45) & (hr < 140)) > 0.95
    assert data.frame["heart_rate"].between(40, 150).all()
    f = data.frame.assign(hr=hr)
    high, low = (f.loc[f["arousal"] == a, "hr"].median() for a in (1, -1))
    assert high > low + 6, (low, high)
    by_subject = f.groupby(["subject", "arousal"])["hr"].median().unstack()
    assert (by_subject[1.0] > by_subject[-1.0]).sum() >= 7
    # HRV: vagal withdrawal lowers RMSSD under high arousal
    rmssd = HRVFeatures(data.sfreq).fit_transform(data.X[:, -1:])[:, 4]
    assert np.nanmedian(rmssd[f["arousal"] == 1]) < 0.7 * np.nanmedian(rmssd[f["arousal"] == -1])
    # the weak valence cue: negative valence raises the heart rate a little
    neg, pos = (f.loc[f["valence"] == v, "heart_rate"].mean() for v in (-1, 1))
    assert 0 < neg - pos < high - low


def _log_band(X, sfreq, lo, hi):
    f, P = welch(X, fs=sfreq, nperseg=int(sfreq), axis=-1)
    return np.log(P[..., (f >= lo) & (f < hi)].mean(-1))  # (n, C)


def _mean(values, names, ch_names):
    return values[:, [ch_names.index(c) for c in names]].mean(1)


def test_eeg_channels_behave_like_make_eeg_emotion(data):
    eeg = data.X[:, :-1]
    ref = make_eeg_emotion("emotiv14", n_subjects=8, window_seconds=4.0, random_state=0)
    assert 2 < eeg.std() < 100 and 0.5 < eeg.std() / ref.X.std() < 2  # microvolts
    # the same spectrum (1/f background, alpha peak, beta and gamma bumps), averaged over the
    # windows and channels
    f, P = welch(eeg, fs=data.sfreq, nperseg=256, axis=-1)
    _, P_ref = welch(ref.X, fs=ref.sfreq, nperseg=256, axis=-1)
    band = (f >= 1) & (f <= 45)
    a, b = np.log(P).mean((0, 1))[band], np.log(P_ref).mean((0, 1))[band]
    assert np.corrcoef(a, b)[0, 1] > 0.98 and np.abs(a - b).max() < 0.5
    occ = np.median(P, 0)[[EMOTIV14.index("O1"), EMOTIV14.index("O2")]].mean(0)
    alpha = (f >= 6) & (f <= 14)
    assert 7.5 <= f[alpha][np.argmax(occ[alpha])] <= 12.5
    # the valence cues: lateral-temporal beta/gamma and right-minus-left frontal alpha
    v, a = data.frame["valence"].to_numpy(), data.frame["arousal"].to_numpy()
    sf, names = data.sfreq, EMOTIV14
    for lo, hi in [(14, 31), (31, 45)]:
        p = _mean(_log_band(eeg, sf, lo, hi), ["T7", "T8"], names)
        assert p[v == 1].mean() > p[v == -1].mean() + 0.5
    alpha_power = _log_band(eeg, sf, 8, 13)
    asym = _mean(alpha_power, ["F4", "F8", "AF4"], names) - _mean(
        alpha_power, ["F3", "F7", "AF3"], names
    )
    assert asym[v == 1].mean() > asym[v == -1].mean() + 0.5
    # the weak arousal cue: fronto-central beta, far below the valence effect
    beta = _mean(_log_band(eeg, sf, 14, 31), ["FC5", "FC6"], names)
    assert 0 < beta[a == 1].mean() - beta[a == -1].mean() < 0.3


def _take(X, idx):
    return X[:, idx]


def _log_time_domain(F):
    """log(1 + x) of the six time-domain HRV features (the frequency-domain ones need minutes)."""
    return np.log1p(F[:, :6])


def _loso(data, features):
    pipe = make_pipeline(features, StandardScaler(), LogisticRegression(max_iter=1000))
    return cross_val_score(
        pipe,
        data.X,
        data.y,
        groups=data.groups,
        cv=LeaveOneGroupOut(),
        scoring="balanced_accuracy",
    ).mean()


def _modality_scores(data):
    """LOSO balanced accuracy of the EEG alone, the ECG alone and their early fusion."""
    eeg = [i for i, t in enumerate(data.ch_types) if t == "eeg"]
    ecg = [i for i, t in enumerate(data.ch_types) if t == "ecg"]
    eeg_features = make_pipeline(
        FunctionTransformer(_take, kw_args={"idx": eeg}),
        DifferentialEntropy(data.sfreq, flatten=True),
    )
    ecg_features = make_pipeline(
        FunctionTransformer(_take, kw_args={"idx": ecg}),
        HRVFeatures(data.sfreq),
        FunctionTransformer(_log_time_domain),
        SimpleImputer(),
    )
    fused = FeatureUnion([("eeg", eeg_features), ("ecg", ecg_features)])
    return np.array([_loso(data, f) for f in (eeg_features, ecg_features, fused)])


def test_fusion_beats_each_modality_subject_wise():
    scores = []
    for seed in (0, 1, 2):
        s = _modality_scores(make_multimodal_emotion(random_state=seed))
        print(f"random_state={seed}: EEG {s[0]:.3f}  ECG {s[1]:.3f}  fused {s[2]:.3f}")
        scores.append(s)
    eeg, ecg, fused = np.array(scores).T
    # each modality alone: above chance (0.25), far from the ceiling
    assert np.all((eeg > 0.35) & (eeg < 0.7)) and np.all((ecg > 0.35) & (ecg < 0.7))
    gain = fused - np.maximum(eeg, ecg)
    assert np.all(gain > 0.08) and gain.mean() > 0.12, gain


def test_zero_effect_sizes_remove_class_information():
    d = make_multimodal_emotion(eeg_effect_size=0.0, ecg_effect_size=0.0, random_state=0)
    s = _modality_scores(d)
    print(f"no effect: EEG {s[0]:.3f}  ECG {s[1]:.3f}  fused {s[2]:.3f}")
    assert np.all(s < 0.38)  # chance is 0.25


def test_return_mne():
    pytest.importorskip("mne")
    from skemotion.datasets import from_mne

    kw = dict(n_subjects=1, n_trials_per_class=1, n_windows_per_trial=2, random_state=0)
    d = make_multimodal_emotion(**kw)
    epochs = make_multimodal_emotion(return_mne=True, **kw)
    assert epochs.get_channel_types() == ["eeg"] * 14 + ["ecg"]
    assert epochs.ch_names == [*EMOTIV14, "ECG"] and epochs.info["sfreq"] == 128.0
    assert epochs.event_id == {name: k + 1 for k, name in enumerate(CLASSES)}
    volts = epochs.get_data()
    np.testing.assert_allclose(volts[:, :-1] * 1e6, d.X[:, :-1], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(volts[:, -1] * 1e3, d.X[:, -1], rtol=1e-6, atol=1e-9)
    back = from_mne(epochs)
    np.testing.assert_array_equal(back.X, d.X)
    assert back.ch_types == d.ch_types
    np.testing.assert_array_equal(back.groups, d.groups)
    np.testing.assert_array_equal(back.trials, d.trials)
