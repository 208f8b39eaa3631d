"""skemotion.features: spectral features, preprocessing and electrode maps as transformers.

Pure batched functions live in :mod:`skemotion.features.functional`. The transformers are
imported on first access, so that ``import skemotion.features.functional`` loads the functional
core alone (numpy, scipy; torch when a function needs it), without scikit-learn or pandas.
"""

import importlib

_EXPORTS = {
    "BandPower": "._spectral_estimators",
    "BandpassFilter": "._preprocessing",
    "BaselineRemoval": "._preprocessing",
    "DifferentialEntropy": "._spectral_estimators",
    "EMGContamination": "._preprocessing",
    "ElectrodeGrid": "._electrode_grid",
    "HRVFeatures": "._hrv",
    "NotchFilter": "._preprocessing",
    "STFTSpectrogram": "._spectral_estimators",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value  # later accesses skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_EXPORTS])
