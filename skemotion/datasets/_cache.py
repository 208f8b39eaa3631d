"""On-disk window cache of the dataset loaders (``cache_dir=``).

A loader given ``cache_dir`` writes its windows once into a memory-mapped ``.npy`` file under
that folder and returns ``X`` as a read-only :class:`numpy.memmap`; the next call with the same
files and options opens the file instead of reading the dataset again. The windows then live in
the operating system's page cache, not in the process: data larger than the RAM can be windowed,
and several processes reading one cache share its pages.

Layout: one folder per entry, ``{cache_dir}/{loader}-{key}``, holding

- ``X.npy``: the windows, float32, (n_windows, n_channels, n_times);
- ``arrays.npz``: ``y``, ``groups``, ``trials`` and the columns of ``frame`` (no pickles);
- ``manifest.json``: what the entry is (loader, options, files), the shapes and dtypes, and a
  CRC-32 of ``X.npy``'s data and of ``arrays.npz``.

The key is a SHA-256 of the cache format, the package version, the loader, its options
(selection, target, windowing ...) and, for every file read, its resolved path, size and
modification time (nanoseconds): editing, replacing or touching a file gives a new entry. The
contents of the files are not hashed (that would mean reading them all at every call).

Robustness:

- **atomic**: an entry is built in a temporary folder of ``cache_dir`` and renamed into place
  once complete; a build that dies leaves only a temporary folder, never a half-written entry
  (the next build removes it);
- **checked**: every open compares the manifest with the files and the CRC-32 of the whole
  ``X.npy`` data (about 3 GB/s once the file is in the page cache); a corrupt or truncated
  entry is reported with a warning, removed and rebuilt;
- **concurrent**: builders of one entry take an exclusive ``fcntl`` lock on
  ``{loader}-{key}.lock``, so a second process waits for the first and then reuses its entry
  (where ``fcntl`` is missing, both build and the atomic rename keeps one complete entry). On a
  network file system, ``fcntl`` locks depend on the server; the atomic rename still holds.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
import warnings
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import row_blocks

CACHE_FORMAT = 1
_CHUNK = 1 << 26  # 64 MiB per checksum read

__all__ = ["DiskBackedRows", "WindowCache", "array_crc32", "disk_backed"]


def _version() -> str:
    from .. import __version__

    return __version__


def _plain(value):
    """``value`` as JSON data, for the key and the manifest (numpy scalars/arrays, paths, sets
    and tuples included; anything else by its ``repr``)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def array_crc32(X: np.ndarray) -> int:
    """CRC-32 of the bytes of a C-contiguous array, read ``_CHUNK`` bytes at a time (a memory
    map is read through, never copied whole)."""
    flat = np.asarray(X).reshape(-1).view(np.uint8)
    crc = 0
    for start in range(0, flat.size, _CHUNK):
        crc = zlib.crc32(flat[start : start + _CHUNK], crc)
    return crc


def _file_crc32(file: Path) -> int:
    crc = 0
    with open(file, "rb") as f:
        while chunk := f.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
    return crc


class _Corrupt(Exception):
    """An entry that does not match its manifest (the reason is the message)."""


class WindowCache:
    """One entry of the window cache: where it lives and how to open or build it.

    Parameters
    ----------
    folder : path-like
        The cache folder chosen by the user (created if needed).
    loader : str
        The loader's name (``"load_seed"``): the prefix of the entry and of messages.
    files : iterable of path-like
        Every file the loader reads for this selection.
    options : dict
        Every option that changes the windows or their labels (JSON-able after
        :func:`_plain`).
    """

    def __init__(self, folder, loader: str, files: Iterable, options: dict):
        self.folder = Path(folder).expanduser()
        self.loader = loader
        described = []
        for f in files:
            p = Path(f).resolve()
            st = p.stat()
            described.append([str(p), st.st_size, st.st_mtime_ns])
        self.files = sorted(described)
        self.options = _plain(options)
        payload = {
            "format": CACHE_FORMAT,
            "skemotion": _version(),
            "loader": loader,
            "options": self.options,
            "files": self.files,
        }
        import hashlib

        self.key = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]
        self.name = f"{loader}-{self.key}"
        self.path = self.folder / self.name

    # --------------------------------------------------------------------------- reading
    def open(self, *, verify: bool = True) -> dict | None:
        """The entry as ``{"X": memmap, "y", "groups", "trials", "frame", "meta"}``, or None
        when there is none. A corrupt entry is reported (``UserWarning``), removed and None
        returned, so that the caller rebuilds it."""
        if not (self.path / "manifest.json").exists():
            if self.path.exists():  # a folder without manifest is not an entry we wrote
                self._discard("no manifest.json")
            return None
        try:
            return self._read(verify)
        except _Corrupt as exc:
            self._discard(str(exc))
            return None

    def _read(self, verify: bool) -> dict:
        try:
            manifest = json.loads((self.path / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            raise _Corrupt(f"unreadable manifest.json ({exc})") from None
        if manifest.get("format") != CACHE_FORMAT or manifest.get("key") != self.key:
            raise _Corrupt("manifest.json belongs to another entry or cache format")
        try:
            X = np.load(self.path / "X.npy", mmap_mode="r")
        except (OSError, ValueError, EOFError) as exc:
            raise _Corrupt(f"X.npy cannot be mapped ({exc})") from None
        if list(X.shape) != manifest["shape"] or str(X.dtype) != manifest["dtype"]:
            raise _Corrupt(
                f"X.npy holds {X.shape} {X.dtype}, the manifest says "
                f"{tuple(manifest['shape'])} {manifest['dtype']}"
            )
        expected = X.offset + X.nbytes
        size = (self.path / "X.npy").stat().st_size
        if size != expected:
            raise _Corrupt(f"X.npy has {size} bytes, {expected} expected")
        if verify and array_crc32(X) != manifest["x_crc32"]:
            raise _Corrupt("the CRC-32 of X.npy's data differs from the manifest's")
        arrays_file = self.path / "arrays.npz"
        try:
            if _file_crc32(arrays_file) != manifest["arrays_crc32"]:
                raise _Corrupt("the CRC-32 of arrays.npz differs from the manifest's")
            with np.load(arrays_file, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, KeyError, EOFError) as exc:
            raise _Corrupt(f"arrays.npz cannot be read ({exc})") from None
        n = X.shape[0]
        frame = pd.DataFrame({c: arrays[f"frame/{c}"] for c in manifest["frame_columns"]})
        for name in ("y", "groups", "trials"):
            if arrays[name].shape != (n,):
                raise _Corrupt(f"{name} has shape {arrays[name].shape}, ({n},) expected")
        return {
            "X": X,
            "y": arrays["y"],
            "groups": arrays["groups"],
            "trials": arrays["trials"],
            "frame": frame,
            "meta": manifest["meta"],
        }

    def _discard(self, reason: str) -> None:
        warnings.warn(
            f"{self.loader}: the window cache entry {str(self.path)!r} is not usable "
            f"({reason}); it is removed and rebuilt.",
            UserWarning,
            stacklevel=4,
        )
        trash = self.folder / f".{self.name}.trash-{uuid.uuid4().hex}"
        with contextlib.suppress(OSError):
            os.rename(self.path, trash)
            shutil.rmtree(trash, ignore_errors=True)

    # --------------------------------------------------------------------------- building
    @contextlib.contextmanager
    def _lock(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: the atomic rename still holds
            yield False
            return
        with open(self.folder / f"{self.name}.lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield True
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def get_or_build(self, assemble: Callable, meta: dict) -> dict:
        """The entry, built first when absent or corrupt.

        ``assemble(allocate)`` must return :func:`~._loading.assemble_windows`'s dict, with
        ``X`` allocated by ``allocate(shape, dtype)``; ``meta`` (JSON-able: rate, names ...)
        is stored with it and returned under ``"meta"``.
        """
        with self._lock() as alone:
            found = self.open()
            if found is not None:
                return found
            if alone:  # no other builder of this entry is alive: clear the dead ones' folders
                for stale in self.folder.glob(f".{self.name}.tmp-*"):
                    shutil.rmtree(stale, ignore_errors=True)
            tmp = self.folder / f".{self.name}.tmp-{os.getpid()}-{uuid.uuid4().hex}"
            tmp.mkdir(parents=True)
            try:
                self._write(tmp, assemble, meta)
                try:
                    os.rename(tmp, self.path)
                except OSError:  # another builder (no lock available) published first
                    if self.open() is None:
                        os.rename(tmp, self.path)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            built = self.open(verify=False)  # just written and checksummed
            if built is None:  # pragma: no cover - removed by someone else meanwhile
                raise OSError(f"{self.loader}: the window cache entry {self.path} vanished.")
            return built

    def _write(self, tmp: Path, assemble: Callable, meta: dict) -> None:
        holder = {}

        def allocate(shape, dtype):
            holder["X"] = np.lib.format.open_memmap(
                tmp / "X.npy", mode="w+", dtype=dtype, shape=shape
            )
            return holder["X"]

        out = assemble(allocate)
        X = holder["X"]
        X.flush()
        x_crc = array_crc32(X)
        del X, holder["X"]
        out.pop("X")
        frame = out["frame"]
        arrays = {"y": out["y"], "groups": out["groups"], "trials": out["trials"]}
        for col in frame.columns:
            values = frame[col].to_numpy()
            if values.dtype == object:
                values = values.astype(str)
            arrays[f"frame/{col}"] = values
        np.savez(tmp / "arrays.npz", **arrays)
        manifest = {
            "format": CACHE_FORMAT,
            "key": self.key,
            "skemotion": _version(),
            "loader": self.loader,
            "options": self.options,
            "files": self.files,
            "shape": list(np.load(tmp / "X.npy", mmap_mode="r").shape),
            "dtype": "float32",
            "x_crc32": x_crc,
            "arrays_crc32": _file_crc32(tmp / "arrays.npz"),
            "frame_columns": [str(c) for c in frame.columns],
            "meta": _plain(meta),
        }
        for file in (tmp / "X.npy", tmp / "arrays.npz"):
            _fsync(file)
        with open(tmp / "manifest.json", "w") as f:
            json.dump(manifest, f, indent=1)
            f.flush()
            os.fsync(f.fileno())


def _fsync(file: Path) -> None:
    with open(file, "rb") as f:
        os.fsync(f.fileno())


# ------------------------------------------------------------------------- fold selections
_DISK_MIN_BYTES = 1 << 26  # selections smaller than 64 MiB stay in memory


class DiskBackedRows(np.memmap):
    """A memory-mapped ``X`` whose large row selections go to disk, not to memory.

    scikit-learn cuts each fold's training and test windows out of ``X`` with ``X[indices]``,
    which for a memory map is a copy in memory: a LOSO fold on a cached dataset would hold
    almost the whole dataset in RAM again. Here a selection of at least 64 MiB is written, in
    blocks, to a temporary file next to ``X`` (its cache folder) and returned as a
    copy-on-write memory map of that file: it reads like an in-memory array, writing into it
    touches private memory only, and the file is unlinked at once (its pages go back to the
    system when the last reference goes; on systems that cannot unlink an open file it is
    removed when the array is collected). Smaller selections, slices and single windows are
    numpy's own.
    """

    def __getitem__(self, key):
        rows = _row_selection(key, self.shape[0] if self.ndim else 0)
        if rows is None or self.ndim == 0 or self.filename is None:
            return super().__getitem__(key)
        nbytes = len(rows) * int(np.prod(self.shape[1:], dtype=np.int64)) * self.itemsize
        if nbytes < _DISK_MIN_BYTES:
            return np.asarray(self)[key]  # an ordinary in-memory copy
        return _rows_to_disk(np.asarray(self), rows, Path(self.filename).parent)


def _row_selection(key, n: int):
    """The row indices of an integer or boolean row selection (``X[idx]``, ``X[idx, ...]``),
    None for anything else (slices, scalars, multi-axis keys)."""
    if isinstance(key, tuple):
        if len(key) == 2 and key[1] is Ellipsis:
            key = key[0]
        else:
            return None
    if isinstance(key, list):
        key = np.asarray(key)
    if not isinstance(key, np.ndarray) or key.ndim != 1:
        return None
    if key.dtype == bool:
        return np.flatnonzero(key) if key.shape[0] == n else None
    if not np.issubdtype(key.dtype, np.integer):
        return None
    return np.where(key < 0, key + n, key)


def _rows_to_disk(X: np.ndarray, rows: np.ndarray, folder: Path) -> np.memmap:
    import tempfile
    import weakref

    shape = (len(rows), *X.shape[1:])
    fd, name = tempfile.mkstemp(prefix=".rows-", suffix=".npy", dir=folder)
    os.close(fd)
    try:
        out = np.lib.format.open_memmap(name, mode="w+", dtype=X.dtype, shape=shape)
        for b in row_blocks(out, _CHUNK // X.itemsize):
            out[b] = X[rows[b]]
        out.flush()
        del out
        subset = np.load(name, mmap_mode="c")
    except BaseException:
        os.unlink(name)
        raise
    try:
        os.unlink(name)  # the mapping stays valid; the space is freed with it
    except OSError:  # pragma: no cover - Windows: removed once the array is collected
        weakref.finalize(subset, _remove_quietly, name)
    return subset


def _remove_quietly(name: str) -> None:  # pragma: no cover - Windows only
    with contextlib.suppress(OSError):
        os.unlink(name)


def disk_backed(X):
    """Keep the cross-validation folds of a memory-mapped ``X`` on disk.

    scikit-learn cuts each fold out of ``X`` with ``X[indices]``, which copies a memory map
    into memory: the folds of a window cache would hold nearly the whole dataset in RAM.
    The returned array is ``X`` itself (a view, nothing is copied) whose row selections of
    64 MiB or more are written block by block to a temporary file next to ``X`` and returned
    as a copy-on-write memory map of it (readable and writable like an in-memory array; the
    file is unlinked at once and its space freed with the array). ``skemotion benchmark``
    does this for a cached dataset.

    Parameters
    ----------
    X : array-like
        Typically the ``X`` of a loader called with ``cache_dir=``.

    Returns
    -------
    X : ndarray
        A :class:`numpy.memmap` view of ``X`` with the behaviour above when ``X`` is a memory
        map of a file; otherwise ``X`` unchanged.

    Examples
    --------
    >>> import numpy as np, pathlib, tempfile
    >>> from skemotion.datasets import disk_backed
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "X.npy"
    >>> np.save(file, np.zeros((4, 2, 3), dtype=np.float32))
    >>> X = disk_backed(np.load(file, mmap_mode="r"))
    >>> X[[0, 2]].shape  # small: an ordinary in-memory copy
    (2, 2, 3)
    >>> disk_backed(np.ones(3)) is not None  # not a memory map: returned as it is
    True
    """
    if isinstance(X, np.memmap) and X.filename is not None and X.ndim >= 1:
        return X.view(DiskBackedRows)
    return X
