"""Self-supervised encoders as scikit-learn transformers."""

from ._preprocessing import PersonZScore as PersonZScore  # deprecated alias, not in __all__
from ._preprocessing import person_zscore, preprocess_ecg, robust_zscore_stats
from ._sslecg import SSLECGEncoder

__all__ = [
    "SSLECGEncoder",
    "person_zscore",
    "preprocess_ecg",
    "robust_zscore_stats",
]
