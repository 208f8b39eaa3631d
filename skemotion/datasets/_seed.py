"""SEED and SEED-IV loaders (MATLAB v5 files of ``{initials}_eeg{n}`` variables)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io

from .._montages import SEED62
from ._checks import check_choice, check_ids, check_path, check_verbose
from ._loading import (
    DatasetFormatError,
    TrialSource,
    Windowing,
    present_pairs,
    select_subjects,
    warn_missing,
)
from ._mne import mne_output
from ._targets import label_map_codes

SFREQ = 200.0
_FILE_RE = re.compile(r"^(\d+)_(\d{8})\.mat$")
_VAR_RE = re.compile(r"^(\w+)_eeg(\d+)$")

SEED_LABELS = (1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1)
SEED_TARGETS = {
    "emotion": {-1: "negative", 0: "neutral", 1: "positive"},
    "positive_negative": {-1: "negative", 1: "positive"},
}
SEED_IV_LABELS = {
    1: (1, 2, 3, 0, 2, 0, 0, 1, 0, 1, 2, 1, 1, 1, 2, 3, 2, 2, 3, 3, 0, 3, 0, 3),
    2: (2, 1, 3, 0, 0, 2, 0, 2, 3, 3, 2, 3, 2, 0, 1, 1, 2, 1, 0, 3, 0, 1, 3, 1),
    3: (1, 2, 2, 1, 3, 3, 3, 1, 1, 2, 1, 0, 2, 3, 3, 0, 2, 3, 0, 0, 2, 0, 1, 0),
}
# The dates in the names of the 45 files of SEED's Preprocessed_EEG, per subject, in session
# order (the dataset's file list, as published with it). A file is identified by its name: its
# session is the position of its date here, never its position among the files that happen to
# be present or readable.
SEED_SESSION_DATES = {
    1: ("20131027", "20131030", "20131107"),
    2: ("20140404", "20140413", "20140419"),
    3: ("20140603", "20140611", "20140629"),
    4: ("20140621", "20140702", "20140705"),
    5: ("20140411", "20140418", "20140506"),
    6: ("20130712", "20131016", "20131113"),
    7: ("20131027", "20131030", "20131106"),
    8: ("20140511", "20140514", "20140521"),
    9: ("20140620", "20140627", "20140704"),
    10: ("20131130", "20131204", "20131211"),
    11: ("20140618", "20140625", "20140630"),
    12: ("20131127", "20131201", "20131207"),
    13: ("20140527", "20140603", "20140610"),
    14: ("20140601", "20140615", "20140627"),
    15: ("20130709", "20131016", "20131105"),
}
SEED_IV_TARGETS = {
    "emotion": {0: "neutral", 1: "sad", 2: "fear", 3: "happy"},
    "binary": {0: "not_happy", 1: "not_happy", 2: "not_happy", 3: "happy"},
}


def _seed_dir(path: Path) -> Path:
    sub = path / "Preprocessed_EEG"
    return sub if sub.is_dir() else path


def _seed_iv_dir(path: Path) -> Path:
    sub = path / "eeg_raw_data"
    return sub if sub.is_dir() else path


def list_seed_files(path) -> dict[int, dict[int, Path]]:
    """``{subject: {session: file}}`` of the SEED files under ``path``, from their names.

    A file's session is the rank of its date among the subject's three documented dates
    (:data:`SEED_SESSION_DATES`); a copy whose dates differ from those is read by date order,
    which needs all three files of the subject. Every entry named ``{subject}_{yyyymmdd}.mat``
    counts, whether or not it can be read (a directory, a broken link or an unreadable file is
    reported when it is loaded, under its own name): a missing or broken file never shifts the
    session number of another.
    """
    folder = _seed_dir(check_path(path, "load_seed"))
    by_date: dict[int, dict[str, Path]] = {}
    for f in folder.iterdir():
        m = _FILE_RE.match(f.name)
        if m and 1 <= int(m.group(1)) <= 15:
            by_date.setdefault(int(m.group(1)), {})[m.group(2)] = f
    out = {}
    for subject, files in sorted(by_date.items()):
        dates = sorted(files)
        known = SEED_SESSION_DATES[subject]
        if set(dates) <= set(known):
            out[subject] = {known.index(d) + 1: files[d] for d in dates}
        elif len(dates) == 3:
            out[subject] = {k + 1: files[d] for k, d in enumerate(dates)}
        else:
            expected = [f"{subject}_{d}.mat" for d in known]
            raise DatasetFormatError(
                f"load_seed: cannot tell the sessions of subject {subject} from "
                f"{[files[d].name for d in dates]} in {str(folder)!r}: the documented files are "
                f"{expected}, and a copy with other dates needs all three files (their date order "
                "gives the sessions)."
            )
    return out


def list_seed_iv_files(path) -> dict[tuple[int, int], Path]:
    """``{(subject, session): file}`` for SEED-IV (``eeg_raw_data/{session}/...``)."""
    folder = _seed_iv_dir(check_path(path, "load_seed_iv"))
    found: dict[tuple[int, int], Path] = {}
    for sess in (1, 2, 3):
        sub = folder / str(sess)
        if not sub.is_dir():
            continue
        # names only, as for SEED: an unreadable entry is reported by name when it is loaded
        for f in sorted(sub.iterdir()):
            m = _FILE_RE.match(f.name)
            if m:
                key = (int(m.group(1)), sess)
                if key in found:
                    raise DatasetFormatError(
                        f"load_seed_iv: two files for subject {key[0]} in {str(sub)!r}: "
                        f"{found[key].name!r} and {f.name!r}; expected one per session folder."
                    )
                found[key] = f
    return found


def _trial_variables(file: Path, n_trials: int, loader: str) -> list[tuple[str, int]]:
    """Names and lengths of the ``{initials}_eeg1..n`` variables of one file (headers only)."""
    try:
        info = scipy.io.whosmat(file)
    except Exception as exc:
        raise DatasetFormatError(
            f"{loader}: could not read {str(file)!r} ({type(exc).__name__}: {exc}); expected a "
            f"MATLAB v5 file with {n_trials} variables '<initials>_eeg1' ... "
            f"'<initials>_eeg{n_trials}' of shape (62, n_samples)."
        ) from exc
    by_num = {}
    for name, shape, cls in info:
        m = _VAR_RE.match(name)
        if not m:
            continue
        if len(shape) != 2 or shape[0] != 62 or cls not in ("double", "single"):
            raise DatasetFormatError(
                f"{loader}: {str(file)!r} variable {name!r} is a {shape} {cls} array; "
                "expected a (62, n_samples) double array (channels first)."
            )
        by_num[int(m.group(2))] = (name, int(shape[1]))
    if sorted(by_num) != list(range(1, n_trials + 1)):
        names = [n for n, _, _ in info]
        raise DatasetFormatError(
            f"{loader}: {str(file)!r} holds variables {names}; expected {n_trials} trial "
            f"variables '<initials>_eeg1' ... '<initials>_eeg{n_trials}'."
        )
    return [by_num[k] for k in range(1, n_trials + 1)]


def _read_variable(file: Path, name: str, loader: str) -> np.ndarray:
    try:
        return scipy.io.loadmat(file, variable_names=[name])[name]
    except Exception as exc:
        raise DatasetFormatError(
            f"{loader}: could not read variable {name!r} of {str(file)!r} "
            f"({type(exc).__name__}: {exc}); the file looks truncated or corrupt."
        ) from exc


def _read_seed_labels(folder: Path) -> tuple[int, ...]:
    file = folder / "label.mat"
    if not file.is_file():
        raise FileNotFoundError(
            f"load_seed: {str(file)!r} does not exist; expected label.mat (variable 'label', "
            "(1, 15) of -1/0/1) next to the subject files in Preprocessed_EEG."
        )
    try:
        labels = scipy.io.loadmat(file).get("label")
    except Exception as exc:
        raise DatasetFormatError(
            f"load_seed: could not read {str(file)!r} ({type(exc).__name__}: {exc}); expected "
            "a MATLAB file with 'label' of shape (1, 15)."
        ) from exc
    if labels is None or np.asarray(labels).size != 15:
        raise DatasetFormatError(
            f"load_seed: {str(file)!r} must hold 'label' of shape (1, 15) (values -1, 0, 1); got "
            f"{None if labels is None else np.asarray(labels).shape}."
        )
    labels = tuple(int(v) for v in np.asarray(labels).ravel())
    if not set(labels) <= {-1, 0, 1}:
        raise DatasetFormatError(
            f"load_seed: {str(file)!r} 'label' holds {labels}; expected values in -1, 0, 1."
        )
    return labels


@dataclass(frozen=True)
class _Variant:
    """What differs between SEED and SEED-IV for :func:`_load`."""

    loader: str
    title: str  # the start of the description
    targets: dict  # target name -> label map
    raw_labels: tuple
    # (root, subject_ids, session_ids) -> (subject_ids, plan, absent), see _plan_seed
    plan: Callable


def _plan_seed(root: Path, subject_ids, session_ids):
    """SEED's selection: the subjects loaded, the plan of :func:`_load`
    (``(subject, session, file, raw_labels)``) and the absent session files (not selected)."""
    folder = _seed_dir(root)
    found = list_seed_files(root)
    subject_ids = select_subjects(
        subject_ids,
        found,
        f"load_seed: no '{{subject}}_{{yyyymmdd}}.mat' files in {str(folder)!r}; expected the "
        "SEED Preprocessed_EEG folder.",
    )
    labels = _read_seed_labels(folder)
    files = {(s, sess): f for s, by_session in found.items() for sess, f in by_session.items()}

    def expected(s, sess):
        return f"{s}_{SEED_SESSION_DATES[s][sess - 1]}.mat"

    keys, absent = present_pairs(
        subject_ids,
        session_ids or (1, 2, 3),
        files,
        session_ids is not None,
        lambda s, sess: f"subject {s} session {sess} ({expected(s, sess)})",
        lambda s, sess: (
            f"load_seed: subject {s} session {sess} requested but {str(folder)!r} has no "
            f"{expected(s, sess)!r} (files of subject {s}: "
            f"{sorted(f.name for f in found.get(s, {}).values())})."
        ),
    )
    return subject_ids, [(s, sess, files[(s, sess)], labels) for s, sess in keys], absent


def _plan_seed_iv(root: Path, subject_ids, session_ids):
    """SEED-IV's selection, as :func:`_plan_seed` (labels: the session's built-in order)."""
    folder = _seed_iv_dir(root)
    found = list_seed_iv_files(root)
    subject_ids = select_subjects(
        subject_ids,
        {s for s, _ in found},  # every subject of the copy
        f"load_seed_iv: no '{{subject}}_{{yyyymmdd}}.mat' files in the session folders 1, 2, 3 "
        f"of {str(folder)!r}; expected the SEED-IV eeg_raw_data folder.",
    )
    keys, absent = present_pairs(
        subject_ids,
        session_ids or [1, 2, 3],
        found,
        session_ids is not None,
        lambda s, sess: f"subject {s} session {sess}",
        lambda s, sess: (
            f"load_seed_iv: subject {s} session {sess} requested but no '{s}_<yyyymmdd>.mat' "
            f"exists in {str(folder / str(sess))!r}."
        ),
    )
    plan = [(s, sess, found[(s, sess)], SEED_IV_LABELS[sess]) for s, sess in keys]
    return subject_ids, plan, absent


_SEED = _Variant(
    "load_seed", "SEED preprocessed EEG (200 Hz)", SEED_TARGETS, (-1, 0, 1), _plan_seed
)
_SEED_IV = _Variant(
    "load_seed_iv", "SEED-IV raw EEG (200 Hz)", SEED_IV_TARGETS, (0, 1, 2, 3), _plan_seed_iv
)


def _load(variant, path, subjects, sessions, target, label_map, window_seconds, overlap, verbose,
          cache_dir):  # fmt: skip
    """:func:`load_seed` or :func:`load_seed_iv`, as ``variant`` says."""
    loader = variant.loader
    root = check_path(path, loader)
    subject_ids = check_ids(subjects, "subjects", range(1, 16), loader)
    session_ids = check_ids(sessions, "sessions", (1, 2, 3), loader)
    if label_map is None:
        check_choice(target, "target", list(variant.targets), loader)
        label_map = variant.targets[target]
    classes = label_map_codes(label_map, loader, variant.raw_labels)
    verbose = check_verbose(verbose, loader)

    subject_ids, plan, absent = variant.plan(root, subject_ids, session_ids)
    warn_missing(loader, "session file(s)", absent, stacklevel=4)
    files = [file for _, _, file, _ in plan]
    if variant is _SEED:
        files.append(_seed_dir(root) / "label.mat")
    windowing = Windowing(loader, SFREQ, window_seconds, overlap, verbose).cached_in(
        cache_dir, files, subjects=subject_ids, sessions=session_ids, classes=classes
    )
    hit = windowing.cached()
    if hit is not None:
        return hit
    sources = []
    for subject, session, file, labels in plan:
        n_trials = len(labels)
        variables = _trial_variables(file, n_trials, loader)
        for t, ((name, n_samples), raw) in enumerate(zip(variables, labels)):
            if raw not in classes.codes:
                continue

            def load(file=file, name=name):
                return _read_variable(file, name, loader)

            sources.append(
                TrialSource(
                    subject=subject,
                    session=session,
                    trial=t + 1,
                    n_samples=n_samples,
                    load=load,
                    target=classes.codes[raw],
                    labels={"date": _FILE_RE.match(file.name).group(2), "label": raw},
                )
            )
    about = (
        f"{variant.title}, subjects {subject_ids}, sessions {session_ids or 'present'}, "
        f"classes {classes.names}"
    )
    return windowing.bunch(sources, ch_names=SEED62, target=classes, about=about)


def load_seed(
    path,
    *,
    subjects=None,
    sessions=None,
    target: str = "emotion",
    label_map: dict | None = None,
    window_seconds: float = 1.0,
    overlap: float = 0.0,
    verbose: bool = True,
    return_mne: bool = False,
    cache_dir=None,
):
    """Load SEED (``Preprocessed_EEG``, 62 channels, 200 Hz) as windows.

    Parameters
    ----------
    path : str or path-like
        The ``Preprocessed_EEG`` folder (45 ``{subject}_{yyyymmdd}.mat`` files and
        ``label.mat``) or its parent. Files are only read.
    subjects : int, list of int or None, default=None
        Subjects 1-15; None loads every subject present.
    sessions : int, list of int or None, default=None
        Sessions 1-3. A file's session is given by the date in its name (the subject's three
        dates in ascending order, e.g. ``1_20131027.mat`` is subject 1's session 1), never by
        its position among the files present. A requested session whose file is absent raises
        ``FileNotFoundError`` naming the file. None loads every session present: a partial
        copy (some sessions of a subject only) loads what is there, with a warning listing
        what is absent.
    target : {"emotion", "positive_negative"}, default="emotion"
        ``"emotion"``: 3 classes, y 0 negative, 1 neutral, 2 positive (raw labels -1, 0, 1).
        ``"positive_negative"``: neutral trials dropped, y 0 negative, 1 positive.
    label_map : dict or None, default=None
        Overrides ``target``: ``{raw_label: class_name}``; raw labels absent from the mapping
        are dropped, several raw labels may share a class; codes follow first appearance.
    window_seconds : float, default=1.0
        Window length in seconds (200 samples per second).
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
        ``X`` (n_windows, 62, n_times) float32, ``y`` int codes, ``groups`` subject,
        ``trials`` (``subject * 10**6 + session * 1000 + trial``, the same whatever the
        selection), ``sfreq`` 200.0, ``ch_names`` (SEED order), ``target_names``, ``frame``
        with subject, session, date (``yyyymmdd`` of the file), trial (1-15), start (s), label
        (raw -1/0/1).
        With ``return_mne=True``: the ``mne.EpochsArray`` of
        :func:`~skemotion.datasets.to_mne` instead.

    Notes
    -----
    Each trial variable is read on its own, so peak memory is ``X`` plus one trial in
    float64. The same 15 film clips are shown in every session: for subject-dependent
    protocols split by session or by trial, never by window.

    Examples
    --------
    >>> data = load_seed("~/data/SEED", subjects=[1], window_seconds=1.0)  # doctest: +SKIP
    >>> data.target_names  # doctest: +SKIP
    ['negative', 'neutral', 'positive']
    """
    as_mne = mne_output(return_mne, "load_seed")
    return as_mne(
        _load(
            _SEED,
            path,
            subjects,
            sessions,
            target,
            label_map,
            window_seconds,
            overlap,
            verbose,
            cache_dir,
        )  # fmt: skip
    )


def load_seed_iv(
    path,
    *,
    subjects=None,
    sessions=None,
    target: str = "emotion",
    label_map: dict | None = None,
    window_seconds: float = 4.0,
    overlap: float = 0.0,
    verbose: bool = True,
    return_mne: bool = False,
    cache_dir=None,
):
    """Load SEED-IV (``eeg_raw_data/{1,2,3}/``, 62 channels, 200 Hz) as windows.

    Parameters
    ----------
    path : str or path-like
        The ``eeg_raw_data`` folder (session folders ``1``, ``2``, ``3`` of
        ``{subject}_{yyyymmdd}.mat`` files) or its parent. Files are only read.
    subjects : int, list of int or None, default=None
        Subjects 1-15; None loads every subject present.
    sessions : int, list of int or None, default=None
        Sessions 1-3 (the folder number). A requested session whose file is absent raises
        ``FileNotFoundError``. None loads every session present: a partial copy loads what is
        there, with a warning listing what is absent. Each session has its own stimuli and
        label order (built in, from the dataset's documentation).
    target : {"emotion", "binary"}, default="emotion"
        ``"emotion"``: 4 classes, y = raw label: 0 neutral, 1 sad, 2 fear, 3 happy.
        ``"binary"``: neutral, sad and fear -> 0 (``"not_happy"``), happy -> 1 (``"happy"``).
    label_map : dict or None, default=None
        Overrides ``target``: ``{raw_label: class_name}`` (raw labels 0-3); raw labels absent
        from the mapping are dropped; codes follow first appearance of each class name.
    window_seconds : float, default=4.0
        Window length in seconds (4 s as the dataset's own features).
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
        As :func:`load_seed`; ``trial`` is 1-24, ``label`` the raw 0-3 label and ``date`` the
        date in the file name.
        With ``return_mne=True``: the ``mne.EpochsArray`` of
        :func:`~skemotion.datasets.to_mne` instead.

    Examples
    --------
    >>> data = load_seed_iv("~/data/SEED_IV", sessions=[1], window_seconds=4.0)  # doctest: +SKIP
    >>> data.target_names  # doctest: +SKIP
    ['neutral', 'sad', 'fear', 'happy']
    """
    as_mne = mne_output(return_mne, "load_seed_iv")
    return as_mne(
        _load(
            _SEED_IV,
            path,
            subjects,
            sessions,
            target,
            label_map,
            window_seconds,
            overlap,
            verbose,
            cache_dir,
        )  # fmt: skip
    )
