"""GAMEEMO loader (``(S01)/Preprocessed EEG Data/.csv format/S01G1AllChannels.csv`` ...)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .._montages import GAMEEMO14
from ._checks import check_choice, check_ids, check_path, check_verbose
from ._loading import (
    DatasetFormatError,
    TrialSource,
    Windowing,
    index_files,
    present_pairs,
    select_subjects,
    warn_missing,
)
from ._mne import mne_output
from ._targets import ClassCodes

LOADER = "load_gameemo"
SFREQ = 128.0
N_SUBJECTS = 28
GAMES = {1: "boring", 2: "calm", 3: "horror", 4: "funny"}
TARGETS = {
    "game": ClassCodes({1: 0, 2: 1, 3: 2, 4: 3}, ["boring", "calm", "horror", "funny"]),
    "binary": ClassCodes({1: 0, 2: 0, 3: 1, 4: 1}, ["boring_calm", "horror_funny"]),
}
_FILE_RE = re.compile(r"^S(\d{2})G([1-4])AllChannels\.csv$", re.IGNORECASE)


def list_gameemo_files(path) -> dict[tuple[int, int], Path]:
    """``{(subject, game): csv}`` of the preprocessed CSV files anywhere under ``path``."""
    return index_files(
        sorted(check_path(path, LOADER).rglob("*.csv")),
        _FILE_RE,
        lambda m: (int(m.group(1)), int(m.group(2))),
        lambda key, a, b: (
            f"{LOADER}: two files for subject {key[0]} game {key[1]}: "
            f"{str(a)!r} and {str(b)!r}; keep one."
        ),
    )


def read_gameemo_csv(file: Path) -> np.ndarray:
    """Read one CSV into a (14, n_samples) float32 array in the GAMEEMO column order.

    The file is checked line by line before its numbers are parsed: every row has the
    header's number of fields (with the trailing comma of the original files when the header
    has it), no row is blank, and every value is a finite number. A file cut inside a row (an
    interrupted copy loses the rest of the number, the trailing comma and the rows after it)
    or a ragged file raises :class:`DatasetFormatError` naming the file and the line.
    """
    expected = f"a CSV with header {','.join(GAMEEMO14)} (and a trailing comma)"
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetFormatError(
            f"{LOADER}: could not read {str(file)!r} ({type(exc).__name__}: {exc}); expected "
            f"{expected}."
        ) from exc
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last row
    header = [c.strip() for c in lines[0].split(",")] if lines else []
    trailing = len(header) > 1 and header[-1] == ""
    names = header[:-1] if trailing else header
    if [n.upper() for n in names] != GAMEEMO14:
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} has columns {names}; expected {GAMEEMO14}."
        )
    n_fields = len(header)
    rows = lines[1:]
    if not rows:
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} has a header but no data rows (a truncated file?); "
            "expected rows of 14 numbers at 128 Hz (38252 rows in the original)."
        )
    counts = np.fromiter((r.count(",") for r in rows), dtype=np.int64, count=len(rows)) + 1
    bad = np.flatnonzero(counts != n_fields)
    if trailing and not bad.size:
        bad = np.flatnonzero([not r.rstrip().endswith(",") for r in rows])
    if bad.size:
        k = int(bad[0])
        where = "its last line" if k == len(rows) - 1 else f"line {k + 2} of {len(rows) + 1}"
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} is truncated or ragged: {where} has {counts[k]} fields "
            f"({rows[k][:60]!r}), the header {n_fields}"
            f"{' (14 values and the trailing comma)' if trailing else ''}."
        )
    try:
        values = np.loadtxt(
            rows, delimiter=",", usecols=range(len(GAMEEMO14)), dtype=np.float64, ndmin=2
        )
    except ValueError as exc:
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} holds a value that is not a number ({exc}); expected "
            "rows of 14 numbers."
        ) from exc
    if not np.isfinite(values).all():
        k = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} line {k + 2} holds NaN or infinity; expected finite numbers."
        )
    return np.ascontiguousarray(values.T, dtype=np.float32)


def load_gameemo(
    path,
    *,
    subjects=None,
    games=None,
    target: str = "game",
    window_seconds: float = 1.0,
    overlap: float = 0.0,
    verbose: bool = True,
    return_mne: bool = False,
    cache_dir=None,
):
    """Load GAMEEMO (preprocessed CSV, 14 Emotiv channels, 128 Hz) as windows.

    Parameters
    ----------
    path : str or path-like
        The GAMEEMO folder (subject folders ``(S01)`` ... ``(S28)``); every
        ``SxxGyAllChannels.csv`` below it is found (``Preprocessed EEG Data/.csv format/``).
        Files are only read.
    subjects : int, list of int or None, default=None
        Subjects 1-28; None loads every subject present.
    games : int, list of int or None, default=None
        Games 1-4 (G1 boring, G2 calm, G3 horror, G4 funny); a requested game whose file is
        absent raises ``FileNotFoundError``. None loads every game present: a partial copy
        loads what is there, with a warning listing what is absent.
    target : {"game", "binary"}, default="game"
        ``"game"``: 4 classes (y = game - 1: boring, calm, horror, funny); ``"binary"``:
        G1/G2 -> 0 (``"boring_calm"``), G3/G4 -> 1 (``"horror_funny"``).
    window_seconds : float, default=1.0
        Window length in seconds.
    overlap : float, default=0.0
        Fraction of a window shared by consecutive windows, in [0, 1).
    verbose : bool, default=True
        Show a progress bar over files.
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
        ``X`` (n_windows, 14, n_times) float32 with channels in the CSV order (AF3 AF4 F3 F4 F7
        F8 FC5 FC6 O1 O2 P7 P8 T7 T8, not the Emotiv order of DREAMER/AMIGOS), ``y``,
        ``groups`` subject, ``trials`` (one per subject and game), ``sfreq`` 128.0,
        ``ch_names``, ``target_names``, ``frame`` with subject, session (1), trial (= game),
        start (s), game, game_name.
        With ``return_mne=True``: the ``mne.EpochsArray`` of
        :func:`~skemotion.datasets.to_mne` instead.

    Notes
    -----
    Each game is a single 5-minute recording per subject and the class is the game: windows
    of one game share the label, so any split that puts windows of the same recording on both
    sides measures recording identity, not emotion. Use subject-wise splits.

    Examples
    --------
    >>> data = load_gameemo("~/data/GAMEEMO", target="game")  # doctest: +SKIP
    >>> data.target_names  # doctest: +SKIP
    ['boring', 'calm', 'horror', 'funny']
    """
    as_mne = mne_output(return_mne, LOADER)
    root = check_path(path, LOADER)
    subject_ids = check_ids(subjects, "subjects", range(1, N_SUBJECTS + 1), LOADER)
    game_ids = check_ids(games, "games", (1, 2, 3, 4), LOADER)
    check_choice(target, "target", list(TARGETS), LOADER)
    verbose = check_verbose(verbose, LOADER)
    classes = TARGETS[target]

    found = list_gameemo_files(root)
    subject_ids = select_subjects(
        subject_ids,
        {s for s, _ in found},  # every subject of the copy
        f"{LOADER}: no SxxGyAllChannels.csv under {str(root)!r}; expected the GAMEEMO folder "
        "((S01)/Preprocessed EEG Data/.csv format/S01G1AllChannels.csv ...).",
    )
    keys, absent = present_pairs(
        subject_ids,
        game_ids or [1, 2, 3, 4],
        found,
        game_ids is not None,
        lambda s, g: f"S{s:02d}G{g}AllChannels.csv",
        lambda s, g: (
            f"{LOADER}: subject {s} game {g} requested but S{s:02d}G{g}AllChannels.csv "
            f"is not under {str(root)!r}."
        ),
    )
    warn_missing(LOADER, "game file(s)", absent)
    windowing = Windowing(LOADER, SFREQ, window_seconds, overlap, False).cached_in(
        cache_dir, [found[k] for k in keys], subjects=subject_ids, games=game_ids, target=target
    )
    hit = windowing.cached()
    if hit is not None:
        return as_mne(hit)
    sources = []
    for s, g in tqdm(keys, desc=LOADER, unit="file", disable=not verbose, leave=False):
        x = read_gameemo_csv(found[(s, g)])
        labels = {"game": g, "game_name": GAMES[g]}
        sources.append(TrialSource.held(x, s, 1, g, target=classes.codes[g], labels=labels))
        del x
    about = (
        f"GAMEEMO preprocessed EEG (128 Hz), subjects {subject_ids}, games "
        f"{game_ids or 'present'}, target={target!r}"
    )
    data = windowing.bunch(sources, ch_names=GAMEEMO14, target=classes, about=about)
    return as_mne(data)
