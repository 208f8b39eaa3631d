"""Datasets: the built-in synthetic corpus and loaders for the user's own copies of the
public emotion datasets."""

from .._montages import DEAP32, EMOTIV14, GAMEEMO14, GRID_9X9, SEED62, get_montage
from ._amigos import load_amigos
from ._cache import disk_backed
from ._deap import load_deap
from ._dreamer import load_dreamer
from ._gameemo import load_gameemo
from ._harmonize import harmonize
from ._loaders import LOADERS, DatasetFormatError, list_subjects
from ._mne import from_mne, to_mne
from ._multimodal import make_multimodal_emotion
from ._seed import load_seed, load_seed_iv
from ._synthetic import make_ecg_emotion, make_eeg_emotion
from ._wesad import load_wesad
from ._windowing import sliding_windows

__all__ = [
    "DEAP32",
    "EMOTIV14",
    "GAMEEMO14",
    "GRID_9X9",
    "LOADERS",
    "DatasetFormatError",
    "SEED62",
    "disk_backed",
    "from_mne",
    "get_montage",
    "harmonize",
    "list_subjects",
    "load_amigos",
    "load_deap",
    "load_dreamer",
    "load_gameemo",
    "load_seed",
    "load_seed_iv",
    "load_wesad",
    "make_ecg_emotion",
    "make_eeg_emotion",
    "make_multimodal_emotion",
    "sliding_windows",
    "to_mne",
]
