"""Deep classifiers: scikit-learn estimators wrapping the networks of ``skemotion.models``."""

from ._base import DeepClassifierBase
from .eegnet import EEGNetClassifier

__all__ = ["DeepClassifierBase", "EEGNetClassifier"]
