"""skemotion.features: spectral features, preprocessing and electrode maps as transformers.

Pure batched functions live in :mod:`skemotion.features.functional`. The transformers (and
the ECG functions :func:`hrv_features` and :func:`detect_r_peaks`) are imported on first
access, so that ``import skemotion.features.functional`` loads the functional core alone
(numpy, scipy; torch when a function needs it), without scikit-learn or pandas.

Every transformer names its output features (``get_feature_names_out``, honouring
``input_features``) and supports ``set_output(transform="pandas")``: a 2-D output becomes a
DataFrame with those columns, an output with more than two dimensions (windows, spectrograms,
electrode maps) stays an array.
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
    "PickChannels": "._pick",
    "STFTSpectrogram": "._spectral_estimators",
    "detect_r_peaks": "._hrv",
    "hrv_features": "._hrv",
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
