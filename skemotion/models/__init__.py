"""Networks as plain ``torch.nn.Module`` classes (no scikit-learn or skorch import)."""

from .eegnet import EEGNet
from .escgan import ESCGANDiscriminator, ESCGANGenerator
from .gruxnet import GRUXNet
from .sslecg import SSLECGClassifierNet, SSLECGEncoderNet, SSLECGNet
from .sstemotionnet import SSTEmotionNet
from .tsstdn import TSSTDN

__all__ = [
    "EEGNet",
    "ESCGANDiscriminator",
    "ESCGANGenerator",
    "GRUXNet",
    "SSLECGClassifierNet",
    "SSLECGEncoderNet",
    "SSLECGNet",
    "SSTEmotionNet",
    "TSSTDN",
]
