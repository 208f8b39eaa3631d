"""Datasets: the built-in synthetic corpus and loaders for the user's own copies of the
public emotion datasets."""

from ._synthetic import make_ecg_emotion, make_eeg_emotion
from ._montages import DEAP32, EMOTIV14, GAMEEMO14, GRID_9X9, SEED62, get_montage

__all__ = [
    "DEAP32",
    "EMOTIV14",
    "GAMEEMO14",
    "GRID_9X9",
    "SEED62",
    "get_montage",
    "make_ecg_emotion",
    "make_eeg_emotion",
]
