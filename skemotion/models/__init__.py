"""skemotion.models"""
__all__ = []
