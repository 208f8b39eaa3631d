"""skemotion.classifiers"""
__all__ = []
