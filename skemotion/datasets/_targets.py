"""Label encodings of the dataset loaders: ratings made binary (or four quadrants, or kept raw)
and dataset labels mapped to class codes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ._checks import check_choice, check_threshold

__all__ = ["QUADRANT_NAMES", "ClassCodes", "RatingTarget", "label_map_codes"]

QUADRANT_NAMES = ["LVLA", "LVHA", "HVLA", "HVHA"]


def is_high(score: float, threshold: float, comparison: str) -> int:
    return int(score >= threshold) if comparison == ">=" else int(score > threshold)


@dataclass(frozen=True)
class RatingTarget:
    """What a rating-based loader (DEAP, AMIGOS, DREAMER) predicts from a trial's ratings.

    ``target`` is one rating scale or ``"quadrant"`` (valence x arousal); a numeric
    ``threshold`` makes the rating binary (high when ``rating > threshold``, or ``>=`` with
    ``comparison=">="``), None keeps the raw rating (regression). Build it with :meth:`check`.
    """

    target: str
    threshold: float | None
    comparison: str

    @classmethod
    def check(cls, target, threshold, comparison, scales: Sequence[str], loader: str):
        """Check the loader's ``target``, ``threshold`` and ``comparison`` arguments."""
        check_choice(target, "target", [*scales, "quadrant"], loader)
        check_threshold(threshold, comparison, loader)
        if target == "quadrant" and threshold is None:
            raise ValueError(
                f"{loader}: target='quadrant' needs a numeric threshold; got threshold=None."
            )
        return cls(target, threshold, comparison)

    def encode(self, scores: Mapping[str, float]) -> object:
        """One trial's ratings -> its target: binary high/low, 4 quadrants, or the raw score."""
        if self.target == "quadrant":
            v = is_high(scores["valence"], self.threshold, self.comparison)
            a = is_high(scores["arousal"], self.threshold, self.comparison)
            return 2 * v + a
        if self.threshold is None:
            return float(scores[self.target])
        return is_high(scores[self.target], self.threshold, self.comparison)

    @property
    def names(self) -> list[str]:
        if self.target == "quadrant":
            return list(QUADRANT_NAMES)
        if self.threshold is None:
            return [self.target]
        return [f"low_{self.target}", f"high_{self.target}"]

    @property
    def y_dtype(self):
        return np.float64 if self.threshold is None else np.int64

    def __str__(self) -> str:
        return f"target={self.target!r}, threshold={self.threshold!r} ({self.comparison})"


@dataclass(frozen=True)
class ClassCodes:
    """Class code of each raw dataset label (``codes``; a label absent from it is not loaded)
    and the class names (``names``, indexed by code)."""

    codes: dict
    names: list[str]
    y_dtype: ClassVar[type] = np.int64


def label_map_codes(label_map, loader: str, known) -> ClassCodes:
    """``{raw_label: class_name}`` -> :class:`ClassCodes`.

    Codes follow the first appearance of each class name in the mapping, so several raw labels
    may share one class; raw labels absent from the mapping are dropped. Every key must be one
    of the dataset's raw labels ``known`` (a key that matches nothing would silently drop the
    class it was meant for).
    """
    if not isinstance(label_map, Mapping) or not label_map:
        raise ValueError(
            f"{loader}: label_map must be a non-empty dict {{raw_label: class_name}}; "
            f"got {label_map!r}."
        )
    known = sorted(known)
    names: list[str] = []
    codes = {}
    for raw, name in label_map.items():
        if isinstance(raw, bool | np.bool_) or raw not in known:
            raise ValueError(
                f"{loader}: label_map key {raw!r} is not a raw label of the dataset; expected "
                f"keys among {known}."
            )
        if not isinstance(name, str):
            raise ValueError(f"{loader}: label_map values must be class names; got {name!r}.")
        if name not in names:
            names.append(name)
        codes[raw] = names.index(name)
    return ClassCodes(codes, names)
