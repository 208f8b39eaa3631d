"""skemotion.features: spectral features, preprocessing and electrode maps as transformers.

Pure batched functions live in :mod:`skemotion.features.functional`.
"""

from ._electrode_grid import ElectrodeGrid
from ._hrv import HRVFeatures
from ._preprocessing import BandpassFilter, BaselineRemoval, EMGContamination, NotchFilter
from ._spectral_estimators import BandPower, DifferentialEntropy, STFTSpectrogram

__all__ = [
    "BandPower",
    "BandpassFilter",
    "BaselineRemoval",
    "DifferentialEntropy",
    "EMGContamination",
    "ElectrodeGrid",
    "HRVFeatures",
    "NotchFilter",
    "STFTSpectrogram",
]
