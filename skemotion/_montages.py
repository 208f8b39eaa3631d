"""Channel orders and 9x9 electrode grids of the emotion datasets (constants only).

A low-level module: it imports nothing, so that both :mod:`skemotion.features` (electrode maps)
and :mod:`skemotion.datasets` (loaders, synthetic data) use it without importing each other.

Channel orders are the real ones of each dataset (see ``shared/specs/DATASETS.md``):

- ``seed62``: SEED / SEED-IV (62 channels, ESI NeuroScan, 200 Hz after preprocessing),
- ``deap32``: DEAP EEG channels 1-32 (Geneva order, 128 Hz),
- ``emotiv14``: Emotiv EPOC order used by DREAMER and AMIGOS (128 Hz),
- ``gameemo14``: the CSV column order of GAMEEMO (same electrodes as Emotiv, other order).

The 9x9 grids are the ones used by the emotion literature to place per-channel features on an
image (``ElectrodeGrid``); names are upper case there, positions are ``(row, col)``.
"""

from __future__ import annotations

SEED62 = (
    "FP1 FPZ FP2 AF3 AF4 F7 F5 F3 F1 FZ F2 F4 F6 F8 FT7 FC5 FC3 FC1 FCZ FC2 FC4 FC6 FT8 "
    "T7 C5 C3 C1 CZ C2 C4 C6 T8 TP7 CP5 CP3 CP1 CPZ CP2 CP4 CP6 TP8 P7 P5 P3 P1 PZ P2 P4 P6 P8 "
    "PO7 PO5 PO3 POZ PO4 PO6 PO8 CB1 O1 OZ O2 CB2"
).split()

DEAP32 = (
    "Fp1 AF3 F3 F7 FC5 FC1 C3 T7 CP5 CP1 P3 P7 PO3 O1 Oz Pz "
    "Fp2 AF4 Fz F4 F8 FC6 FC2 Cz C4 T8 CP6 CP2 P4 P8 PO4 O2"
).split()

EMOTIV14 = "AF3 F7 F3 FC5 T7 P7 O1 O2 P8 T8 FC6 F4 F8 AF4".split()

GAMEEMO14 = "AF3 AF4 F3 F4 F7 F8 FC5 FC6 O1 O2 P7 P8 T7 T8".split()

MONTAGES = {
    "seed62": {"ch_names": SEED62, "sfreq": 200.0},
    "deap32": {"ch_names": DEAP32, "sfreq": 128.0},
    "emotiv14": {"ch_names": EMOTIV14, "sfreq": 128.0},
}

_GRID_DEAP = """
-   -   -   FP1 -   FP2 -   -   -
-   -   -   AF3 -   AF4 -   -   -
F7  -   F3  -   FZ  -   F4  -   F8
-   FC5 -   FC1 -   FC2 -   FC6 -
T7  -   C3  -   CZ  -   C4  -   T8
-   CP5 -   CP1 -   CP2 -   CP6 -
P7  -   P3  -   PZ  -   P4  -   P8
-   -   -   PO3 -   PO4 -   -   -
-   -   -   O1  OZ  O2  -   -   -
"""

_GRID_SEED = """
-   -   -   FP1 FPZ FP2 -   -   -
-   -   -   AF3 -   AF4 -   -   -
F7  F5  F3  F1  FZ  F2  F4  F6  F8
FT7 FC5 FC3 FC1 FCZ FC2 FC4 FC6 FT8
T7  C5  C3  C1  CZ  C2  C4  C6  T8
TP7 CP5 CP3 CP1 CPZ CP2 CP4 CP6 TP8
P7  P5  P3  P1  PZ  P2  P4  P6  P8
-   PO7 PO5 PO3 POZ PO4 PO6 PO8 -
-   -   CB1 O1  OZ  O2  CB2 -   -
"""


def _parse_grid(text: str) -> dict[str, tuple[int, int]]:
    pos = {}
    for r, line in enumerate(text.strip().splitlines()):
        for c, name in enumerate(line.split()):
            if name != "-":
                pos[name] = (r, c)
    return pos


GRID_9X9 = {
    "deap32": _parse_grid(_GRID_DEAP),
    "seed62": _parse_grid(_GRID_SEED),
    "emotiv14": {
        "AF3": (1, 3), "AF4": (1, 5), "F7": (2, 0), "F3": (2, 2), "F4": (2, 6), "F8": (2, 8),
        "FC5": (3, 1), "FC6": (3, 7), "T7": (4, 0), "T8": (4, 8), "P7": (6, 0), "P8": (6, 8),
        "O1": (8, 3), "O2": (8, 5),
    },
}  # fmt: skip


def _merge_grids(grids: dict) -> dict[str, tuple[int, int]]:
    """One table of the 9x9 cells of every montage (the grids agree on shared electrodes)."""
    merged: dict[str, tuple[int, int]] = {}
    for table in grids.values():
        for name, rc in table.items():
            if merged.setdefault(name, tuple(rc)) != tuple(rc):
                raise RuntimeError(f"the 9x9 grids disagree on {name}")  # data check
    return merged


GRID_9X9_MERGED = _merge_grids(GRID_9X9)


def check_unique_channels(ch_names, where: str, arg: str = "ch_names") -> None:
    """Raise a ``ValueError`` when a channel name appears twice, ignoring case.

    The one check of the package (electrode maps, SST-EmotionNet, ESC-GAN, ``harmonize``):
    two channels of one name would be averaged into one map cell, or one would silently
    disappear.
    """
    keys = [str(c).upper() for c in ch_names]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError(
            f"{where}: argument {arg} names the channels {dup} more than once (names are "
            "matched ignoring case)."
        )


def get_montage(name: str) -> dict:
    """Return ``{"ch_names": [...], "sfreq": float}`` of a built-in montage.

    Parameters
    ----------
    name : {"seed62", "deap32", "emotiv14"}
        Montage name.

    Returns
    -------
    dict
        A fresh copy: ``ch_names`` (list of str) and ``sfreq`` (Hz).

    Examples
    --------
    >>> from skemotion.datasets import get_montage
    >>> m = get_montage("emotiv14")
    >>> m["ch_names"][:3], m["sfreq"]
    (['AF3', 'F7', 'F3'], 128.0)
    """
    if name not in MONTAGES:
        raise ValueError(
            f"get_montage: argument name must be one of {sorted(MONTAGES)}; got {name!r}."
        )
    m = MONTAGES[name]
    return {"ch_names": list(m["ch_names"]), "sfreq": m["sfreq"]}
