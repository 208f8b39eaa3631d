"""DREAMER loader (``DREAMER.mat``, one MATLAB v5 struct holding all 23 subjects)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io

from .._montages import EMOTIV14
from ._checks import check_baseline, check_choice, check_ids, check_path, check_verbose
from ._loading import (
    DatasetFormatError,
    TrialSource,
    Windowing,
    cache_hit,
    remove_baseline,
    window_cache,
)
from ._mne import mne_output
from ._targets import RatingTarget

LOADER = "load_dreamer"
N_SUBJECTS = 23
SCALES = ("valence", "arousal", "dominance")
_SCORE_FIELDS = {
    "valence": "ScoreValence",
    "arousal": "ScoreArousal",
    "dominance": "ScoreDominance",
}
_EXPECTED = (
    "a MATLAB v5 file with struct 'DREAMER' holding 'Data' (1 x 23 cell of subject structs "
    "with 'EEG', 'ECG' structs of (18, 1) cells 'baseline'/'stimuli' and (18, 1) "
    "'ScoreValence', 'ScoreArousal', 'ScoreDominance'), 'EEG_SamplingRate', 'ECG_SamplingRate' "
    "and 'EEG_Electrodes'"
)


def _find_file(path: Path) -> Path:
    file = path / "DREAMER.mat" if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(
            f"{LOADER}: {str(file)!r} does not exist; expected the DREAMER.mat file or the "
            "folder holding it."
        )
    return file


def _field(struct, name: str, file: Path, where: str):
    names = struct.dtype.names or ()
    if name not in names:
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} {where} has fields {list(names)}, lacks {name!r}; "
            f"expected {_EXPECTED}."
        )
    return struct[name]


def _read(file: Path):
    try:
        m = scipy.io.loadmat(file, variable_names=["DREAMER"])
    except Exception as exc:
        raise DatasetFormatError(
            f"{LOADER}: could not read {str(file)!r} ({type(exc).__name__}: {exc}); "
            f"expected {_EXPECTED}."
        ) from exc
    if "DREAMER" not in m:
        raise DatasetFormatError(f"{LOADER}: {str(file)!r} has no variable 'DREAMER'; {_EXPECTED}.")
    top = m["DREAMER"]
    if top.dtype.names is None or top.size != 1:
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} 'DREAMER' is a {top.shape} {top.dtype} array; "
            f"expected a 1x1 struct ({_EXPECTED})."
        )
    top = top[0, 0]
    data = _field(top, "Data", file, "'DREAMER'")
    if data.dtype != object or data.ndim != 2 or data.shape[0] != 1:
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} 'DREAMER.Data' is a {data.shape} {data.dtype} array; "
            f"expected a 1 x n_subjects cell."
        )
    rates = {}
    for key in ("EEG_SamplingRate", "ECG_SamplingRate"):
        rates[key] = float(np.asarray(_field(top, key, file, "'DREAMER'")).ravel()[0])
    electrodes = [
        str(np.asarray(e).ravel()[0])
        for e in np.asarray(_field(top, "EEG_Electrodes", file, "'DREAMER'")).ravel()
    ]
    return data, rates, electrodes


def _cells(subject, modality: str, part: str, file: Path, s: int) -> np.ndarray:
    where = f"'DREAMER.Data{{{s}}}'"
    mod = _field(subject, modality, file, where)[0, 0]
    cells = _field(mod, part, file, f"{where}.{modality}")[0, 0]
    if cells.dtype != object or cells.ndim != 2 or cells.shape[1] != 1:
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} {where}.{modality}.{part} is a {cells.shape} {cells.dtype} "
            f"array; expected an (n_videos, 1) cell of time-major arrays."
        )
    return cells[:, 0]


def load_dreamer(
    path,
    *,
    subjects=None,
    modality: str = "eeg",
    target: str = "valence",
    threshold: float | None = 3,
    comparison: str = ">=",
    baseline: str | None = None,
    window_seconds: float = 1.0,
    overlap: float = 0.0,
    verbose: bool = True,
    return_mne: bool = False,
    cache_dir=None,
):
    """Load DREAMER (Emotiv EEG at 128 Hz, 2-lead ECG at 256 Hz, or both) as windows.

    Parameters
    ----------
    path : str or path-like
        ``DREAMER.mat`` or the folder holding it. The file is only read.
    subjects : int, list of int or None, default=None
        Subjects 1-23 (position in ``DREAMER.Data``); None loads all.
    modality : {"eeg", "ecg", "all"}, default="eeg"
        ``"eeg"``: 14 channels in the file's ``EEG_Electrodes`` order (Emotiv: AF3 F7 F3 FC5 T7
        P7 O1 O2 P8 T8 FC6 F4 F8 AF4) at ``EEG_SamplingRate`` (128 Hz); ``"ecg"``: the 2 ECG
        leads (``ECG1``, ``ECG2``) at ``ECG_SamplingRate`` (256 Hz), e.g. for SSL-ECG;
        ``"all"``: the 14 EEG channels then the 2 ECG leads in one window at the EEG rate (the
        ECG resampled by a polyphase filter, :func:`scipy.signal.resample_poly`; both
        recordings start at the clip's onset, and a trial is cut to the shorter of the two),
        ``ch_types`` ``["eeg"] * 14 + ["ecg"] * 2``, for EEG + ECG fusion (pick a modality
        with :class:`~skemotion.features.PickChannels`).
    target : {"valence", "arousal", "dominance", "quadrant"}, default="valence"
        Self-assessed score (1-5) to predict; each is read from its own field
        (``ScoreValence``, ``ScoreArousal``, ``ScoreDominance``). ``"quadrant"``: 0 LVLA,
        1 LVHA, 2 HVLA, 3 HVHA.
    threshold : float or None, default=3
        Scores at or above it (see ``comparison``) are high; None returns the raw score.
    comparison : {">=", ">"}, default=">="
        The usual DREAMER binarisation is ``score >= 3``.
    baseline : {None, "segment", "mean"}, default=None
        Use of the neutral-clip baseline recorded before each video (61 s): ``"segment"``
        subtracts the mean 1 s baseline segment from every 1 s segment of the stimulus;
        ``"mean"`` subtracts its per-channel mean; None leaves the stimulus as recorded.
    window_seconds : float, default=1.0
        Window length in seconds.
    overlap : float, default=0.0
        Fraction of a window shared by consecutive windows, in [0, 1).
    verbose : bool, default=True
        Show a progress bar over trials.
    return_mne : bool, default=False
        Return ``mne.EpochsArray`` (:func:`~skemotion.datasets.to_mne` of the Bunch: signals
        in volts, channel types, 10-05 electrode positions, labels as events, ids and ``frame``
        as metadata) instead of the Bunch. Needs MNE-Python (``pip install "skemotion[mne]"``).
    cache_dir : str, path-like or None, default=None
        Folder of an on-disk window cache. The first call writes the windows there once and
        every call returns ``X`` as a read-only ``numpy.memmap`` of that file, so the windows
        need not fit in memory; a later call with the same files and options reuses the entry
        without reading the dataset (see :ref:`scaling`).

    Returns
    -------
    bunch : sklearn.utils.Bunch
        ``X`` (n_windows, n_channels, n_times) float32, ``y``, ``groups`` subject, ``trials``,
        ``sfreq``, ``ch_names``, ``target_names``, ``frame`` with subject, session (1), trial
        (1-18), start (s), valence, arousal, dominance, age, gender.
        With ``return_mne=True``: the ``mne.EpochsArray`` of
        :func:`~skemotion.datasets.to_mne` instead.

    Notes
    -----
    ``DREAMER.mat`` holds every subject in one struct, so it is read whole even when
    ``subjects`` selects a few: peak memory is the file's content plus ``X``.

    Examples
    --------
    >>> data = load_dreamer("~/data/DREAMER.mat", target="arousal")  # doctest: +SKIP
    >>> data.target_names  # doctest: +SKIP
    ['low_arousal', 'high_arousal']
    """
    as_mne = mne_output(return_mne, LOADER)
    root = check_path(path, LOADER)
    subject_ids = check_ids(subjects, "subjects", range(1, N_SUBJECTS + 1), LOADER)
    check_choice(modality, "modality", ("eeg", "ecg", "all"), LOADER)
    rating = RatingTarget.check(target, threshold, comparison, SCALES, LOADER)
    check_baseline(baseline, LOADER)
    verbose = check_verbose(verbose, LOADER)
    file = _find_file(root)
    options = {
        "subjects": subject_ids,
        "modality": modality,
        "target": rating,
        "baseline": baseline,
        "window_seconds": window_seconds,
        "overlap": overlap,
    }
    cache = window_cache(cache_dir, LOADER, [file], options)
    hit = cache_hit(cache)
    if hit is not None:
        return as_mne(hit)
    data, rates, electrodes = _read(file)

    n_present = data.shape[1]
    if subject_ids is None:
        subject_ids = list(range(1, n_present + 1))
    too_far = [s for s in subject_ids if s > n_present]
    if too_far:
        raise DatasetFormatError(
            f"{LOADER}: subjects {too_far} requested but {str(file)!r} holds {n_present}."
        )
    eeg_names = electrodes if len(electrodes) == 14 else list(EMOTIV14)
    if modality == "all":
        return as_mne(
            _load_both(
                file,
                data,
                rates,
                eeg_names,
                subject_ids,
                rating,
                baseline,
                window_seconds,
                overlap,
                verbose,
                cache,
            )  # fmt: skip
        )
    if modality == "eeg":
        sfreq, n_ch, ch_names, mod = rates["EEG_SamplingRate"], 14, eeg_names, "EEG"
    else:
        sfreq, n_ch, ch_names, mod = rates["ECG_SamplingRate"], 2, ["ECG1", "ECG2"], "ECG"
    sources = _sources(file, data, subject_ids, mod, n_ch, sfreq, rating, baseline)
    about = f"DREAMER {mod} ({sfreq:g} Hz), subjects {subject_ids}, {rating}, baseline={baseline!r}"
    windowing = Windowing(LOADER, sfreq, window_seconds, overlap, verbose, cache)
    return as_mne(windowing.bunch(sources, ch_names=ch_names, target=rating, about=about))


def _load_both(file, data, rates, eeg_names, subject_ids, rating, baseline, window_seconds,
               overlap, verbose, cache):  # fmt: skip
    """The ``"all"`` modality: EEG and the ECG resampled to the EEG rate, trial by trial."""
    from scipy.signal import resample_poly

    from ..features._filtering import resample_fraction

    fs_eeg, fs_ecg = rates["EEG_SamplingRate"], rates["ECG_SamplingRate"]
    ratio = resample_fraction(fs_ecg, fs_eeg, LOADER, "EEG_SamplingRate")
    eeg = _sources(file, data, subject_ids, "EEG", 14, fs_eeg, rating, baseline)
    ecg = _sources(file, data, subject_ids, "ECG", 2, fs_ecg, rating, baseline)
    sources = []
    for a, b in zip(eeg, ecg):
        n_ecg = -(-b.n_samples * ratio.numerator // ratio.denominator)  # resampled length
        n = min(a.n_samples, n_ecg)

        def load(a=a, b=b, n=n):
            ecg_part = resample_poly(b.load(), ratio.numerator, ratio.denominator, axis=-1)
            return np.concatenate([a.load()[:, :n], ecg_part[:, :n].astype(np.float32)])

        sources.append(
            TrialSource(
                subject=a.subject,
                session=a.session,
                trial=a.trial,
                n_samples=n,
                load=load,
                target=a.target,
                labels=a.labels,
            )  # fmt: skip
        )
    about = (
        f"DREAMER EEG ({fs_eeg:g} Hz) + ECG ({fs_ecg:g} Hz resampled to {fs_eeg:g} Hz), "
        f"subjects {subject_ids}, {rating}, baseline={baseline!r}"
    )
    windowing = Windowing(LOADER, fs_eeg, window_seconds, overlap, verbose, cache)
    return windowing.bunch(
        sources, ch_names=[*eeg_names, "ECG1", "ECG2"], target=rating, about=about
    )


def _sources(file, data, subject_ids, mod, n_ch, sfreq, rating, baseline) -> list:
    """One :class:`TrialSource` per (subject, video) of modality ``mod`` ("EEG" or "ECG")."""
    seg = int(round(sfreq))

    sources = []
    for s in subject_ids:
        subject = data[0, s - 1]
        if subject.dtype.names is None:
            raise DatasetFormatError(
                f"{LOADER}: {str(file)!r} 'DREAMER.Data{{{s}}}' is not a struct; {_EXPECTED}."
            )
        stimuli = _cells(subject, mod, "stimuli", file, s)
        base = _cells(subject, mod, "baseline", file, s) if baseline else None
        scores = {}
        for scale in SCALES:
            v = np.asarray(_field(subject, _SCORE_FIELDS[scale], file, f"Data{{{s}}}")[0, 0])
            scores[scale] = v.ravel().astype(float)
            if scores[scale].size != stimuli.size:
                raise DatasetFormatError(
                    f"{LOADER}: {str(file)!r} Data{{{s}}}.{_SCORE_FIELDS[scale]} has "
                    f"{scores[scale].size} values for {stimuli.size} videos."
                )
        meta = {}
        for key in ("Age", "Gender"):
            if key in subject.dtype.names:
                v = np.asarray(subject[key][0, 0]).ravel()
                meta[key.lower()] = str(v[0]) if v.size else ""
        for t, stim in enumerate(stimuli):
            if stim.ndim != 2 or stim.shape[1] != n_ch:
                raise DatasetFormatError(
                    f"{LOADER}: {str(file)!r} Data{{{s}}}.{mod}.stimuli{{{t + 1}}} has shape "
                    f"{stim.shape}; expected (n_samples, {n_ch}) (time-major)."
                )
            labels = {k: float(scores[k][t]) for k in SCALES}

            def load(stim=stim, t=t, base=base, where=f"{str(file)!r} Data{{{s}}}.{mod}"):
                if baseline is None:
                    return stim.T
                b = np.asarray(base[t])
                if b.ndim != 2 or b.shape[1] != n_ch:
                    raise DatasetFormatError(
                        f"{LOADER}: {where}.baseline{{{t + 1}}} has shape {b.shape}; expected "
                        f"(n_samples, {n_ch}) (time-major)."
                    )
                return remove_baseline(
                    stim.T, b.T, baseline, seg, f"{LOADER}: {where} video {t + 1}"
                )

            sources.append(
                TrialSource(
                    subject=s,
                    session=1,
                    trial=t + 1,
                    n_samples=stim.shape[0],
                    load=load,
                    target=rating.encode(labels),
                    labels={**labels, **meta},
                )
            )
    return sources
