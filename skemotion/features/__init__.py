"""skemotion.features: spectral features, preprocessing and electrode maps as transformers.

Pure batched functions live in :mod:`skemotion.features.functional`.
"""

from ._electrode_grid import ElectrodeGrid
from ._preprocessing import BandpassFilter, BaselineRemoval, EMGContamination, NotchFilter
from ._spectral_estimators import BandPower, DifferentialEntropy, STFTSpectrogram

__all__ = [
    "BandPower",
    "BandpassFilter",
    "BaselineRemoval",
    "DifferentialEntropy",
    "EMGContamination",
    "ElectrodeGrid",
    "NotchFilter",
    "STFTSpectrogram",
]

from ._hrv import HRVFeatures  # noqa: E402

__all__ += ["HRVFeatures"]
