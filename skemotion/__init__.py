"""skemotion: scikit-learn-compatible emotion recognition from EEG and ECG."""

__version__ = "0.1.0.dev0"

__all__ = [
    "augment",
    "classifiers",
    "datasets",
    "export",
    "features",
    "inspection",
    "models",
    "ssl",
    "stream",
    "transfer",
    "__version__",
]


def __getattr__(name):  # lazy subpackages: `import skemotion` stays cheap (no torch import)
    if name in __all__ and name != "__version__":
        import importlib

        return importlib.import_module(f"skemotion.{name}")
    raise AttributeError(f"module 'skemotion' has no attribute {name!r}")
