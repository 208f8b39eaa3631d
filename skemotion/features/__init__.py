"""skemotion.features"""
__all__ = []

from ._hrv import HRVFeatures  # noqa: E402

__all__ += ["HRVFeatures"]
