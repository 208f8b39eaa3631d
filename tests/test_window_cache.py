"""The loaders' on-disk window cache (``cache_dir=``): keyed by the files and the options,
atomic, checked on every open, safe to build from two processes at once, and read by the
estimators like any array."""

import json
import multiprocessing
import os
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from _fixtures_datasets import (
    write_amigos,
    write_deap,
    write_dreamer,
    write_gameemo,
    write_seed,
    write_seed_iv,
    write_wesad,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skemotion.datasets._cache as cache_mod
import skemotion.datasets._seed as seed_mod
from skemotion.classifiers import EEGNetClassifier
from skemotion.datasets import DatasetFormatError, load_deap, load_seed
from skemotion.features import BandPower, DifferentialEntropy


@pytest.fixture(scope="module")
def seed_copy(tmp_path_factory):
    root = tmp_path_factory.mktemp("seed")
    write_seed(root, subjects=(1, 2), sessions=(1, 2, 3))
    return root


def _entries(cache):
    return sorted(p.name for p in Path(cache).iterdir() if p.is_dir())


def _load(root, cache, **kwargs):
    return load_seed(root, verbose=False, cache_dir=cache, **kwargs)


def _same_dataset(a, b):
    np.testing.assert_array_equal(np.asarray(a.X), np.asarray(b.X))
    for key in ("y", "groups", "trials"):
        np.testing.assert_array_equal(a[key], b[key])
    assert a.frame.equals(b.frame)
    assert list(a.frame.dtypes) == list(b.frame.dtypes)
    for key in ("sfreq", "ch_names", "ch_types", "target_names", "DESCR"):
        assert a[key] == b[key]


def test_cache_returns_a_read_only_memmap_equal_to_the_in_memory_load(seed_copy, tmp_path):
    plain = load_seed(seed_copy, verbose=False)
    built = _load(seed_copy, tmp_path)
    assert isinstance(built.X, np.memmap) and not built.X.flags.writeable
    assert not isinstance(plain.X, np.memmap)
    _same_dataset(built, plain)
    assert len(_entries(tmp_path)) == 1


def test_second_call_reads_the_cache_not_the_files(seed_copy, tmp_path, monkeypatch):
    first = _load(seed_copy, tmp_path)

    def no_read(*args, **kwargs):
        raise AssertionError("the dataset was read although the cache holds it")

    monkeypatch.setattr(seed_mod, "_read_variable", no_read)
    monkeypatch.setattr(seed_mod.scipy.io, "whosmat", no_read)
    again = _load(seed_copy, tmp_path)
    _same_dataset(again, first)
    with pytest.raises(DatasetFormatError, match="was read"):
        _load(seed_copy, tmp_path, window_seconds=0.5)  # another entry: must read


def test_deap_hit_reads_no_file(tmp_path, monkeypatch):
    write_deap(tmp_path / "deap", subjects=(1, 2), n_trials=3, seconds=4)
    plain = load_deap(tmp_path / "deap", verbose=False, baseline="segment")
    built = load_deap(
        tmp_path / "deap", verbose=False, baseline="segment", cache_dir=tmp_path / "c"
    )
    _same_dataset(built, plain)
    import skemotion.datasets._deap as deap_mod

    def no_read(*args, **kwargs):
        raise AssertionError("read")

    monkeypatch.setattr(deap_mod, "read_deap_file", no_read)
    hit = load_deap(tmp_path / "deap", verbose=False, baseline="segment", cache_dir=tmp_path / "c")
    _same_dataset(hit, plain)
    with pytest.raises(AssertionError, match="read"):  # the baseline is part of the key
        load_deap(tmp_path / "deap", verbose=False, cache_dir=tmp_path / "c")


@pytest.mark.parametrize(
    "change",
    [
        {"window_seconds": 0.5},
        {"overlap": 0.5},
        {"subjects": [1]},
        {"sessions": [1, 2]},
        {"target": "positive_negative"},
        {"label_map": {-1: "neg", 1: "pos", 0: "neu"}},
    ],
)
def test_key_changes_with_every_option(seed_copy, tmp_path, change):
    base = _load(seed_copy, tmp_path)
    other = _load(seed_copy, tmp_path, **change)
    assert len(_entries(tmp_path)) == 2
    fresh = load_seed(seed_copy, verbose=False, **change)
    _same_dataset(other, fresh)
    assert (
        not np.array_equal(other.y, base.y)
        or other.X.shape != base.X.shape
        or (other.target_names != base.target_names)
    )


def test_key_changes_when_a_file_changes(tmp_path):
    root = tmp_path / "seed"
    write_seed(root, subjects=(1,), sessions=(1,), seed=0)
    first = _load(root, tmp_path / "cache")
    key_before = _entries(tmp_path / "cache")
    # the same file names with other signals (another seed), as after a re-download
    write_seed(root, subjects=(1,), sessions=(1,), seed=1)
    file = next((root / "Preprocessed_EEG").glob("1_*.mat"))
    st = file.stat()
    os.utime(file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a later write
    second = _load(root, tmp_path / "cache")
    assert _entries(tmp_path / "cache") != key_before and len(_entries(tmp_path / "cache")) == 2
    _same_dataset(second, load_seed(root, verbose=False))
    assert not np.array_equal(np.asarray(first.X[:5]), np.asarray(second.X[:5]))
    # touching label.mat alone (the labels of SEED) also gives a new entry
    label = root / "Preprocessed_EEG" / "label.mat"
    os.utime(label, ns=(label.stat().st_atime_ns, label.stat().st_mtime_ns + 1_000_000))
    _load(root, tmp_path / "cache")
    assert len(_entries(tmp_path / "cache")) == 3


def _corrupt_x_data(entry):
    file = entry / "X.npy"
    with open(file, "r+b") as f:
        f.seek(file.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))


def _truncate_x(entry):
    file = entry / "X.npy"
    with open(file, "r+b") as f:
        f.truncate(file.stat().st_size - 1000)


def _drop_manifest(entry):  # a build that died before its last file
    (entry / "manifest.json").unlink()


def _garble_manifest(entry):
    (entry / "manifest.json").write_text("{not json")


def _other_shape(entry):
    manifest = json.loads((entry / "manifest.json").read_text())
    manifest["shape"][0] += 1
    (entry / "manifest.json").write_text(json.dumps(manifest))


def _corrupt_arrays(entry):
    file = entry / "arrays.npz"
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        _corrupt_x_data,
        _truncate_x,
        _drop_manifest,
        _garble_manifest,
        _other_shape,
        _corrupt_arrays,
    ],  # fmt: skip
)
def test_corrupt_entry_is_detected_and_rebuilt(seed_copy, tmp_path, damage):
    plain = load_seed(seed_copy, verbose=False)
    _load(seed_copy, tmp_path)
    (entry,) = [tmp_path / n for n in _entries(tmp_path)]
    damage(entry)
    with pytest.warns(UserWarning, match="window cache entry .* not usable"):
        rebuilt = _load(seed_copy, tmp_path)
    _same_dataset(rebuilt, plain)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt entry is sound
        _same_dataset(_load(seed_copy, tmp_path), plain)


def test_half_written_build_is_never_used(seed_copy, tmp_path, monkeypatch):
    """A build that dies while writing leaves no entry; the next call builds a sound one and
    clears the dead build's temporary folder."""
    plain = load_seed(seed_copy, verbose=False)
    real = seed_mod._read_variable
    calls = {"n": 0}

    def dies_half_way(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 20:
            raise KeyboardInterrupt  # the process is stopped mid-build
        return real(*args, **kwargs)

    monkeypatch.setattr(seed_mod, "_read_variable", dies_half_way)
    monkeypatch.setattr(cache_mod.shutil, "rmtree", lambda *a, **k: None)  # as if killed
    with pytest.raises(KeyboardInterrupt):
        _load(seed_copy, tmp_path)
    assert _entries(tmp_path) != [] and all(n.startswith(".") for n in _entries(tmp_path))
    monkeypatch.undo()
    rebuilt = _load(seed_copy, tmp_path)
    _same_dataset(rebuilt, plain)
    assert [n for n in _entries(tmp_path) if n.startswith(".")] == []


def _build_in_process(args):
    root, cache = args
    data = load_seed(root, verbose=False, cache_dir=cache)
    return np.asarray(data.X).sum(dtype=np.float64), len(data.y)


def test_two_processes_building_one_entry(seed_copy, tmp_path):
    plain = load_seed(seed_copy, verbose=False)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        results = pool.map(_build_in_process, [(seed_copy, tmp_path)] * 2)
    expected = (np.asarray(plain.X).sum(dtype=np.float64), len(plain.y))
    assert results == [expected, expected]
    assert len(_entries(tmp_path)) == 1  # one entry, no temporary folder left
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _same_dataset(_load(seed_copy, tmp_path), plain)


def test_concurrent_builders_without_a_lock_keep_one_sound_entry(seed_copy, tmp_path, monkeypatch):
    """Where no file lock exists, two builders race; the atomic rename keeps one complete
    entry and both get the right windows."""
    import contextlib

    monkeypatch.setattr(cache_mod.WindowCache, "_lock", lambda self: contextlib.nullcontext(False))
    plain = load_seed(seed_copy, verbose=False)
    barrier = threading.Barrier(2)
    real = seed_mod._read_variable

    def in_step(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)  # both builders are reading at the same time
        return real(*args, **kwargs)

    monkeypatch.setattr(seed_mod, "_read_variable", in_step)
    out, errors = [], []

    def build():
        try:
            out.append(_load(seed_copy, tmp_path))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(out) == 2
    for data in out:
        _same_dataset(data, plain)
    assert len(_entries(tmp_path)) == 1


def test_cache_dir_is_checked(seed_copy):
    with pytest.raises(ValueError, match="load_seed: cache_dir must be a folder path"):
        load_seed(seed_copy, verbose=False, cache_dir=3)


# ------------------------------------------------------------------------ estimators


@pytest.fixture(scope="module")
def cached_and_plain(seed_copy, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    kwargs = dict(subjects=[1, 2], sessions=[1])
    return _load(seed_copy, cache, **kwargs), load_seed(seed_copy, verbose=False, **kwargs)


@pytest.mark.parametrize("transformer", [DifferentialEntropy, BandPower])
def test_feature_transformers_read_the_memmap(cached_and_plain, transformer):
    cached, plain = cached_and_plain
    a = transformer(sfreq=cached.sfreq).fit_transform(cached.X)
    b = transformer(sfreq=plain.sfreq).fit_transform(plain.X)
    np.testing.assert_array_equal(a, b)


def test_pipeline_and_eegnet_identical_from_memmap(cached_and_plain):
    cached, plain = cached_and_plain

    def pipe():
        return make_pipeline(
            DifferentialEntropy(sfreq=200.0, flatten=True),
            StandardScaler(),
            LogisticRegression(max_iter=200),
        )

    p_cached = pipe().fit(cached.X, cached.y).predict_proba(cached.X)
    p_plain = pipe().fit(plain.X, plain.y).predict_proba(plain.X)
    np.testing.assert_array_equal(p_cached, p_plain)
    kw = dict(F1=4, D=2, F2=8, kernel_length=8, max_epochs=1, batch_size=32, random_state=0,
              device="cpu")  # fmt: skip
    a = EEGNetClassifier(**kw).fit(cached.X, cached.y).predict_proba(cached.X)
    b = EEGNetClassifier(**kw).fit(plain.X, plain.y).predict_proba(plain.X)
    np.testing.assert_array_equal(a, b)
    assert not cached.X.flags.writeable  # nothing wrote into the user's windows


def test_benchmark_command_reads_through_the_cache(seed_copy, tmp_path, capsys):
    from skemotion.cli import main

    args = ["benchmark", "--dataset", "seed", "--data-path", str(seed_copy), "--subjects", "1",
            "2", "--models", "none", "--max-folds", "1", "--quiet", "--no-plots",
            "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    assert main([*args, "--output", str(tmp_path / "a")]) == 0
    assert len(_entries(tmp_path / "cache")) == 1
    assert main([*args, "--output", str(tmp_path / "b")]) == 0
    assert len(_entries(tmp_path / "cache")) == 1  # reused
    import pandas as pd

    cols = ["model", "fold", "balanced_accuracy", "macro_f1", "train_balanced_accuracy"]
    a, b = (pd.read_csv(tmp_path / d / "results.csv")[cols] for d in ("a", "b"))
    pd.testing.assert_frame_equal(a, b)
    assert set(a["model"]) == {"majority", "de_lr"}
    with pytest.raises(SystemExit):
        main(["benchmark", "--cache-dir", str(tmp_path / "cache"), "--output", str(tmp_path)])
    assert "--cache-dir: only for a --dataset you have" in capsys.readouterr().err


# ------------------------------------------------------------------- folds on disk


def test_large_row_selections_of_the_cache_go_to_disk(cached_and_plain, monkeypatch):
    from sklearn.utils import _safe_indexing

    from skemotion.datasets._cache import DiskBackedRows, disk_backed

    cached, plain = cached_and_plain
    monkeypatch.setattr(cache_mod, "_DISK_MIN_BYTES", 1)
    X = disk_backed(cached.X)
    assert isinstance(X, DiskBackedRows) and np.shares_memory(X, cached.X)
    folder = Path(cached.X.filename).parent
    n = len(X)
    rows = np.r_[0 : n // 3, n // 2 : n]
    for key in (rows, list(rows), (rows, Ellipsis), np.isin(np.arange(n), rows), rows - n):
        sub = X[key]
        assert isinstance(sub, np.memmap) and not isinstance(sub, DiskBackedRows)
        np.testing.assert_array_equal(sub, plain.X[rows])
    sub = _safe_indexing(X, rows)  # what cross-validation calls
    assert isinstance(sub, np.memmap)
    sub[0] = 0.0  # copy-on-write: writable, the cache is untouched
    np.testing.assert_array_equal(cached.X[rows[0]], plain.X[rows[0]])
    assert not list(folder.glob(".rows-*"))  # unlinked at once
    assert not isinstance(X[3], np.memmap) or X[3].shape == X.shape[1:]
    np.testing.assert_array_equal(X[2:5], plain.X[2:5])  # slices stay views
    monkeypatch.setattr(cache_mod, "_DISK_MIN_BYTES", 1 << 40)
    assert not isinstance(X[rows], np.memmap)  # small selections stay in memory


def test_benchmark_folds_of_a_cached_dataset_are_disk_backed(cached_and_plain, monkeypatch):
    """run_benchmark hands each fold model a memory map (the cache's folds never copied into
    memory) and gets the numbers of the in-memory run."""
    from skemotion.benchmark import run_benchmark
    from skemotion.features import DifferentialEntropy as DE

    cached, plain = cached_and_plain
    monkeypatch.setattr(cache_mod, "_DISK_MIN_BYTES", 1)
    seen = []
    real_fit = DE.fit

    def recording_fit(self, X, y=None):
        seen.append(type(X))
        return real_fit(self, X, y)

    monkeypatch.setattr(DE, "fit", recording_fit)
    mapped = []
    real_transform = DE.transform

    def recording_transform(self, X, **kwargs):
        mapped.append(getattr(X, "_mmap", None) is not None)  # read from a file, not a copy
        return real_transform(self, X, **kwargs)

    monkeypatch.setattr(DE, "transform", recording_transform)
    out = {}
    for name, data in (("cached", cached), ("plain", plain)):
        seen.clear()
        mapped.clear()
        res = run_benchmark(data.X, data.y, data.groups, data.trials, sfreq=data.sfreq,
                            models=["none"], plots=False, progress=False)  # fmt: skip
        out[name] = (res.folds[["model", "fold", "balanced_accuracy"]], list(seen))
        if name == "cached":  # the scorer predicts each subject's windows from the file
            assert mapped and all(mapped)
    np.testing.assert_array_equal(out["cached"][0].to_numpy(), out["plain"][0].to_numpy())
    assert out["cached"][1] and all(issubclass(t, np.memmap) for t in out["cached"][1])
    assert not any(issubclass(t, np.memmap) for t in out["plain"][1])


def _deep_classifiers():
    from skemotion.classifiers import (
        GRUXNetClassifier,
        SSTEmotionNetClassifier,
        TSSTDNClassifier,
    )

    train = dict(max_epochs=1, lr=1e-2, batch_size=16, random_state=0, device="cpu")
    return {
        "tsstdn": lambda: TSSTDNClassifier(
            D=1, lstm_hidden=4, Fs=4, Ft=4, n_fft=32, sfreq=200.0, **train
        ),
        "gruxnet": lambda: GRUXNetClassifier(
            filters=(2, 2, 4),
            gru_hidden=4,
            n_heads=2,
            head_units=(8,),
            stft_shape=(16, 8),
            n_fft=32,
            sfreq=200.0,
            **train,
        ),  # fmt: skip
        "sst": lambda: SSTEmotionNetClassifier(
            "seed62",
            sfreq=200.0,
            interpolation="none",
            grid_size=9,
            temporal_depth=4,
            spectral_growth=2,
            temporal_growth=2,
            spectral_layers=1,
            temporal_layers=1,
            hidden_size=8,
            **train,
        ),  # fmt: skip
    }


@pytest.mark.parametrize("name", ["tsstdn", "gruxnet", "sst"])
def test_deep_classifiers_identical_from_memmap(cached_and_plain, name):
    cached, plain = cached_and_plain
    X_mm = cached.X  # slices of a memory map are memory maps
    make = _deep_classifiers()[name]
    a = make().fit(X_mm[:80], cached.y[:80])
    b = make().fit(np.array(plain.X[:80]), plain.y[:80])
    np.testing.assert_array_equal(a.predict_proba(X_mm[-60:]), b.predict_proba(plain.X[-60:]))
    if name == "tsstdn":  # its network input is prepared window by window from the file
        from skemotion.classifiers._base import PerWindow

        assert isinstance(a._prepare(X_mm[:10]), PerWindow)
        assert not isinstance(b._prepare(plain.X[:10]), PerWindow)


def test_data_fingerprint_of_a_memory_map_is_that_of_its_bytes(cached_and_plain):
    """The benchmark's record of the data hashes X in blocks (no copy of a mapped X): the
    digest is the SHA-1 of the shapes, dtypes and bytes, as before blocks."""
    import hashlib

    from skemotion.benchmark._store import data_fingerprint

    cached, plain = cached_and_plain
    h = hashlib.sha1()
    for a in (plain.X, plain.y):
        h.update(f"{a.shape}{a.dtype.str}".encode())
        h.update(a.tobytes())
    assert data_fingerprint(cached.X, cached.y) == h.hexdigest()
    assert data_fingerprint(plain.X, plain.y) == h.hexdigest()


_OTHER_LOADERS = {
    "load_seed_iv": (write_seed_iv, {}, "seed_iv"),
    "load_amigos": (write_amigos, {"nan_trial": 2}, "amigos"),
    "load_dreamer": (write_dreamer, {}, "dreamer"),
    "load_dreamer_all": (write_dreamer, {}, "dreamer"),
    "load_gameemo": (write_gameemo, {}, "gameemo"),
    "load_wesad": (write_wesad, {}, "wesad"),
}


@pytest.mark.parametrize("name", list(_OTHER_LOADERS))
def test_every_loader_caches(tmp_path, name):
    """Each loader returns from its cache what it returns without, and a second call reads
    the entry; AMIGOS keeps its count of windows dropped for NaN (and its warning)."""
    import skemotion.datasets as ds

    write, kwargs, _ = _OTHER_LOADERS[name]
    write(tmp_path / "data", **kwargs)
    loader = getattr(ds, name.removesuffix("_all"))
    extra = {"modality": "all"} if name.endswith("_all") else {}
    if name == "load_wesad":
        extra = {"window_seconds": 1.0}
    with warnings.catch_warnings(record=True) as plain_warnings:
        warnings.simplefilter("always")
        plain = loader(tmp_path / "data", verbose=False, **extra)
    built = loader(tmp_path / "data", verbose=False, cache_dir=tmp_path / "c", **extra)
    with warnings.catch_warnings(record=True) as hit_warnings:
        warnings.simplefilter("always")
        hit = loader(tmp_path / "data", verbose=False, cache_dir=tmp_path / "c", **extra)
    assert len(_entries(tmp_path / "c")) == 1
    for data in (built, hit):
        assert isinstance(data.X, np.memmap)
        _same_dataset(data, plain)
        assert set(data) == set(plain)
        for key in set(plain) - {"X", "y", "groups", "trials", "frame"}:
            assert data[key] == plain[key], key
    nan_warning = [str(w.message) for w in plain_warnings if "holding NaN" in str(w.message)]
    assert [str(w.message) for w in hit_warnings if "holding NaN" in str(w.message)] == (
        nan_warning
    )
    if name == "load_amigos":
        assert plain["n_nan_windows_dropped"] > 0 and nan_warning
