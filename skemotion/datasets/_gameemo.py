"""GAMEEMO loader (``(S01)/Preprocessed EEG Data/.csv format/S01G1AllChannels.csv`` ...)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ._base import make_dataset_bunch
from ._loading import (
    DatasetFormatError,
    TrialSource,
    assemble_windows,
    check_choice,
    check_ids,
    check_path,
    check_verbose,
)
from ._montages import GAMEEMO14

LOADER = "load_gameemo"
SFREQ = 128.0
N_SUBJECTS = 28
GAMES = {1: "boring", 2: "calm", 3: "horror", 4: "funny"}
TARGETS = {
    "game": ({1: 0, 2: 1, 3: 2, 4: 3}, ["boring", "calm", "horror", "funny"]),
    "binary": ({1: 0, 2: 0, 3: 1, 4: 1}, ["boring_calm", "horror_funny"]),
}
_FILE_RE = re.compile(r"^S(\d{2})G([1-4])AllChannels\.csv$", re.IGNORECASE)


def list_gameemo_files(path) -> dict[tuple[int, int], Path]:
    """``{(subject, game): csv}`` of the preprocessed CSV files anywhere under ``path``."""
    root = check_path(path, LOADER)
    found: dict[tuple[int, int], Path] = {}
    for f in sorted(root.rglob("*.csv")):
        m = _FILE_RE.match(f.name)
        if not m:
            continue
        key = (int(m.group(1)), int(m.group(2)))
        if key in found:
            raise DatasetFormatError(
                f"{LOADER}: two files for subject {key[0]} game {key[1]}: {str(found[key])!r} "
                f"and {str(f)!r}; keep one."
            )
        found[key] = f
    return found


def read_gameemo_csv(file: Path) -> np.ndarray:
    """Read one CSV into a (14, n_samples) float32 array in the GAMEEMO column order."""
    try:
        df = pd.read_csv(file)
    except Exception as exc:
        raise DatasetFormatError(
            f"{LOADER}: could not read {str(file)!r} ({type(exc).__name__}: {exc}); expected "
            f"a CSV with header {','.join(GAMEEMO14)} (and a trailing comma)."
        ) from exc
    # the trailing comma of every line gives an empty, unnamed last column
    empty = [c for c in df.columns if str(c).startswith("Unnamed") and df[c].isna().all()]
    df = df.drop(columns=empty)
    names = [str(c).strip() for c in df.columns]
    if [n.upper() for n in names] != GAMEEMO14:
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} has columns {names}; expected {GAMEEMO14}."
        )
    try:
        values = df.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} holds non-numeric values ({exc}); expected numbers."
        ) from exc
    if len(values) == 0 or np.isnan(values).any():
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} has {len(values)} rows with missing values (a truncated "
            "file?); expected complete rows of 14 numbers (38252 rows, 128 Hz, in the original)."
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
        Games 1-4 (G1 boring, G2 calm, G3 horror, G4 funny); None loads all four.
    target : {"game", "binary"}, default="game"
        ``"game"``: 4 classes (y = game - 1: boring, calm, horror, funny); ``"binary"``:
        G1/G2 -> 0 (``"boring_calm"``), G3/G4 -> 1 (``"horror_funny"``).
    window_seconds : float, default=1.0
        Window length in seconds.
    overlap : float, default=0.0
        Fraction of a window shared by consecutive windows, in [0, 1).
    verbose : bool, default=True
        Show a progress bar over files.

    Returns
    -------
    bunch : sklearn.utils.Bunch
        ``X`` (n_windows, 14, n_times) float32 with channels in the CSV order (AF3 AF4 F3 F4 F7
        F8 FC5 FC6 O1 O2 P7 P8 T7 T8, not the Emotiv order of DREAMER/AMIGOS), ``y``,
        ``groups`` subject, ``trials`` (one per subject and game), ``sfreq`` 128.0,
        ``ch_names``, ``target_names``, ``frame`` with subject, session (1), trial (= game),
        start (s), game, game_name.

    Notes
    -----
    Each game is a single 5-minute recording per subject and the class is the game: windows
    of one game share the label, so any split that puts windows of the same recording on both
    sides measures recording identity, not emotion. Use subject-wise splits.
    """
    root = check_path(path, LOADER)
    subject_ids = check_ids(subjects, "subjects", range(1, N_SUBJECTS + 1), LOADER)
    game_ids = check_ids(games, "games", (1, 2, 3, 4), LOADER) or [1, 2, 3, 4]
    check_choice(target, "target", list(TARGETS), LOADER)
    verbose = check_verbose(verbose, LOADER)
    codes, names = TARGETS[target]

    found = list_gameemo_files(root)
    if subject_ids is None:
        subject_ids = sorted({s for s, g in found if g in game_ids})
        if not subject_ids:
            raise FileNotFoundError(
                f"{LOADER}: no SxxGyAllChannels.csv under {str(root)!r}; expected the GAMEEMO "
                "folder ((S01)/Preprocessed EEG Data/.csv format/S01G1AllChannels.csv ...)."
            )
    for s in subject_ids:
        for g in game_ids:
            if (s, g) not in found:
                raise FileNotFoundError(
                    f"{LOADER}: subject {s} game {g} requested but S{s:02d}G{g}AllChannels.csv "
                    f"is not under {str(root)!r}."
                )
    keys = [(s, g) for s in subject_ids for g in game_ids]
    sources = []
    for s, g in tqdm(keys, desc=LOADER, unit="file", disable=not verbose, leave=False):
        x = read_gameemo_csv(found[(s, g)])
        sources.append(
            TrialSource(
                subject=s,
                session=1,
                trial=g,
                n_samples=x.shape[1],
                load=lambda x=x: x,
                target=codes[g],
                labels={"game": g, "game_name": GAMES[g]},
            )
        )
        del x
    out = assemble_windows(
        sources,
        loader=LOADER,
        n_channels=14,
        sfreq=SFREQ,
        window_seconds=window_seconds,
        overlap=overlap,
        verbose=False,
    )
    return make_dataset_bunch(
        **out,
        sfreq=SFREQ,
        ch_names=list(GAMEEMO14),
        target_names=list(names),
        description=(
            f"GAMEEMO preprocessed EEG (128 Hz), subjects {subject_ids}, games {game_ids}, "
            f"target={target!r}, {window_seconds} s windows, overlap {overlap}."
        ),
    )
