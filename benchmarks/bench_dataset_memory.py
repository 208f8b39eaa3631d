"""Peak memory of the dataset loaders against the size of the raw data they read.

Writes DEAP-format subject files of the real size (40 trials x 40 channels x 8064 samples,
float64, Python 2 pickle; random values) and SEED-format files into a temporary folder, loads
them with tracemalloc on, and prints peak / selected raw bytes. Nothing real is downloaded.

    python benchmarks/bench_dataset_memory.py [n_deap_subjects]
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _fixtures_datasets import write_deap, write_seed  # noqa: E402

from skemotion.datasets import load_deap, load_seed  # noqa: E402


def measure(fn, raw_bytes, **kwargs):
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        b = fn(verbose=False, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, b.X.nbytes, time.perf_counter() - t0


def main(n_subjects: int = 4) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "deap"
        write_deap(root, subjects=range(1, n_subjects + 1), n_trials=40, seconds=60)
        raw = n_subjects * 40 * 32 * 8064 * 8  # the 32 EEG channels, float64 as stored
        print(f"DEAP, {n_subjects} full-size subjects, selected raw {raw / 1e9:.2f} GB")
        for overlap in (0.0, 0.5):
            peak, xbytes, secs = measure(load_deap, raw, path=root, overlap=overlap)
            print(
                f"  1 s windows, overlap {overlap}: X {xbytes / 1e9:.2f} GB, peak "
                f"{peak / 1e9:.2f} GB = {peak / raw:.2f} x raw ({secs:.1f} s)"
            )
        root = Path(tmp) / "seed"
        write_seed(root, subjects=(1, 2), sessions=(1, 2, 3))
        files = sorted((root / "Preprocessed_EEG").glob("*_*.mat"))
        raw = sum(f.stat().st_size for f in files)
        peak, xbytes, secs = measure(load_seed, raw, path=root)
        print(f"SEED fixture: peak {peak / raw:.2f} x the files' size")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4)
