"""Networks as plain ``torch.nn.Module`` classes (no scikit-learn or skorch import)."""

from .eegnet import EEGNet
from .escgan import ESCGANDiscriminator, ESCGANGenerator
from .sslecg import SSLECGNet
from .sstemotionnet import SSTEmotionNet
from .tsstdn import TSSTDN

__all__ = [
    "EEGNet",
    "ESCGANDiscriminator",
    "ESCGANGenerator",
    "SSLECGNet",
    "SSTEmotionNet",
    "TSSTDN",
]
