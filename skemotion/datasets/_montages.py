"""Channel orders and 9x9 grids of the datasets (defined in :mod:`skemotion._montages`)."""

from .._montages import (
    DEAP32,
    EMOTIV14,
    GAMEEMO14,
    GRID_9X9,
    GRID_9X9_MERGED,
    MONTAGES,
    SEED62,
    get_montage,
)

__all__ = [
    "DEAP32",
    "EMOTIV14",
    "GAMEEMO14",
    "GRID_9X9",
    "GRID_9X9_MERGED",
    "MONTAGES",
    "SEED62",
    "get_montage",
]
