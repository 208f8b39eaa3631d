"""A realistic synthetic emotion corpus: EEG (three montages) and ECG.

The generators exist so that every estimator, test, example and the ``skemotion benchmark``
command run with no download. They are not white noise with a shifted mean: they reproduce the
structure that makes real emotion data hard (subject variability, correlated windows within a
trial, label-independent artifacts), and they carry class effects with the topographies reported
in the literature, so that models can learn something real above the baselines' chance level,
and a leaky evaluation (windows of one trial on both sides of a split) visibly inflates the
scores (``examples/plot_leakage.py``: 0.84 with random windows vs 0.61 subject-wise).

EEG generative model (per subject s, trial r, channel c; amplitudes in microvolts)
---------------------------------------------------------------------------------
Each trial is synthesised in the frequency domain as a Gaussian process with power spectrum

    P(f, c) = g_c^2 * [ A / (f + 1)^chi_s  +  alpha_c * N(f; IAF_s, 1.2 Hz)
                        + beta_c * N(f; 20 Hz, 5 Hz) + gamma_c * N(f; 38 Hz, 6 Hz) ]
              * exp(2 * m(f, c, label)) * exp(2 * d_r(f))

then mixed across neighbouring electrodes (volume conduction) and transformed back to time:

- 1/f background with subject exponent chi_s ~ U(1.0, 1.8);
- alpha rhythm with subject-specific individual alpha frequency IAF_s ~ N(10, 0.8) Hz and a
  parieto-occipital maximum;
- channel gains g_c ~ logN(0, 0.2) per subject (electrode impedance, skull thickness);
- class effects m(f, c, label), log-amplitude modulations scaled by ``effect_size`` times a
  subject responsiveness factor ~ logN(0, 0.35) (some subjects barely respond):

  1. lateral-temporal beta and gamma increase with valence (positive > neutral > negative;
     Zheng & Lu 2015 on SEED),
  2. frontal alpha asymmetry: positive valence lowers left-frontal and raises right-frontal
     alpha (Davidson's approach/withdrawal model),
  3. parieto-occipital alpha is highest for neutral and lower for emotional states,
  4. (4 classes: valence x arousal quadrants) high arousal raises fronto-central beta and
     lowers global alpha;

- trial-level drift d_r(f): a random log-gain per band and trial (N(0, 0.15)) plus a slow
  (< 0.3 Hz) wandering offset, so windows of one trial are correlated and a split that puts
  windows of one trial on both sides leaks;
- label-independent artifacts: eye blinks (Poisson, 0.2 /s, 80-150 uV, frontal, decaying
  with distance from Fp1/Fp2), EMG bursts (Poisson, 0.05 /s, 20-100 Hz band-limited noise with
  smooth envelopes over temporal electrodes) and line noise at ``line_freq`` with a subject
  amplitude.

ECG generative model (256 Hz, 10 s windows, one lead, millivolts)
-----------------------------------------------------------------
Beats are a sum of five Gaussian waves (P, Q, R, S, T) in beat phase, as in ECGSYN (McSharry et
al. 2003), with subject-specific amplitudes and QT shortening with heart rate (Bazett). RR
intervals follow the subject's mean heart rate plus an LF (0.1 Hz, Mayer wave) and an HF
(respiratory, 0.2-0.35 Hz) oscillation and white jitter. High arousal raises the heart rate
(+8 bpm x ``effect_size``) and lowers the HF (vagal) modulation and the jitter, i.e. lower
RMSSD; add baseline wander, white and EMG-like noise and line noise.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from .._montages import GRID_9X9, MONTAGES
from .._validation import check_sfreq
from ..features._backend import check_positive_finite
from ._base import make_dataset_bunch
from ._mne import mne_output

__all__ = ["make_eeg_emotion", "make_ecg_emotion"]

_CLASS_NAMES = {
    2: ["negative", "positive"],
    3: ["negative", "neutral", "positive"],
    4: ["LVLA", "LVHA", "HVLA", "HVHA"],
}


def _electrode_xy(montage: str, ch_names) -> np.ndarray:
    """2-D scalp positions (x left->right, y back->front) from the 9x9 grid, in [-1, 1]."""
    grid = GRID_9X9[montage]
    xy = np.array([grid[c.upper()] for c in ch_names], dtype=float)  # (row, col)
    return np.stack([(xy[:, 1] - 4) / 4, (4 - xy[:, 0]) / 4], axis=1)


def _gauss(f, mu, sd):
    return np.exp(-0.5 * ((f - mu) / sd) ** 2)


def _topographies(xy: np.ndarray) -> dict:
    """Spatial weights in [0, 1] of the regions the class effects live in."""
    x, y = xy[:, 0], xy[:, 1]
    return {
        "lateral_temporal": np.clip((np.abs(x) - 0.4) / 0.6, 0, 1) * _gauss(y, 0.0, 0.45),
        "left_frontal": np.clip(-x, 0, 1) * np.clip(y - 0.1, 0, 1),
        "right_frontal": np.clip(x, 0, 1) * np.clip(y - 0.1, 0, 1),
        "parieto_occipital": np.clip(-y - 0.2, 0, 1) / 0.8,
        "fronto_central": _gauss(x, 0, 0.5) * _gauss(y, 0.35, 0.35),
        "frontopolar": np.exp(-(((np.hypot(np.abs(x) - 0.25, y - 1.0)) / 0.35) ** 2)),
    }


def _class_coords(n_classes: int) -> np.ndarray:
    """(valence, arousal) of each class."""
    if n_classes == 2:
        return np.array([[-1.0, 0.0], [1.0, 0.0]])
    if n_classes == 3:
        return np.array([[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    return np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])


def _check_int(name, value, low, func):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{func}: argument {name} must be an integer >= {low}; got {value!r}.")
    return int(value)


def _check_montage(func: str, montage) -> None:
    """The montage argument of the EEG generators: a name of :data:`MONTAGES`."""
    if montage not in MONTAGES:
        raise ValueError(
            f"{func}: argument montage must be one of {sorted(MONTAGES)}; got {montage!r}."
        )


def _check_sizes(func, n_subjects, n_trials_per_class, n_windows_per_trial) -> tuple[int, ...]:
    """The corpus sizes both generators take, each an integer >= 1."""
    return (
        _check_int("n_subjects", n_subjects, 1, func),
        _check_int("n_trials_per_class", n_trials_per_class, 1, func),
        _check_int("n_windows_per_trial", n_windows_per_trial, 1, func),
    )


def _n_times(window_seconds, sfreq, func) -> int:
    """Samples per window; at least 2."""
    n_times = int(round(window_seconds * sfreq))
    if n_times < 2:
        raise ValueError(f"{func}: window_seconds={window_seconds} gives fewer than 2 samples.")
    return n_times


def _corpus_bunch(X_all, frame, **meta):
    """The dataset Bunch of a generated corpus: ``X_all`` holds each trial's windows, ``frame``
    one row per window with the columns ``subject``, ``trial`` and ``label``."""
    return make_dataset_bunch(
        X=np.concatenate(X_all).astype(np.float32),
        y=frame["label"].to_numpy(),
        groups=frame["subject"].to_numpy(),
        trials=frame["trial"].to_numpy(),
        frame=frame,
        **meta,
    )


def _bandlimited_noise(rng, shape, sfreq, lo, hi):
    """Gaussian noise band-limited to [lo, hi] Hz (unit variance), shape (..., n)."""
    n = shape[-1]
    spec = rng.standard_normal(shape[:-1] + (n // 2 + 1,)) + 1j * rng.standard_normal(
        shape[:-1] + (n // 2 + 1,)
    )
    f = np.fft.rfftfreq(n, 1 / sfreq)
    spec *= (f >= lo) & (f <= hi)
    out = np.fft.irfft(spec, n=n)
    return out / (out.std(axis=-1, keepdims=True) + 1e-12)


def make_eeg_emotion(
    montage: str = "seed62",
    *,
    n_subjects: int = 8,
    n_classes: int = 3,
    n_trials_per_class: int = 2,
    n_windows_per_trial: int = 10,
    window_seconds: float = 2.0,
    effect_size: float = 1.0,
    artifacts: bool = True,
    line_freq: float = 50.0,
    random_state=None,
    return_mne: bool = False,
):
    """Generate a synthetic EEG emotion corpus with realistic structure.

    See the module docstring for the generative model. Windows are non-overlapping and in trial
    order; every trial belongs to one subject and one class.

    Parameters
    ----------
    montage : {"seed62", "deap32", "emotiv14"}, default="seed62"
        Channel set, order and sampling rate: SEED (62 ch, 200 Hz), DEAP (32 ch, 128 Hz) or
        Emotiv EPOC (14 ch, 128 Hz, the DREAMER/AMIGOS order).
    n_subjects : int, default=8
        Number of subjects.
    n_classes : {2, 3, 4}, default=3
        2: negative/positive valence, 3: negative/neutral/positive (SEED), 4: valence-arousal
        quadrants (DEAP-style).
    n_trials_per_class : int, default=2
        Trials per class and subject.
    n_windows_per_trial : int, default=10
        Consecutive non-overlapping windows cut from each trial.
    window_seconds : float, default=2.0
        Window length in seconds (2 s at 200 Hz = 400 samples, the TS-STDN input).
    effect_size : float, default=1.0
        Difficulty knob: scales the class effects. 0 gives data without any class information
        (every classifier should be at chance), 1 a moderate effect where subject-independent
        models reach well above chance but far from perfect, 3 an easy problem.
    artifacts : bool, default=True
        Add label-independent blinks, EMG bursts and line noise.
    line_freq : float, default=50.0
        Line-noise frequency in Hz (must be below Nyquist).
    random_state : int, RandomState instance or None, default=None
        Makes the corpus deterministic.
    return_mne : bool, default=False
        Return ``mne.EpochsArray`` (:func:`~skemotion.datasets.to_mne` of the Bunch: signals
        in volts, channel types, 10-05 electrode positions, labels as events, ids and ``frame``
        as metadata) instead of the Bunch. Needs MNE-Python (``pip install "skemotion[mne]"``).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``X`` float32 (n_windows, n_channels, n_times) in microvolts, ``y`` int class codes,
        ``groups`` subject id, ``trials`` trial id (unique across subjects), ``sfreq``,
        ``ch_names``, ``target_names``, ``frame`` (subject, session, trial, start, label,
        valence, arousal), ``DESCR``.
        With ``return_mne=True``: the ``mne.EpochsArray`` of
        :func:`~skemotion.datasets.to_mne` instead.

    Examples
    --------
    >>> from skemotion.datasets import make_eeg_emotion
    >>> data = make_eeg_emotion("deap32", n_subjects=2, random_state=0)
    >>> data.X.shape, data.sfreq
    ((120, 32, 256), 128.0)
    """
    func = "make_eeg_emotion"
    as_mne = mne_output(return_mne, func)
    _check_montage(func, montage)
    n_subjects, n_trials_per_class, n_windows_per_trial = _check_sizes(
        func, n_subjects, n_trials_per_class, n_windows_per_trial
    )
    if (
        isinstance(n_classes, bool | np.bool_)
        or not isinstance(n_classes, numbers.Integral)
        or n_classes not in _CLASS_NAMES
    ):
        raise ValueError(f"{func}: argument n_classes must be 2, 3 or 4; got {n_classes!r}.")
    n_classes = int(n_classes)
    check_positive_finite(effect_size, "effect_size", func, allow_zero=True)
    check_positive_finite(window_seconds, "window_seconds", func)
    rng = check_random_state(random_state)
    ch_names = list(MONTAGES[montage]["ch_names"])
    sfreq = MONTAGES[montage]["sfreq"]
    if artifacts and not (check_positive_finite(line_freq, "line_freq", func) < sfreq / 2):
        raise ValueError(
            f"{func}: argument line_freq must lie in (0, {sfreq / 2}) Hz; got {line_freq!r}."
        )
    n_ch = len(ch_names)
    n_times = _n_times(window_seconds, sfreq, func)
    n_trial_samples = n_times * n_windows_per_trial
    xy = _electrode_xy(montage, ch_names)
    topo = _topographies(xy)
    coords = _class_coords(n_classes)
    f = np.fft.rfftfreq(n_trial_samples, 1 / sfreq)  # (F,)
    n_f = f.size

    # volume conduction: each channel mixes its neighbours (Gaussian kernel on scalp distance)
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    mix = np.exp(-((dist / 0.18) ** 2))
    mix /= np.sqrt((mix**2).sum(1, keepdims=True))

    band = {
        "delta": _gauss(f, 2.5, 1.5),
        "theta": _gauss(f, 6.0, 1.5),
        "beta": _gauss(f, 20.0, 5.0),
        "gamma": _gauss(f, 38.0, 6.0),
    }
    X_all, rows = [], []
    trial_id = 0
    for s in range(n_subjects):
        chi = rng.uniform(1.0, 1.8)
        iaf = rng.normal(10.0, 0.8)
        gains = rng.lognormal(0.0, 0.2, n_ch)
        respond = effect_size * rng.lognormal(0.0, 0.35)
        alpha_peak = _gauss(f, iaf, 1.2)
        alpha_topo = 0.3 + 1.2 * topo["parieto_occipital"] + 0.2 * rng.random(n_ch)
        base_psd = (
            40.0 / (f[None] + 1.0) ** chi
            + 6.0 * alpha_topo[:, None] * alpha_peak[None]
            + 0.5 * band["beta"][None]
            + 0.15 * band["gamma"][None]
        )  # (C, F)
        line_amp = rng.uniform(0.5, 3.0)
        labels = np.repeat(np.arange(n_classes), n_trials_per_class)
        labels = labels[rng.permutation(labels.size)]
        for r, label in enumerate(labels):
            v, a = coords[label]
            m = 0.35 * respond
            # log-amplitude modulation (C, F) by the documented class effects
            mod = (
                m * v * topo["lateral_temporal"][:, None] * (band["beta"] + band["gamma"])[None]
                + m * v * (topo["right_frontal"] - topo["left_frontal"])[:, None] * alpha_peak[None]
                - m * (abs(v) - 0.5) * topo["parieto_occipital"][:, None] * alpha_peak[None]
                + m * a * topo["fronto_central"][:, None] * band["beta"][None]
                - 0.5 * m * a * alpha_peak[None]
            )
            drift = sum(rng.normal(0, 0.15) * b for b in (*band.values(), alpha_peak))
            amp = 6.0 * gains[:, None] * np.sqrt(base_psd) * np.exp(mod + drift[None])
            spec = amp * (rng.standard_normal((n_ch, n_f)) + 1j * rng.standard_normal((n_ch, n_f)))
            spec[:, 0] = 0.0
            sig = np.fft.irfft(spec, n=n_trial_samples) * np.sqrt(n_trial_samples / 2)
            sig = mix @ sig
            # slow wandering offset shared by the trial (< 0.3 Hz), channel-specific amplitude
            slow = _bandlimited_noise(rng, (1, n_trial_samples), sfreq, 0.01, 0.3)
            sig += 10.0 * rng.random(n_ch)[:, None] * slow
            if artifacts:
                sig += _artifacts(rng, xy, topo, n_trial_samples, sfreq, line_freq, line_amp)
            X_all.append(sig.reshape(n_ch, n_windows_per_trial, n_times).transpose(1, 0, 2))
            for w in range(n_windows_per_trial):
                rows.append(
                    {
                        "subject": s,
                        "session": 1,
                        "trial": trial_id,
                        "trial_in_subject": r,
                        "start": w * window_seconds,
                        "label": int(label),
                        "valence": float(v),
                        "arousal": float(a),
                    }
                )
            trial_id += 1
    data = _corpus_bunch(
        X_all,
        pd.DataFrame(rows),
        sfreq=sfreq,
        ch_names=ch_names,
        target_names=_CLASS_NAMES[n_classes],
        description=f"Synthetic EEG emotion corpus, montage {montage}, effect_size "
        f"{effect_size}. See skemotion.datasets._synthetic for the generative model.",
    )
    return as_mne(data)


def _artifacts(rng, xy, topo, n, sfreq, line_freq, line_amp):
    """Label-independent blinks, EMG bursts and line noise for one trial, (C, n)."""
    n_ch = xy.shape[0]
    t = np.arange(n) / sfreq
    out = np.zeros((n_ch, n))
    # eye blinks: ~300 ms bumps, strongest at Fp1/Fp2
    n_blinks = rng.poisson(0.2 * n / sfreq)
    if n_blinks:
        centres = rng.uniform(0, t[-1], n_blinks)
        amps = rng.uniform(80, 150, n_blinks)
        wave = (amps[:, None] * np.exp(-0.5 * ((t[None] - centres[:, None]) / 0.07) ** 2)).sum(0)
        out += topo["frontopolar"][:, None] * wave[None]
    # EMG bursts over temporal electrodes: 20-100 Hz noise with smooth envelopes
    n_bursts = rng.poisson(0.05 * n / sfreq)
    if n_bursts:
        hi = min(100.0, 0.45 * sfreq)
        noise = _bandlimited_noise(rng, (1, n), sfreq, 20.0, hi)[0]
        centres = rng.uniform(0, t[-1], n_bursts)
        widths = rng.uniform(0.2, 0.8, n_bursts)
        env = (
            rng.uniform(10, 30, n_bursts)[:, None]
            * np.exp(-0.5 * ((t[None] - centres[:, None]) / widths[:, None]) ** 4)
        ).sum(0)
        spatial = 0.2 + topo["lateral_temporal"] * rng.uniform(0.5, 1.5, n_ch)
        out += spatial[:, None] * (env * noise)[None]
    out += line_amp * np.sin(2 * np.pi * line_freq * t + rng.uniform(0, 2 * np.pi))[None]
    return out


# ---------------------------------------------------------------------------------------------
# ECG
_WAVES = np.array(
    # angle (rad), width (rad), amplitude (mV) of P, Q, R, S, T (ECGSYN defaults)
    [[-np.pi / 3, 0.25, 0.12], [-np.pi / 12, 0.1, -0.15], [0.0, 0.1, 1.0],
     [np.pi / 12, 0.1, -0.25], [np.pi / 2, 0.4, 0.3]]
)  # fmt: skip


def make_ecg_emotion(
    *,
    n_subjects: int = 8,
    n_trials_per_class: int = 3,
    n_windows_per_trial: int = 4,
    window_seconds: float = 10.0,
    sfreq: float = 256.0,
    effect_size: float = 1.0,
    random_state=None,
    return_mne: bool = False,
):
    """Generate a synthetic single-lead ECG corpus with arousal labels.

    See the module docstring for the generative model. Windows are non-overlapping 10 s windows
    at 256 Hz (the SSL-ECG input) in trial order.

    Parameters
    ----------
    n_subjects : int, default=8
    n_trials_per_class : int, default=3
        Trials per arousal class (low, high) and subject.
    n_windows_per_trial : int, default=4
    window_seconds : float, default=10.0
    sfreq : float, default=256.0
    effect_size : float, default=1.0
        Difficulty knob scaling the arousal effects on heart rate and HRV (0: no information).
    random_state : int, RandomState instance or None, default=None
    return_mne : bool, default=False
        Return ``mne.EpochsArray`` (:func:`~skemotion.datasets.to_mne` of the Bunch: signals
        in volts, channel types, 10-05 electrode positions, labels as events, ids and ``frame``
        as metadata) instead of the Bunch. Needs MNE-Python (``pip install "skemotion[mne]"``).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``X`` float32 (n_windows, 1, n_times) in millivolts, ``y`` (0 low, 1 high arousal),
        ``groups``, ``trials``, ``sfreq``, ``ch_names`` (["ECG"]), ``target_names``, ``frame``
        (subject, session, trial, start, label, heart_rate, r_peaks).
        With ``return_mne=True``: the ``mne.EpochsArray`` of
        :func:`~skemotion.datasets.to_mne` instead.

    Examples
    --------
    >>> from skemotion.datasets import make_ecg_emotion
    >>> data = make_ecg_emotion(n_subjects=2, random_state=0)
    >>> data.X.shape
    (48, 1, 2560)
    """
    func = "make_ecg_emotion"
    as_mne = mne_output(return_mne, func)
    n_subjects, n_trials_per_class, n_windows_per_trial = _check_sizes(
        func, n_subjects, n_trials_per_class, n_windows_per_trial
    )
    check_positive_finite(effect_size, "effect_size", func, allow_zero=True)
    check_positive_finite(window_seconds, "window_seconds", func)
    if check_sfreq(func, sfreq) < 64:
        raise ValueError(f"{func}: argument sfreq must be >= 64 Hz; got {sfreq!r}.")
    rng = check_random_state(random_state)
    n_times = _n_times(window_seconds, sfreq, func)
    n = n_times * n_windows_per_trial
    t = np.arange(n) / sfreq
    dur = n / sfreq
    X_all, rows, r_peaks_all = [], [], []
    trial_id = 0
    for s in range(n_subjects):
        hr0 = rng.normal(70, 8)
        waves = _WAVES.copy()
        waves[:, 2] *= rng.lognormal(0, 0.15, 5)
        waves[4, 2] *= rng.uniform(0.6, 1.4)
        hf_freq = rng.uniform(0.2, 0.35)
        hf0 = rng.uniform(0.03, 0.06)  # s, RR modulation amplitude at rest
        lf0 = rng.uniform(0.02, 0.04)
        labels = np.repeat([0, 1], n_trials_per_class)
        labels = labels[rng.permutation(labels.size)]
        for label in labels:
            hr = hr0 + rng.normal(0, 2.5) + 8.0 * effect_size * label
            rr_mean = 60.0 / hr
            damp = np.exp(-0.7 * effect_size * label)  # vagal withdrawal under high arousal
            # RR intervals, beat by beat (enough beats to cover the trial)
            n_beats = int(dur / (0.6 * rr_mean)) + 4
            k = np.arange(n_beats)
            approx_t = k * rr_mean
            rr = (
                rr_mean
                + hf0 * damp * np.sin(2 * np.pi * hf_freq * approx_t + rng.uniform(0, 6.3))
                + lf0 * np.sin(2 * np.pi * 0.1 * approx_t + rng.uniform(0, 6.3))
                + rng.normal(0, 0.012 * (0.5 + 0.5 * damp), n_beats)
            )
            rr = np.clip(rr, 0.3, 2.0)
            beats = np.concatenate([[-rng.uniform(0, rr[0])], rr]).cumsum()  # R-peak times
            # phase in (-pi, pi] with the R wave at 0: interpolate between R peaks
            idx = np.searchsorted(beats, t, side="right") - 1
            idx = np.clip(idx, 0, beats.size - 2)
            frac = (t - beats[idx]) / (beats[idx + 1] - beats[idx])
            phase = 2 * np.pi * frac
            phase = np.where(phase > np.pi, phase - 2 * np.pi, phase)
            rr_here = beats[idx + 1] - beats[idx]
            # QT ~ sqrt(RR) (Bazett): in beat-phase units the P and T waves sit at angles
            # scaled by 1 / sqrt(RR), i.e. QT shortens less than RR at high heart rate
            qt_scale = 1.0 / np.sqrt(rr_here)
            ecg = np.zeros(n)
            for ang, width, amp in waves:
                sc = qt_scale if abs(ang) > 0.5 else 1.0
                ecg += amp * np.exp(-0.5 * ((phase - ang * sc) / (width * sc)) ** 2)
            wander = 0.15 * np.sin(2 * np.pi * rng.uniform(0.15, 0.3) * t + rng.uniform(0, 6.3))
            wander += 0.1 * _bandlimited_noise(rng, (n,), sfreq, 0.01, 0.5)
            noise = 0.02 * rng.standard_normal(n)
            noise += 0.02 * _bandlimited_noise(rng, (n,), sfreq, 20.0, min(100.0, 0.45 * sfreq))
            noise += 0.01 * np.sin(2 * np.pi * 50.0 * t + rng.uniform(0, 6.3))
            sig = ecg + wander + noise
            X_all.append(sig.reshape(n_windows_per_trial, 1, n_times))
            peaks_in = beats[(beats >= 0) & (beats < dur)]
            for w in range(n_windows_per_trial):
                lo, hi = w * window_seconds, (w + 1) * window_seconds
                p = peaks_in[(peaks_in >= lo) & (peaks_in < hi)] - lo
                r_peaks_all.append(np.round(p * sfreq).astype(int))
                rows.append(
                    {
                        "subject": s,
                        "session": 1,
                        "trial": trial_id,
                        "start": lo,
                        "label": int(label),
                        "heart_rate": float(hr),
                    }
                )
            trial_id += 1
    frame = pd.DataFrame(rows)
    frame["r_peaks"] = r_peaks_all
    data = _corpus_bunch(
        X_all,
        frame,
        sfreq=sfreq,
        ch_names=["ECG"],
        target_names=["low_arousal", "high_arousal"],
        description="Synthetic single-lead ECG emotion corpus (arousal). See "
        "skemotion.datasets._synthetic for the generative model.",
    )
    return as_mne(data)
