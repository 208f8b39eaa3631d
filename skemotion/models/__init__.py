"""Networks as plain ``torch.nn.Module`` classes (no scikit-learn or skorch import)."""

from .eegnet import EEGNet
from .sslecg import SSLECGNet
from .tsstdn import TSSTDN

__all__ = ["EEGNet", "SSLECGNet", "TSSTDN"]
