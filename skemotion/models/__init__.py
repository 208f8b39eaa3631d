"""Networks as plain ``torch.nn.Module`` classes (no scikit-learn or skorch import)."""

from .eegnet import EEGNet
from .sslecg import SSLECGNet

__all__ = ["EEGNet", "SSLECGNet"]
