"""Self-supervised encoders as scikit-learn transformers."""

from ._preprocessing import PersonZScore, person_zscore, preprocess_ecg, robust_zscore_stats
from ._sslecg import SSLECGEncoder

__all__ = [
    "PersonZScore",
    "SSLECGEncoder",
    "person_zscore",
    "preprocess_ecg",
    "robust_zscore_stats",
]
