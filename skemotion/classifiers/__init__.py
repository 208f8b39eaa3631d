"""Deep classifiers: scikit-learn estimators wrapping the networks of ``skemotion.models``."""

from ._base import DeepClassifierBase
from .eegnet import EEGNetClassifier
from .gruxnet import GRUXNetClassifier
from .sslecg import SSLECGClassifier
from .sstemotionnet import SSTEmotionNetClassifier
from .tsstdn import TSSTDNClassifier

__all__ = [
    "DeepClassifierBase",
    "EEGNetClassifier",
    "GRUXNetClassifier",
    "SSLECGClassifier",
    "SSTEmotionNetClassifier",
    "TSSTDNClassifier",
]
