"""HRVFeatures: R-peak detection against MIT-BIH annotations, feature values, NaN policy."""

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import resample_poly

from skemotion.features import HRVFeatures
from skemotion.features._hrv import HRV_FEATURE_NAMES, detect_r_peaks, hrv_features

DATA = Path(__file__).parent / "data" / "mitbih_100_excerpt.npz"
BEATS = list("NLRBAaJSVrFejnE/fQ")  # annotation symbols that are beats ('+' is not)


@pytest.fixture(scope="module")
def mitbih():
    d = np.load(DATA)
    x = (d["adc"].astype(np.float64) - d["baseline"]) / d["gain"]
    ref = d["beat_samples"][np.isin(d["beat_symbols"], BEATS)]
    return x, float(d["fs"]), ref


def _match(det, ref, tol):
    """True positives of a one-to-one matching of detections to references within tol."""
    tp, i, j = 0, 0, 0
    while i < len(ref) and j < len(det):
        if abs(det[j] - ref[i]) <= tol:
            tp, i, j = tp + 1, i + 1, j + 1
        elif det[j] < ref[i]:
            j += 1
        else:
            i += 1
    return tp


def _synthetic_ecg(beat_times, sfreq, n_times):
    """Narrow Gaussian 'R waves' plus a broad 'T wave' after each beat."""
    t = np.arange(n_times)[:, None] / sfreq
    b = np.asarray(beat_times)[None, :]
    r = np.exp(-((t - b) ** 2) / (2 * 0.012**2))
    tw = 0.25 * np.exp(-((t - b - 0.25) ** 2) / (2 * 0.05**2))
    return (r + tw).sum(axis=1)


def test_r_peaks_mitbih_excerpt_sensitivity_ppv(mitbih):
    x, fs, ref = mitbih
    det = detect_r_peaks(x, fs)
    tp = _match(det, ref, tol=round(0.15 * fs))
    se, ppv = tp / len(ref), tp / len(det)
    assert len(ref) == 371
    assert se > 0.99 and ppv > 0.99, (se, ppv)


def test_r_peaks_mitbih_windows_at_256hz(mitbih):
    """Batched detection on 10 s windows resampled to 256 Hz finds the same beats."""
    x, fs, ref = mitbih
    x256 = resample_poly(x, 32, 45)
    W = x256[: x256.size // 2560 * 2560].reshape(-1, 2560)
    peaks = detect_r_peaks(W, 256.0)
    assert isinstance(peaks, list) and len(peaks) == W.shape[0]
    det = np.concatenate([p + i * 2560 for i, p in enumerate(peaks)]) * fs / 256.0
    ref = ref[ref < W.size * fs / 256.0]
    tp = _match(det, ref, tol=0.15 * fs)
    assert tp / len(ref) > 0.99 and tp / len(det) > 0.99


def test_time_domain_features_match_annotations(mitbih):
    x, fs, ref = mitbih
    F = hrv_features(x[None, None, :], fs)[0]
    f = dict(zip(HRV_FEATURE_NAMES, F))
    rr = np.diff(ref) / fs * 1000
    assert abs(f["mean_hr"] - 60_000 / rr.mean()) < 0.5
    assert abs(f["mean_rr"] - rr.mean()) < 2
    assert abs(f["sdnn"] - rr.std(ddof=1)) < 2
    assert abs(f["rmssd"] - np.sqrt(np.mean(np.diff(rr) ** 2))) < 3
    assert f["n_beats"] == len(ref)
    # a 5 min window allows LF and HF
    assert np.isfinite([f["lf"], f["hf"], f["lf_hf"]]).all()


def test_features_against_loop_reference():
    """The bincount reductions agree with a plain per-window computation."""
    rng = np.random.default_rng(0)
    sfreq, T = 256.0, 2560
    X = []
    for _ in range(6):
        rr = rng.uniform(0.55, 1.1, 20)
        X.append(_synthetic_ecg(0.3 + np.cumsum(rr), sfreq, T))
    X = np.stack(X)[:, None, :] + 0.01 * rng.standard_normal((6, 1, T))
    F = hrv_features(X, sfreq)
    for i, peaks in enumerate(detect_r_peaks(X[:, 0], sfreq)):
        rr = np.diff(peaks) / sfreq * 1000
        d = np.diff(rr)
        expected = [
            len(peaks),
            rr.mean(),
            60_000 / rr.mean(),
            rr.std(ddof=1),
            np.sqrt(np.mean(d**2)),
            100 * np.mean(np.abs(d) > 50),
        ]
        np.testing.assert_allclose(F[i, :6], expected, rtol=1e-10)
    assert np.isnan(F[:, 6:]).all()  # 10 s windows: no LF/HF


def test_constant_heart_rate_and_ignores_t_waves():
    sfreq = 256.0
    beats = np.arange(0.4, 10, 0.75)  # 80 bpm
    x = _synthetic_ecg(beats, sfreq, 2560)
    peaks = detect_r_peaks(x, sfreq)
    np.testing.assert_allclose(peaks / sfreq, beats, atol=2 / sfreq)
    f = dict(zip(HRV_FEATURE_NAMES, HRVFeatures(sfreq).fit_transform(x[None])[0]))
    assert f["mean_hr"] == pytest.approx(80, abs=0.1)
    assert f["sdnn"] < 5 and f["rmssd"] < 5 and f["pnn50"] == 0


def test_negative_polarity_detected():
    sfreq = 360.0
    beats = np.arange(0.5, 10, 0.9)
    peaks = detect_r_peaks(-_synthetic_ecg(beats, sfreq, 3600), sfreq)
    np.testing.assert_allclose(peaks / sfreq, beats, atol=2 / sfreq)


def test_lf_hf_follow_the_modulation_frequency():
    """R-R intervals modulated at 0.1 Hz give LF >> HF; at 0.25 Hz, HF >> LF."""
    sfreq, dur = 128.0, 300.0

    def ecg(f_mod):
        times, t = [], 0.5
        while t < dur - 1:
            times.append(t)
            t += 0.85 + 0.05 * np.sin(2 * np.pi * f_mod * t)
        return _synthetic_ecg(times, sfreq, int(dur * sfreq))

    X = np.stack([ecg(0.1), ecg(0.25)])[:, None, :]
    F = hrv_features(X, sfreq)
    lf, hf = F[:, 6], F[:, 7]
    assert lf[0] > 10 * hf[0]
    assert hf[1] > 10 * lf[1]
    # closed form: an R-R series 850 + 50 sin(2 pi f t) ms has variance 50**2 / 2 = 1250 ms^2,
    # all of it in the band holding f
    assert lf[0] == pytest.approx(1250, rel=0.1)
    assert hf[1] == pytest.approx(1250, rel=0.1)


def test_nan_policy_short_windows():
    sfreq = 256.0
    est = HRVFeatures(sfreq).fit(np.zeros((1, 1, 2560)))
    # flat signal: no beat, every feature but n_beats is NaN
    F = est.transform(np.zeros((2, 1, 2560)))
    assert F.shape == (2, 9)
    assert (F[:, 0] == 0).all() and np.isnan(F[:, 1:]).all()
    # two beats: mean R-R and HR defined, SDNN/RMSSD/pNN50 not
    x = _synthetic_ecg([2.0, 3.0], sfreq, 2560)
    f = dict(zip(HRV_FEATURE_NAMES, est.transform(x[None, None])[0]))
    assert f["n_beats"] == 2 and f["mean_hr"] == pytest.approx(60, abs=0.5)
    assert np.isnan([f["sdnn"], f["rmssd"], f["pnn50"], f["lf"], f["hf"]]).all()
    # the thresholds for LF/HF are parameters
    x = _synthetic_ecg(np.arange(0.5, 60, 0.8), sfreq, int(61 * sfreq))
    F = HRVFeatures(sfreq, min_duration_lf=30, min_duration_hf=30).fit_transform(x[None, None])
    assert np.isfinite(F[0, 6:]).all()


def test_multichannel_names_and_width():
    sfreq = 256.0
    x = _synthetic_ecg(np.arange(0.4, 10, 0.7), sfreq, 2560)
    X = np.stack([x, -x, 2 * x])[None]
    est = HRVFeatures(sfreq).fit(X)
    F = est.transform(X)
    names = est.get_feature_names_out()
    assert F.shape == (1, 27) and len(names) == 27
    assert names[0] == "ch0_n_beats" and names[9] == "ch1_n_beats"
    np.testing.assert_allclose(F[0, :9], F[0, 9:18], equal_nan=True)
    np.testing.assert_array_equal(
        HRVFeatures(sfreq).fit(X[:, 0]).get_feature_names_out()[:2], ["n_beats", "mean_rr"]
    )
    np.testing.assert_array_equal(
        HRVFeatures(sfreq).fit(X[:, :1]).get_feature_names_out(["ECG"])[:2],
        ["ECG_n_beats", "ECG_mean_rr"],
    )


def test_bad_input():
    with pytest.raises(ValueError, match="sfreq"):
        HRVFeatures(sfreq=-1).fit(np.zeros((2, 1, 100)))
    with pytest.raises(ValueError, match="HRVFeatures: argument sfreq must be at least"):
        HRVFeatures(sfreq=10.0).fit_transform(np.ones((2, 1, 100)))
    with pytest.raises(ValueError, match="detect_r_peaks: argument sfreq must be at least 12"):
        detect_r_peaks(np.ones(100), 10.0)
    with pytest.raises(ValueError, match="HRVFeatures"):
        HRVFeatures(256.0).fit(np.full((2, 1, 100), np.nan))


def test_batched_windows_all_detected():
    """Many windows in one batch: every window gets its own beats (speed: benchmarks/hrv.py)."""
    x = _synthetic_ecg(np.arange(0.4, 10, 0.7), 256.0, 2560)
    X = np.tile(x, (50, 1, 1)) + 0.01 * np.random.default_rng(0).standard_normal((50, 1, 2560))
    F = HRVFeatures(256.0).fit_transform(X)
    assert (F[:, 0] == 14).all()
    np.testing.assert_allclose(F[:, 2], 60 / 0.7, rtol=1e-3)  # 0.7 s between beats


def test_a_qrs_cut_by_the_window_edge_hides_no_beat():
    # 4-s windows at 128 Hz of the synthetic ECG, whose generator knows the true R peaks: in two
    # of them the first QRS is cut by the window's start (peak at sample 3 or 4), and its
    # mirrored edge energy once raised the threshold of the whole window and hid a later beat
    from skemotion.datasets import make_ecg_emotion

    d = make_ecg_emotion(n_subjects=4, n_trials_per_class=2, n_windows_per_trial=6,
                         window_seconds=4.0, sfreq=128.0, random_state=0)  # fmt: skip
    truth = list(d.frame["r_peaks"])
    cut = [i for i, p in enumerate(truth) if len(p) and 3 <= p[0] < 6]
    assert len(cut) >= 2  # the windows of the failure
    found = detect_r_peaks(d.X[:, 0], 128.0)
    # every beat at least 3 samples inside the window is found (a peak at sample 0-2 or in the
    # last 3 samples lies mostly outside the window and may be missed)
    inside = [p[(p >= 3) & (p < 509)] for p in truth]
    missed = [
        (i, got.tolist(), want.tolist())
        for i, (got, want) in enumerate(zip(found, inside))
        if not all(np.abs(got - w).min() <= 2 for w in want)
    ]
    assert missed == [], missed
    for i in cut:  # and nothing more than the beats there
        np.testing.assert_allclose(found[i], truth[i], atol=2)
