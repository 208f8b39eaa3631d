"""A synthetic EEG + ECG emotion corpus: both modalities in one window, at one sampling rate.

The corpus exists to test and demonstrate multimodal fusion: its two modalities carry partly
independent information about the four valence x arousal classes, so that early fusion (both
feature sets in one model) beats either modality alone.
The EEG and ECG models are those of :mod:`skemotion.datasets._synthetic`
(:func:`~skemotion.datasets.make_eeg_emotion`, :func:`~skemotion.datasets.make_ecg_emotion`),
with the class effects split between the modalities; see the Notes of
:func:`~skemotion.datasets.make_multimodal_emotion`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from .._montages import MONTAGES
from .._validation import check_sfreq
from ..features._backend import check_positive_finite
from ._mne import mne_output
from ._synthetic import (
    _CLASS_NAMES,
    _WAVES,
    _artifacts,
    _bandlimited_noise,
    _check_montage,
    _check_sizes,
    _class_coords,
    _corpus_bunch,
    _electrode_xy,
    _gauss,
    _n_times,
    _topographies,
)

__all__ = ["make_multimodal_emotion"]

#: Log-amplitude scale of the EEG valence cues and of its weak arousal cue (times the subject's
#: EEG responsiveness and ``eeg_effect_size``).
_EEG_VALENCE, _EEG_AROUSAL = 1.0, 0.06
#: Heart-rate rise (bpm) and log-damping of the vagal (HF) modulation for high arousal ...
_ECG_AROUSAL_HR, _ECG_AROUSAL_VAGAL = 12.0, 2.0
#: ... and for negative valence, the weak valence cue of the ECG (times the subject's ECG
#: responsiveness and ``ecg_effect_size``).
_ECG_VALENCE_HR, _ECG_VALENCE_VAGAL = 2.0, 0.3
#: Range of the trial heart rates (bpm).
_HR_RANGE = (40.0, 150.0)
#: Between-subject standard deviation of the resting heart rate (bpm).
_ECG_HR_SD = 8.0
#: Shortest window: SDNN and RMSSD need three beats.
_MIN_WINDOW_SECONDS = 2.0
_MIN_SFREQ = 64.0


def make_multimodal_emotion(
    montage: str = "emotiv14",
    *,
    n_subjects: int = 8,
    n_trials_per_class: int = 2,
    n_windows_per_trial: int = 4,
    window_seconds: float = 4.0,
    sfreq: float | None = None,
    eeg_effect_size: float = 1.0,
    ecg_effect_size: float = 1.0,
    artifacts: bool = True,
    line_freq: float = 50.0,
    random_state=None,
    return_mne: bool = False,
):
    """Generate a synthetic EEG + ECG emotion corpus (valence x arousal quadrants).

    Every window holds the EEG channels of ``montage`` followed by one ECG lead (``"ECG"``),
    all at one sampling rate. The EEG mainly encodes valence and the ECG mainly arousal (see
    Notes), so each modality alone confuses some of the four classes and their fusion
    separates them. Windows are non-overlapping and in trial order; every trial belongs to one
    subject and one class, and its windows are consecutive rows sharing its trial id.

    Parameters
    ----------
    montage : {"emotiv14", "deap32", "seed62"}, default="emotiv14"
        EEG channel set and order (Emotiv EPOC as in DREAMER and AMIGOS, DEAP, SEED); its
        sampling rate (128, 128, 200 Hz) is the default ``sfreq``.
    n_subjects : int, default=8
        Number of subjects.
    n_trials_per_class : int, default=2
        Trials per class and subject.
    n_windows_per_trial : int, default=4
        Consecutive non-overlapping windows cut from each trial.
    window_seconds : float, default=4.0
        Window length in seconds, at least 2 s. HRV features need several beats per window:
        4 s (about 5 beats at 70 bpm) gives SDNN and RMSSD from 3 to 4 R-R intervals.
    sfreq : float or None, default=None
        Sampling rate of both modalities in Hz, at least 64 Hz; None takes the montage's rate.
    eeg_effect_size : float, default=1.0
        Scales the class effects in the EEG (0: the EEG holds no class information).
    ecg_effect_size : float, default=1.0
        Scales the class effects in the ECG (0: the ECG holds no class information).
    artifacts : bool, default=True
        Add the label-independent artifacts of the EEG generator (blinks, EMG bursts, line
        noise) and line noise in the ECG (whose baseline wander and broadband noise are always
        there).
    line_freq : float, default=50.0
        Line-noise frequency in Hz (below Nyquist; checked only with ``artifacts=True``).
    random_state : int, RandomState instance or None, default=None
        Makes the corpus deterministic.
    return_mne : bool, default=False
        Return ``mne.EpochsArray`` (:func:`~skemotion.datasets.to_mne` of the Bunch: signals in
        volts, ``eeg`` and ``ecg`` channel types, 10-05 electrode positions on the EEG
        channels, labels as events, ids and ``frame`` as metadata) instead of the Bunch. Needs
        MNE-Python (``pip install "skemotion[mne]"``).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``X`` float32 (n_windows, n_eeg + 1, n_times): EEG in microvolts, then the ECG in
        millivolts; ``y`` class codes of ``target_names`` ``["LVLA", "LVHA", "HVLA", "HVHA"]``
        (low/high valence x low/high arousal); ``groups`` subject id; ``trials`` trial id
        (unique across subjects); ``sfreq``; ``ch_names`` (the montage's, then ``"ECG"``);
        ``ch_types`` (``["eeg"] * n_eeg + ["ecg"]``); ``frame`` (subject, session, trial,
        trial_in_subject, start, label, valence, arousal in {-1, 1}, heart_rate of the trial
        in bpm, r_peaks: the generator's R-peak samples in the window); ``DESCR``.
        With ``return_mne=True``: the ``mne.EpochsArray`` of
        :func:`~skemotion.datasets.to_mne` instead.

    See Also
    --------
    make_eeg_emotion : The EEG model, alone.
    make_ecg_emotion : The ECG model, alone (two arousal classes).

    Notes
    -----
    Classes are the quadrants (valence v, arousal a) in {-1, 1}^2. Each subject s draws an EEG
    responsiveness r_s and an ECG responsiveness q_s, independently, each logN(0, 0.35): a
    subject may show the emotion in one modality and barely in the other.

    EEG (microvolts): the spectral model of :func:`~skemotion.datasets.make_eeg_emotion` (1/f
    background, subject alpha peak, channel gains, volume conduction, trial drift, blinks, EMG
    bursts, line noise) with the log-amplitude class modulation::

        m(f, c) = E_eeg * r_s * [ v * T_c * (beta(f) + gamma(f))
                                  + v * (RF_c - LF_c) * alpha_s(f)
                                  + 0.06 * a * (FC_c * beta(f) - 0.5 * alpha_s(f)) ]

    where T, RF, LF and FC are the lateral-temporal, right-frontal, left-frontal and
    fronto-central topographies, alpha_s the subject's alpha peak and ``E_eeg`` is
    ``eeg_effect_size``: lateral-temporal beta and gamma rise and frontal alpha shifts to the
    right with valence (the valence cues of :func:`~skemotion.datasets.make_eeg_emotion` at
    about 2.9 times its default strength); the arousal cue (fronto-central beta up, global
    alpha down) is weak.

    ECG (millivolts): the beat model of :func:`~skemotion.datasets.make_ecg_emotion` (ECGSYN
    waves, Bazett QT, LF and respiratory HF modulation of the R-R intervals, jitter, baseline
    wander, noise).
    With z = (a + 1) / 2 (high arousal) and u = (1 - v) / 2 (negative valence), the trial's
    heart rate and vagal damping are::

        HR = clip(HR_s + N(0, 2.5) + E_ecg * q_s * (12 * z + 2 * u), 40, 150)  bpm,
        damp = exp(-E_ecg * q_s * (2 * z + 0.3 * u)),

    where HR_s ~ N(70, 8) bpm is the subject's resting rate and ``E_ecg`` is
    ``ecg_effect_size``; ``damp`` multiplies the respiratory (HF) modulation of the R-R
    intervals and shrinks their jitter, i.e. lowers RMSSD. High arousal raises the heart rate
    and lowers HRV (sympathetic activation, vagal withdrawal); negative valence does the same,
    far less.

    So the EEG separates valence well and arousal poorly, the ECG the reverse, and the two
    modalities are independent given the class and the subject. Measured leave-one-subject-out
    with the defaults (30 corpora, ``random_state`` 0-29), a standard-scaled logistic
    regression reaches a mean balanced accuracy (chance 0.25) of 0.52 (0.44-0.60) on the
    differential entropy of the EEG (5 bands), 0.48 (0.40-0.56) on the time-domain HRV
    features of the ECG (:class:`~skemotion.features.HRVFeatures`, log(1 + x)) and 0.71
    (0.56-0.82) on both concatenated: early fusion beats the better single modality by 0.18
    on average, and by at least 0.08 on every corpus. Per axis, the EEG alone finds the
    valence (column ``valence`` of ``frame``) at about 0.97 and the arousal at 0.55, the ECG
    alone the arousal at about 0.85 and the valence at 0.56.

    Examples
    --------
    >>> from skemotion.datasets import make_multimodal_emotion
    >>> data = make_multimodal_emotion(n_subjects=2, random_state=0)
    >>> data.X.shape, data.sfreq, data.ch_names[-2:], data.ch_types[-2:]
    ((64, 15, 512), 128.0, ['AF4', 'ECG'], ['eeg', 'ecg'])
    >>> data.target_names
    ['LVLA', 'LVHA', 'HVLA', 'HVHA']
    """
    func = "make_multimodal_emotion"
    as_mne = mne_output(return_mne, func)
    _check_montage(func, montage)
    n_subjects, n_trials_per_class, n_windows_per_trial = _check_sizes(
        func, n_subjects, n_trials_per_class, n_windows_per_trial
    )
    window_seconds = check_positive_finite(window_seconds, "window_seconds", func)
    if window_seconds < _MIN_WINDOW_SECONDS:
        raise ValueError(
            f"{func}: argument window_seconds must be at least {_MIN_WINDOW_SECONDS:g} s (HRV "
            f"needs several heart beats per window); got {window_seconds!r}."
        )
    sfreq = MONTAGES[montage]["sfreq"] if sfreq is None else check_sfreq(func, sfreq)
    if sfreq < _MIN_SFREQ:
        raise ValueError(
            f"{func}: argument sfreq must be at least {_MIN_SFREQ:g} Hz; got {sfreq!r}."
        )
    eeg_effect = check_positive_finite(eeg_effect_size, "eeg_effect_size", func, allow_zero=True)
    ecg_effect = check_positive_finite(ecg_effect_size, "ecg_effect_size", func, allow_zero=True)
    if not isinstance(artifacts, bool | np.bool_):
        raise ValueError(f"{func}: argument artifacts must be a bool; got {artifacts!r}.")
    if artifacts and not (check_positive_finite(line_freq, "line_freq", func) < sfreq / 2):
        raise ValueError(
            f"{func}: argument line_freq must lie in (0, {sfreq / 2}) Hz; got {line_freq!r}."
        )
    rng = check_random_state(random_state)

    eeg_names = list(MONTAGES[montage]["ch_names"])
    n_times = _n_times(window_seconds, sfreq, func)
    n_trial = n_times * n_windows_per_trial
    eeg = _EEGModel(montage, eeg_names, sfreq, n_trial, line_freq if artifacts else None)
    t = np.arange(n_trial) / sfreq
    coords = _class_coords(4)

    X_all, rows, r_peaks = [], [], []
    trial_id = 0
    for s in range(n_subjects):
        eeg_subject = eeg.subject(rng, eeg_effect * rng.lognormal(0.0, 0.35))
        ecg_subject = _ecg_subject(rng, ecg_effect * rng.lognormal(0.0, 0.35))
        labels = np.repeat(np.arange(4), n_trials_per_class)
        labels = labels[rng.permutation(labels.size)]
        for r, label in enumerate(labels):
            v, a = coords[label]
            x_eeg = eeg.trial(rng, eeg_subject, v, a)
            x_ecg, beats, hr = _ecg_trial(
                rng, ecg_subject, v, a, t, sfreq, line_freq if artifacts else None
            )
            sig = np.concatenate([x_eeg, x_ecg[None]])
            X_all.append(sig.reshape(sig.shape[0], n_windows_per_trial, n_times).swapaxes(0, 1))
            for w in range(n_windows_per_trial):
                lo = w * n_times
                in_window = beats[(beats >= lo) & (beats < lo + n_times)] - lo
                r_peaks.append(in_window)
                rows.append(
                    {
                        "subject": s,
                        "session": 1,
                        "trial": trial_id,
                        "trial_in_subject": r,
                        "start": w * n_times / sfreq,
                        "label": int(label),
                        "valence": float(v),
                        "arousal": float(a),
                        "heart_rate": hr,
                    }
                )
            trial_id += 1
    frame = pd.DataFrame(rows)
    frame["r_peaks"] = r_peaks
    data = _corpus_bunch(
        X_all,
        frame,
        sfreq=sfreq,
        ch_names=[*eeg_names, "ECG"],
        ch_types=["eeg"] * len(eeg_names) + ["ecg"],
        target_names=list(_CLASS_NAMES[4]),
        description=f"Synthetic multimodal (EEG + ECG) emotion corpus, montage {montage} + one "
        f"ECG lead at {sfreq:g} Hz, eeg_effect_size {eeg_effect_size}, ecg_effect_size "
        f"{ecg_effect_size}: EEG in microvolts mainly encodes valence, ECG in millivolts mainly "
        "arousal. See skemotion.datasets.make_multimodal_emotion for the generative model.",
    )
    return as_mne(data)


class _EEGModel:
    """The spectral EEG model of ``make_eeg_emotion`` for trials of ``n`` samples, with the
    class effects of ``make_multimodal_emotion`` (valence strong, arousal weak)."""

    def __init__(self, montage, ch_names, sfreq, n, line_freq):
        self.sfreq, self.n, self.line_freq = sfreq, n, line_freq
        self.xy = _electrode_xy(montage, ch_names)
        self.topo = _topographies(self.xy)
        self.f = np.fft.rfftfreq(n, 1 / sfreq)
        dist = np.linalg.norm(self.xy[:, None] - self.xy[None], axis=-1)
        mix = np.exp(-((dist / 0.18) ** 2))  # volume conduction
        self.mix = mix / np.sqrt((mix**2).sum(1, keepdims=True))
        self.band = {
            "delta": _gauss(self.f, 2.5, 1.5),
            "theta": _gauss(self.f, 6.0, 1.5),
            "beta": _gauss(self.f, 20.0, 5.0),
            "gamma": _gauss(self.f, 38.0, 6.0),
        }

    def subject(self, rng, respond):
        """Draw one subject: its spectra and responsiveness (``respond`` times effect size)."""
        n_ch, f, band = self.xy.shape[0], self.f, self.band
        chi = rng.uniform(1.0, 1.8)
        alpha_peak = _gauss(f, rng.normal(10.0, 0.8), 1.2)
        gains = rng.lognormal(0.0, 0.2, n_ch)
        alpha_topo = 0.3 + 1.2 * self.topo["parieto_occipital"] + 0.2 * rng.random(n_ch)
        base_psd = (
            40.0 / (f[None] + 1.0) ** chi
            + 6.0 * alpha_topo[:, None] * alpha_peak[None]
            + 0.5 * band["beta"][None]
            + 0.15 * band["gamma"][None]
        )  # (C, F)
        return {
            "amp": 6.0 * gains[:, None] * np.sqrt(base_psd),
            "alpha_peak": alpha_peak,
            "respond": respond,
            "line_amp": rng.uniform(0.5, 3.0),
        }

    def trial(self, rng, subj, v, a):
        """One trial (C, n) in microvolts for valence ``v`` and arousal ``a``."""
        topo, band, alpha_peak, m = self.topo, self.band, subj["alpha_peak"], subj["respond"]
        n_ch, n_f = subj["amp"].shape
        mod = _EEG_VALENCE * m * v * (
            topo["lateral_temporal"][:, None] * (band["beta"] + band["gamma"])[None]
            + (topo["right_frontal"] - topo["left_frontal"])[:, None] * alpha_peak[None]
        ) + _EEG_AROUSAL * m * a * (
            topo["fronto_central"][:, None] * band["beta"][None] - 0.5 * alpha_peak[None]
        )
        drift = sum(rng.normal(0, 0.15) * b for b in (*band.values(), alpha_peak))
        amp = subj["amp"] * np.exp(mod + drift[None])
        spec = amp * (rng.standard_normal((n_ch, n_f)) + 1j * rng.standard_normal((n_ch, n_f)))
        spec[:, 0] = 0.0
        sig = self.mix @ (np.fft.irfft(spec, n=self.n) * np.sqrt(self.n / 2))
        slow = _bandlimited_noise(rng, (1, self.n), self.sfreq, 0.01, 0.3)
        sig += 10.0 * rng.random(n_ch)[:, None] * slow
        if self.line_freq is not None:
            sig += _artifacts(
                rng, self.xy, topo, self.n, self.sfreq, self.line_freq, subj["line_amp"]
            )
        return sig


def _ecg_subject(rng, respond):
    """Draw one subject of the ECG model (``respond``: responsiveness times effect size)."""
    waves = _WAVES.copy()
    waves[:, 2] *= rng.lognormal(0, 0.15, 5)
    waves[4, 2] *= rng.uniform(0.6, 1.4)
    return {
        "hr0": rng.normal(70, _ECG_HR_SD),
        "waves": waves,
        "hf_freq": rng.uniform(0.2, 0.35),
        "hf0": rng.uniform(0.03, 0.06),  # s, R-R modulation amplitude at rest
        "lf0": rng.uniform(0.02, 0.04),
        "respond": respond,
    }


def _ecg_trial(rng, subj, v, a, t, sfreq, line_freq):
    """One ECG trial in millivolts: ``(signal, R-peak samples, heart rate in bpm)``."""
    high, negative, q = (a + 1) / 2, (1 - v) / 2, subj["respond"]
    hr = subj["hr0"] + rng.normal(0, 2.5)
    hr += q * (_ECG_AROUSAL_HR * high + _ECG_VALENCE_HR * negative)
    hr = float(np.clip(hr, *_HR_RANGE))
    damp = np.exp(-q * (_ECG_AROUSAL_VAGAL * high + _ECG_VALENCE_VAGAL * negative))
    rr_mean = 60.0 / hr
    n, dur = t.size, t.size / sfreq
    n_beats = int(dur / (0.6 * rr_mean)) + 4
    approx_t = np.arange(n_beats) * rr_mean
    rr = (
        rr_mean
        + subj["hf0"] * damp * np.sin(2 * np.pi * subj["hf_freq"] * approx_t + rng.uniform(0, 6.3))
        + subj["lf0"] * np.sin(2 * np.pi * 0.1 * approx_t + rng.uniform(0, 6.3))
        + rng.normal(0, 0.012 * (0.5 + 0.5 * damp), n_beats)
    )
    rr = np.clip(rr, 0.3, 2.0)
    beats = np.concatenate([[-rng.uniform(0, rr[0])], rr]).cumsum()  # R-peak times (s)
    # beat phase in (-pi, pi] with the R wave at 0, QT shortening ~ sqrt(RR) (Bazett)
    idx = np.clip(np.searchsorted(beats, t, side="right") - 1, 0, beats.size - 2)
    rr_here = beats[idx + 1] - beats[idx]
    phase = 2 * np.pi * (t - beats[idx]) / rr_here
    phase = np.where(phase > np.pi, phase - 2 * np.pi, phase)
    qt_scale = 1.0 / np.sqrt(rr_here)
    ecg = np.zeros(n)
    for ang, width, amp in subj["waves"]:
        sc = qt_scale if abs(ang) > 0.5 else 1.0
        ecg += amp * np.exp(-0.5 * ((phase - ang * sc) / (width * sc)) ** 2)
    ecg += 0.15 * np.sin(2 * np.pi * rng.uniform(0.15, 0.3) * t + rng.uniform(0, 6.3))
    ecg += 0.1 * _bandlimited_noise(rng, (n,), sfreq, 0.01, 0.5)
    ecg += 0.02 * rng.standard_normal(n)
    ecg += 0.02 * _bandlimited_noise(rng, (n,), sfreq, 20.0, min(100.0, 0.45 * sfreq))
    if line_freq is not None:
        ecg += 0.01 * np.sin(2 * np.pi * line_freq * t + rng.uniform(0, 6.3))
    peaks = np.round(beats[(beats >= 0) & (beats < dur)] * sfreq).astype(int)
    return ecg, peaks[peaks < n], hr
