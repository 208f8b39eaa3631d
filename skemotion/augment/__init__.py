"""skemotion.augment"""
__all__ = []
