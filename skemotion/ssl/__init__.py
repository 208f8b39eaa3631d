"""skemotion.ssl"""
__all__ = []
