"""skemotion.features"""
__all__ = []
