"""Real-scale rehearsal of the SEED and DEAP loaders: full-size copies, load time and memory.

Writes copies of SEED's ``Preprocessed_EEG`` and DEAP's ``data_preprocessed_python`` with the
real layout and sizes into a temporary folder (removed afterwards, also on an error or Ctrl-C),
then measures :func:`~skemotion.datasets.load_seed` and :func:`~skemotion.datasets.load_deap`
on the first 1, 3, ... subjects against a plain read of the same files. Nothing real is
downloaded, and the signals are not the datasets' own.

The copies
    SEED: 15 subjects x 3 sessions, ``{subject}_{yyyymmdd}.mat`` (the published dates), MATLAB
    v5 written uncompressed by ``scipy.io.savemat`` like the real files, each with 15 float64
    variables ``{initials}_eeg{n}`` of shape (62, 200 * T_n + 1) for the real trial lengths
    T_n (185-265 s), and ``label.mat``: about 337 MB a file, 15.2 GB in all.
    DEAP: 32 Python 2 pickles ``sXX.dat`` of ``{'labels': (40, 4), 'data': (40, 40, 8064)}``
    float64: 103 MB a file, 3.3 GB in all.
    The EEG comes from the package's synthetic generator (``make_eeg_emotion``, montage seed62
    at 200 Hz or deap32 at 128 Hz): for each subject a pool of continuous 60 s (SEED) or 64 s
    (DEAP) trials of every class is generated once, and each trial of the copy is a seeded
    random sequence of pieces of the pool trials of its own class (SEED: its label; DEAP: the
    valence-arousal quadrant of its random ratings, uniform in [1, 9]), times a per-subject gain.
    The trials therefore carry class information (a DE + logistic regression fold is above
    chance) and the pieces join with a step. DEAP's 8 peripheral channels are low-amplitude
    white noise (standard deviation 0.5). At most one file's arrays are in memory while writing.

The measurements, each in a fresh process (``python benchmarks/scale.py _child ...``), so that
its peak memory is that of the load alone
    loader: ``load_seed(path, subjects=[1..n], verbose=False)`` or ``load_deap`` (1 s windows, no
    overlap): wall time, peak RSS, ``X.nbytes`` (float32), peak / X and (peak - baseline) / X,
    where the baseline is the RSS after the imports, and MB/s = bytes of the selected files /
    wall time. Peak RSS is the process's ``VmHWM`` (``/proc/self/status``), not ``ru_maxrss``:
    on Linux a child's ``ru_maxrss`` starts at the RSS of the parent that started it (the
    parent holds a file's arrays while writing), ``VmHWM`` is that of the child's own memory.
    The memory goal is (peak - baseline) <= 1.5 x ``X.nbytes``. Each process's line also gives
    the CPU time (user, system) and page faults of the measured call.
    plain read: ``scipy.io.loadmat(file)`` of every selected SEED file, whole, one at a time;
    ``pickle.load(f, encoding="latin1")`` of every selected DEAP file: the cost of reading the
    files at all.
    Order: plain read, loader, then both again (``--repeats``); the tables give the best time of
    the repetitions and the largest peak. The page cache cannot be dropped without root: the
    files were just written, so they are read from memory when they fit in it (the script
    prints RAM and file sizes). ``--cold`` evicts the selected files from the page cache before
    every measurement (``fsync`` then ``posix_fadvise(POSIX_FADV_DONTNEED)`` on each file, which
    needs no root); a virtual machine's host may still serve them from its own cache.
    Fresh memory: before the loads, a new process times writing 1 GB of freshly allocated memory.
    On a virtual machine whose host takes idle guest memory back, this costs seconds per GB
    (2.4-3.1 s measured on a 2-core development VM, against 0.06 s for recently freed memory),
    and ``X`` is fresh memory while a plain read reuses the buffers it frees: read the loader
    times beside that figure. With ``--prewarm`` each loader process first writes and frees 95%
    of ``X``'s estimated size (before its baseline; not timed), so that ``X`` gets recently
    used memory: the loader's times without that cost (its peak RSS, at least ``X``, is
    unchanged). Another process cannot do this: the host takes memory back within seconds.
    ``--cache``: the loaders' ``cache_dir=`` option (an on-disk window cache): one process builds
    it, a second reuses it (time, peak RSS, then the time of one pass over ``X``); skipped with a
    message if the loader has no such parameter.
    ``--fold``: one leave-one-subject-out fold of ``skemotion benchmark --dataset seed --models
    de_lr --max-folds 1`` on the SEED copy (all its subjects), wall time and peak RSS, without
    and with ``--cache-dir`` (twice: build, reuse; skipped with a message if the command has no
    such option): wall time, peak RSS and the peak of the anonymous memory (``RssAnon``: the
    process's own allocations, without the reclaimable file-backed pages of a memory-mapped
    cache), sampled every 0.1 s. In memory a fold holds ``X`` and a copy of its training part
    (scikit-learn's indexing), about 2.1 x ``X``: the run without cache is skipped with a
    message when 2.3 x the estimated ``X`` exceeds the available memory.

Usage::

    python benchmarks/scale.py --datasets seed deap --subjects 2 --counts 1 2   # a few minutes
    python benchmarks/scale.py --datasets deap --counts 1 3 all                 # 3.3 GB
    python benchmarks/scale.py --datasets seed --counts 1 3 all --cache         # 15.2 GB
    python benchmarks/scale.py --datasets seed --subjects 4 --counts 4 --fold   # one fold
    python benchmarks/scale.py --datasets deap --keep /data/scale               # keep the copy

Prints the writing time and GB written, one line per measured process, and one markdown table
per dataset (paste into benchmarks/RESULTS.md). ``--keep DIR`` writes into DIR and keeps the
files; a later run with the same ``--keep DIR``, dataset and subject count reuses them.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
SEED_SECONDS = (235, 233, 206, 238, 185, 195, 237, 216, 265, 237, 235, 233, 235, 238, 206)
SEED_TRIAL_LABELS = (1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1)
SEED_SFREQ = 200
DEAP_SAMPLES = 8064  # 3 s baseline + 60 s at 128 Hz
FULL = {"seed": 15, "deap": 32}
FOLDER = {"seed": "Preprocessed_EEG", "deap": "data_preprocessed_python"}
MARKER = ".scale-fixture.json"
RESULT = "SCALE-RESULT "
GB = 1e9
# float32 X bytes per file byte: SEED 62 ch float64 -> float32; DEAP 32 of 40 channels, 60 of 63 s
X_PER_FILE_BYTE = {"seed": 0.5, "deap": 0.5 * 32 / 40 * 7680 / 8064}
FOLD_MEMORY = 2.3  # peak RSS of an in-memory de_lr benchmark fold / X (X and its training part)


# ----------------------------------------------------------------------------- memory figures


def _status() -> dict:
    """VmHWM (peak RSS), VmRSS, RssAnon and RssFile of this process, in bytes."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0]) * 1024
    return out


def _cpu() -> tuple[float, float, int]:
    """User and system CPU seconds and page faults (minor + major) of this process so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime, ru.ru_stime, ru.ru_minflt + ru.ru_majflt


def _meminfo() -> dict:
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = int(value.split()[0]) * 1024
    return out


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# ----------------------------------------------------------------------------- the copies


def _initials(subject: int) -> str:
    """Made-up lowercase initials, 2 or 3 letters, one set per subject."""
    return "".join(chr(97 + (7 * subject + 11 * k) % 26) for k in range(2 + subject % 2))


def _pool(montage: str, n_classes: int, windows: int, seed: int) -> dict[int, np.ndarray]:
    """``{class: (n_trials, n_channels, n_samples) float32}``: continuous synthetic trials of one
    subject (3 per class), each ``windows`` x 2 s long."""
    from skemotion.datasets import make_eeg_emotion

    d = make_eeg_emotion(
        montage,
        n_subjects=1,
        n_classes=n_classes,
        n_trials_per_class=3,
        n_windows_per_trial=windows,
        window_seconds=2.0,
        random_state=seed,
    )
    n_trials = len(d.X) // windows
    n_ch, n_t = d.X.shape[1:]
    # windows are consecutive pieces of each trial, in order: glue them back
    trials = d.X.reshape(n_trials, windows, n_ch, n_t).transpose(0, 2, 1, 3)
    trials = np.ascontiguousarray(trials).reshape(n_trials, n_ch, windows * n_t)
    labels = d.y[::windows]
    return {c: trials[labels == c] for c in range(n_classes)}


def _fill(rng, trials: np.ndarray, out: np.ndarray, gain: float) -> None:
    """Fill ``out`` (n_channels, n) with random pieces of ``trials`` (each from a random start to
    the end of a random trial) times ``gain``."""
    n_samples, length = out.shape[1], trials.shape[2]
    pos = 0
    while pos < n_samples:
        src = trials[rng.integers(len(trials))]
        start = int(rng.integers(length))
        n = min(length - start, n_samples - pos)
        np.multiply(src[:, start : start + n], gain, out=out[:, pos : pos + n])
        pos += n


class _Clock:
    """Sums of the time spent in each phase of the writing."""

    def __init__(self):
        self.times: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, phase: str) -> None:
        t = time.perf_counter()
        self.times[phase] = self.times.get(phase, 0.0) + t - self._t
        self._t = t


def _fsync(file: Path) -> None:
    fd = os.open(file, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_seed(folder: Path, n_subjects: int, seed: int) -> dict:
    """SEED's Preprocessed_EEG with the first ``n_subjects`` subjects; the writing's figures."""
    import scipy.io

    from skemotion.datasets._seed import SEED_SESSION_DATES

    folder.mkdir(parents=True, exist_ok=True)
    clock = _Clock()
    labels = np.array([SEED_TRIAL_LABELS], dtype=np.int16)
    scipy.io.savemat(folder / "label.mat", {"label": labels})
    n_files = 0
    for subject in range(1, n_subjects + 1):
        rng = np.random.default_rng([seed, subject])
        pool = _pool("seed62", 3, 30, seed * 1000 + subject)  # 60 s trials
        gain = float(rng.lognormal(0.0, 0.3))
        clock.lap("pool")
        for date in SEED_SESSION_DATES[subject]:
            variables = {}
            for n, (secs, label) in enumerate(zip(SEED_SECONDS, SEED_TRIAL_LABELS), 1):
                x = np.empty((62, SEED_SFREQ * secs + 1))
                _fill(rng, pool[label + 1], x, gain)  # classes 0, 1, 2 = labels -1, 0, 1
                variables[f"{_initials(subject)}_eeg{n}"] = x
            clock.lap("fill")
            file = folder / f"{subject}_{date}.mat"
            scipy.io.savemat(file, variables, do_compression=False)
            del variables
            clock.lap("write")
            _fsync(file)
            clock.lap("fsync")
            n_files += 1
        del pool
    return {"files": n_files, "times": clock.times}


def write_deap(folder: Path, n_subjects: int, seed: int) -> dict:
    """DEAP's data_preprocessed_python with subjects 1..``n_subjects``; the writing's figures."""
    sys.path.insert(0, str(HERE.parents[1] / "tests"))
    from _fixtures_datasets import dump_py2_pickle

    folder.mkdir(parents=True, exist_ok=True)
    clock = _Clock()
    for subject in range(1, n_subjects + 1):
        rng = np.random.default_rng([seed, 100 + subject])
        pool = _pool("deap32", 4, 32, seed * 1000 + 100 + subject)  # 64 s trials
        gain = float(rng.lognormal(0.0, 0.3))
        clock.lap("pool")
        labels = rng.uniform(1.0, 9.0, size=(40, 4))
        data = np.empty((40, 40, DEAP_SAMPLES))
        for t in range(40):
            quadrant = 2 * int(labels[t, 0] > 5) + int(labels[t, 1] > 5)  # LVLA LVHA HVLA HVHA
            _fill(rng, pool[quadrant], data[t, :32], gain)
            data[t, 32:] = 0.5 * rng.standard_normal((8, DEAP_SAMPLES))
        clock.lap("fill")
        file = folder / f"s{subject:02d}.dat"
        dump_py2_pickle({"labels": labels, "data": data}, file)
        del data, pool
        clock.lap("write")
        _fsync(file)
        clock.lap("fsync")
    return {"files": n_subjects, "times": clock.times}


def selected_files(dataset: str, folder: Path, n: int) -> list[Path]:
    """The files the loader reads for subjects 1..n."""
    if dataset == "seed":
        return [f for s in range(1, n + 1) for f in sorted(folder.glob(f"{s}_*.mat"))]
    return [folder / f"s{s:02d}.dat" for s in range(1, n + 1)]


def make_copy(dataset: str, root: Path, n_subjects: int, seed: int) -> Path:
    """Write (or, with a matching marker from an earlier ``--keep`` run, reuse) the copy."""
    folder = root / FOLDER[dataset]
    marker = folder / MARKER
    wanted = {"subjects": n_subjects, "seed": seed, "complete": True}
    if marker.is_file() and json.loads(marker.read_text()) == wanted:
        size = _du(folder)
        print(f"{dataset}: reusing the copy in {folder} ({size / GB:.2f} GB)")
        return folder
    if marker.is_file():  # an earlier copy of another size, or an interrupted one
        shutil.rmtree(folder)
    elif folder.exists() and any(folder.iterdir()):
        raise SystemExit(f"{folder} exists and is not a copy written by this script: not touched")
    folder.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({**wanted, "complete": False}))
    t0 = time.perf_counter()
    writer = write_seed if dataset == "seed" else write_deap
    info = writer(folder, n_subjects, seed)
    total = time.perf_counter() - t0
    marker.write_text(json.dumps(wanted))
    size = _du(folder)
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in info["times"].items())
    print(
        f"{dataset}: wrote {info['files']} files, {size / GB:.2f} GB in {total:.1f} s "
        f"({phases}): {size / GB / total:.2f} GB/s including the fsync"
    )
    if n_subjects < FULL[dataset]:
        scale = FULL[dataset] / n_subjects
        print(
            f"  extrapolated to the full copy ({FULL[dataset]} subjects): about "
            f"{size * scale / GB:.1f} GB in {total * scale:.0f} s at this rate"
        )
    return folder


# ----------------------------------------------------------------------------- child processes


def _child(argv: list[str]) -> None:
    """One measurement in this fresh process; prints one ``RESULT`` JSON line."""
    kind, dataset, folder = argv[0], argv[1], Path(argv[2])
    if kind == "touch":  # the cost of fresh memory: allocate and write argv[3] bytes
        t0 = time.perf_counter()
        np.empty(int(argv[3]) // 4, dtype=np.float32)[:: 4096 // 4] = 1.0
        out = {"wall": time.perf_counter() - t0}
    elif kind == "fold":
        out = _child_fold(argv[3:])
    elif kind == "plain":
        out = _child_plain(dataset, folder, int(argv[3]))
    else:  # load: n, cache folder or "-", bytes to write and free before the load (0: none)
        cache_dir = None if argv[4] == "-" else argv[4]
        out = _child_load(dataset, folder, int(argv[3]), cache_dir, int(argv[5]))
    print(RESULT + json.dumps(out), flush=True)


def _child_plain(dataset: str, folder: Path, n: int) -> dict:
    import pickle

    import scipy.io

    files = selected_files(dataset, folder, n)
    if len(files) != n * (3 if dataset == "seed" else 1):
        raise FileNotFoundError(f"{folder}: {len(files)} files for {n} subjects")
    base, cpu = _status(), _cpu()
    t0 = time.perf_counter()
    for file in files:
        if dataset == "seed":
            content = scipy.io.loadmat(file)
        else:
            with open(file, "rb") as f:
                content = pickle.load(f, encoding="latin1")
        del content
    wall = time.perf_counter() - t0
    user, sys_, faults = (b - a for a, b in zip(cpu, _cpu()))
    return {
        "wall": wall,
        "user": user,
        "sys": sys_,
        "faults": faults,
        "base": base["VmRSS"],
        "peak": _status()["VmHWM"],
    }


def _child_load(dataset: str, folder: Path, n: int, cache_dir, prewarm: int) -> dict:
    from skemotion.datasets import load_deap, load_seed

    if prewarm:  # no larger than X, so the peak stays that of the load
        np.empty(prewarm // 4, dtype=np.float32)[:: 4096 // 4] = 1.0

    loader = load_seed if dataset == "seed" else load_deap
    kwargs = {"subjects": list(range(1, n + 1)), "verbose": False}
    if cache_dir is not None:
        kwargs["cache_dir"] = cache_dir
    base, cpu = _status(), _cpu()
    t0 = time.perf_counter()
    data = loader(folder, **kwargs)
    wall = time.perf_counter() - t0
    after = _status()
    user, sys_, faults = (b - a for a, b in zip(cpu, _cpu()))
    X = data.X
    out = {
        "wall": wall,
        "user": user,
        "sys": sys_,
        "faults": faults,
        "base": base["VmRSS"],
        "peak": after["VmHWM"],
        "anon": after["RssAnon"],
        "file": after["RssFile"],
        "x_nbytes": int(X.nbytes),
        "x_shape": list(X.shape),
        "x_dtype": str(X.dtype),
        "x_type": type(X).__name__,
        "x_writeable": bool(X.flags.writeable),
        "classes": np.bincount(np.asarray(data.y)).tolist(),
        "subjects": np.unique(np.asarray(data.groups)).tolist(),
    }
    if cache_dir is not None:  # what a memory-mapped X costs when it is read
        t0 = time.perf_counter()
        total = 0.0
        for i in range(0, len(X), 4096):
            total += float(np.asarray(X[i : i + 4096]).sum(dtype=np.float64))
        out["pass"] = time.perf_counter() - t0
        out["peak_after_pass"] = _status()["VmHWM"]
    return out


def _child_fold(argv: list[str]) -> dict:
    """Run the command in ``argv`` and report its wall time, peak RSS (``ru_maxrss`` of the
    children: this wrapper is small) and the peak of its anonymous memory (``RssAnon``, what
    the process allocated itself, without the file-backed pages of memory maps and the page
    cache), sampled every 0.1 s from ``/proc``."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak_anon = 0
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("RssAnon:"):
                    peak_anon = max(peak_anon, int(line.split()[1]) * 1024)
        except (OSError, ValueError, IndexError):
            pass
        time.sleep(0.1)
    err = proc.stderr.read()
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {"wall": wall, "peak": peak, "anon": peak_anon, "rc": proc.returncode,
            "tail": err[-2000:]}  # fmt: skip


def run_child(*args) -> dict | None:
    """Run ``scale.py _child *args`` and return its result (None, with its output shown, if
    it failed)."""
    cmd = [sys.executable, str(HERE), "_child", *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT) :])
    print(f"    FAILED (exit {proc.returncode}): {' '.join(cmd[3:])}")
    print("    " + (proc.stdout + proc.stderr)[-3000:].replace("\n", "\n    "))
    return None


def evict(files: list[Path]) -> None:
    """Drop the files' pages from the page cache (no root needed for one's own files)."""
    for file in files:
        fd = os.open(file, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


# ----------------------------------------------------------------------------- measurements


def _mbps(nbytes: int, secs: float) -> float:
    return nbytes / 1e6 / secs


def prewarm_bytes(dataset: str, files: list[Path], prewarm: bool) -> int:
    """With ``--prewarm``: 95% of the estimated ``X`` of ``files`` (0 without)."""
    if not prewarm:
        return 0
    return int(0.95 * X_PER_FILE_BYTE[dataset] * sum(f.stat().st_size for f in files))


def measure_loading(dataset, folder, counts, repeats, cold, prewarm) -> list[dict]:
    rows = []
    for n in counts:
        files = selected_files(dataset, folder, n)
        nbytes = sum(f.stat().st_size for f in files)
        plain, load = [], []
        for rep in range(1, repeats + 1):
            for kind, runs in (("plain", plain), ("load", load)):
                if cold:
                    evict(files)
                extra = ["-", prewarm_bytes(dataset, files, prewarm)] if kind == "load" else []
                r = run_child(kind, dataset, folder, n, *extra)
                if r is None:
                    continue
                runs.append(r)
                what = "plain read" if kind == "plain" else "loader    "
                line = (
                    f"  {dataset} n={n} {what} run {rep}: {r['wall']:7.2f} s (cpu user "
                    f"{r['user']:.2f} s, sys {r['sys']:.2f} s, {r['faults'] / 1e3:.0f}k page "
                    f"faults), {_mbps(nbytes, r['wall']):5.0f} MB/s, peak RSS "
                    f"{r['peak'] / GB:.2f} GB (after imports {r['base'] / GB:.2f})"
                )
                if kind == "load":
                    line += (
                        f", X {tuple(r['x_shape'])} {r['x_dtype']} {r['x_nbytes'] / GB:.2f} GB,"
                        f" classes {r['classes']}, subjects {r['subjects']}"
                    )
                print(line, flush=True)
        if not plain or not load:
            continue
        x = load[0]["x_nbytes"]
        peak = max(r["peak"] for r in load)
        base = min(r["base"] for r in load)
        t_load = min(r["wall"] for r in load)
        t_plain = min(r["wall"] for r in plain)
        rows.append(
            {
                "n": n,
                "files": nbytes,
                "x": x,
                "t_load": t_load,
                "t_plain": t_plain,
                "peak": peak,
                "base": base,
                "plain_peak": max(r["peak"] for r in plain),
            }
        )
    return rows


def loading_table(dataset: str, rows: list[dict], notes: str) -> None:
    print(
        f"\n{dataset.upper()} (1 s windows, no overlap; times: best of the repetitions; peak "
        f"RSS: the largest; goal: (peak - after imports) <= 1.5 x X{notes})\n"
    )
    print(
        "| subjects | files GB | X GB (float32) | loader s | loader MB/s | plain read s | "
        "plain MB/s | loader / plain time | peak RSS GB | plain peak GB | peak / X | "
        "(peak - imports) / X | goal <= 1.5x |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    for r in rows:
        above = (r["peak"] - r["base"]) / r["x"]
        print(
            f"| {r['n']} | {r['files'] / GB:.2f} | {r['x'] / GB:.2f} | {r['t_load']:.2f} | "
            f"{_mbps(r['files'], r['t_load']):.0f} | {r['t_plain']:.2f} | "
            f"{_mbps(r['files'], r['t_plain']):.0f} | {r['t_load'] / r['t_plain']:.2f} | "
            f"{r['peak'] / GB:.2f} | {r['plain_peak'] / GB:.2f} | {r['peak'] / r['x']:.2f} | "
            f"{above:.2f} | {'yes' if above <= 1.5 else 'no'} |"
        )
    print()


def measure_cache(dataset, folder, counts, cold, prewarm, workdir) -> None:
    from skemotion.datasets import load_deap, load_seed

    loader = load_seed if dataset == "seed" else load_deap
    if "cache_dir" not in inspect.signature(loader).parameters:
        print(f"{loader.__name__} has no cache_dir parameter in this version: cache rows skipped")
        return
    rows = []
    for n in counts:
        cache = workdir / "cache" / f"{dataset}-{n}"
        files = selected_files(dataset, folder, n)
        runs = []
        for what in ("build", "reuse"):
            if cold:
                evict(files)
            warm = prewarm_bytes(dataset, files, prewarm)
            r = run_child("load", dataset, folder, n, cache, warm)
            if r is None:
                break
            runs.append(r)
            print(
                f"  {dataset} n={n} cache {what}: {r['wall']:.2f} s, peak RSS "
                f"{r['peak'] / GB:.2f} GB (after imports {r['base'] / GB:.2f}; at the end anon "
                f"{r['anon'] / GB:.2f}, file-backed {r['file'] / GB:.2f}), X {r['x_type']} "
                f"{tuple(r['x_shape'])} writeable={r['x_writeable']}; one pass over X "
                f"{r['pass']:.2f} s, peak RSS after it {r['peak_after_pass'] / GB:.2f} GB",
                flush=True,
            )
        size = _du(cache) if cache.exists() else 0
        shutil.rmtree(cache, ignore_errors=True)
        if len(runs) == 2:
            rows.append((n, runs, size))
    if not rows:
        return
    print(f"\n{dataset.upper()} window cache (cache_dir=; a fresh process for each load)\n")
    print(
        "| subjects | X GB | cache GB | build s | build peak RSS GB | reuse s | "
        "reuse peak RSS GB | pass over X s (reuse) | X type (reuse) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for n, (b, r), size in rows:
        print(
            f"| {n} | {b['x_nbytes'] / GB:.2f} | {size / GB:.2f} | {b['wall']:.2f} | "
            f"{b['peak'] / GB:.2f} | {r['wall']:.2f} | {r['peak'] / GB:.2f} | "
            f"{r['pass']:.2f} | {r['x_type']} |"
        )
    print()


def measure_fold(root: Path, folder: Path, workdir: Path) -> None:
    exe = Path(sys.executable).parent / "skemotion"
    if not exe.exists():
        print(f"--fold: no skemotion command next to {sys.executable}: skipped")
        return
    x_bytes = sum(f.stat().st_size for f in folder.glob("*_*.mat")) / 2  # float64 -> float32
    available = _meminfo()["MemAvailable"]
    in_memory_fits = FOLD_MEMORY * x_bytes <= available
    if not in_memory_fits:
        print(
            f"--fold without cache skipped: it needs about {FOLD_MEMORY} x X = "
            f"{FOLD_MEMORY * x_bytes / GB:.1f} GB, {available / GB:.1f} GB are available\n"
        )
    helptext = subprocess.run(
        [str(exe), "benchmark", "--help"], capture_output=True, text=True
    ).stdout
    variants = [("without cache", [])] if in_memory_fits else []
    if "--cache-dir" in helptext:
        variants.append(("with --cache-dir", ["--cache-dir", str(workdir / "fold-cache")]))
        variants.append(("with --cache-dir, again", ["--cache-dir", str(workdir / "fold-cache")]))
    else:
        print("skemotion benchmark has no --cache-dir option in this version: cached fold skipped")
    rows = []
    for i, (label, extra) in enumerate(variants):
        out = workdir / f"fold-{i}"
        cmd = [
            str(exe), "benchmark", "--dataset", "seed", "--data-path", str(root),
            "--models", "de_lr", "--max-folds", "1", "--output", str(out), "--quiet", *extra,
        ]  # fmt: skip
        r = run_child("fold", "seed", root, *cmd)
        if r is None:
            continue
        if r["rc"] != 0:
            print(f"  fold {label}: exit {r['rc']}\n    " + r["tail"].replace("\n", "\n    "))
            continue
        score = ""
        results = out / "results.csv"
        if results.is_file():
            with open(results, newline="") as f:
                for row in csv.DictReader(f):
                    if row.get("model") == "de_lr":
                        score = (
                            f"{float(row['balanced_accuracy']):.3f} (train {row['n_train']}, "
                            f"test {row['n_test']} windows, fit {float(row['fit_time_s']):.1f} s)"
                        )
        print(
            f"  fold {label}: {r['wall']:.1f} s, peak RSS {r['peak'] / GB:.2f} GB, peak anonymous "
            f"{r['anon'] / GB:.2f} GB, de_lr balanced accuracy {score or '?'}",
            flush=True,
        )
        rows.append((label, r, score))
    if rows:
        print(
            "\nOne SEED fold: `skemotion benchmark --dataset seed --models de_lr --max-folds 1`\n"
        )
        print("| run | wall s | peak RSS GB | peak anonymous GB | de_lr balanced accuracy |")
        print("|---|---:|---:|---:|---|")
        for label, r, score in rows:
            print(f"| {label} | {r['wall']:.1f} | {r['peak'] / GB:.2f} | {r['anon'] / GB:.2f} | "
                  f"{score or '?'} |")  # fmt: skip
        print()


# ----------------------------------------------------------------------------- main


def _counts(values: list[str], n_subjects: int) -> list[int]:
    out = []
    for v in values:
        n = n_subjects if v == "all" else int(v)
        if not 1 <= n <= n_subjects:
            print(f"count {v}: outside 1-{n_subjects} (the copy's subjects), skipped")
        elif n not in out:
            out.append(n)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=tuple(FULL), default=list(FULL))
    parser.add_argument(
        "--subjects", type=int, default=None, help="write subjects 1..N (default: all)"
    )
    parser.add_argument(
        "--counts", nargs="+", default=["1", "3", "all"], help="subject counts to load"
    )
    parser.add_argument("--repeats", type=int, default=2, help="plain read + loader, N times")
    parser.add_argument("--cold", action="store_true", help="evict the files before each load")
    parser.add_argument(
        "--prewarm",
        action="store_true",
        help="loader processes write and free X's size of memory first",
    )
    parser.add_argument("--cache", action="store_true", help="measure the loaders' cache_dir=")
    parser.add_argument("--fold", action="store_true", help="time one SEED benchmark fold")
    parser.add_argument("--keep", metavar="DIR", help="write into DIR and keep the files")
    parser.add_argument("--seed", type=int, default=0, help="seed of the signals")
    args = parser.parse_args()
    if args.repeats < 1 or (args.subjects is not None and args.subjects < 1):
        parser.error("--repeats and --subjects must be >= 1")
    for v in args.counts:
        if v != "all" and not v.isdigit():
            parser.error(f"--counts: {v!r} is neither a number nor 'all'")

    import scipy

    import skemotion

    mem = _meminfo()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, RAM "
        f"{mem['MemTotal'] / GB:.1f} GB ({mem['MemAvailable'] / GB:.1f} GB available), "
        f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__},"
        f" skemotion {skemotion.__version__}"
    )
    if args.keep:
        root = Path(args.keep).expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
    else:
        root = Path(tempfile.mkdtemp(prefix="skemotion-scale-"))
    work = Path(tempfile.mkdtemp(prefix="skemotion-scale-work-", dir=root))
    print(f"files in {root} ({shutil.disk_usage(root).free / GB:.0f} GB free there)\n")
    try:
        for dataset in args.datasets:
            n_subjects = min(args.subjects or FULL[dataset], FULL[dataset])
            ds_root = root / dataset
            folder = make_copy(dataset, ds_root, n_subjects, args.seed)
            counts = _counts(args.counts, n_subjects)
            total = sum(f.stat().st_size for f in selected_files(dataset, folder, n_subjects))
            mem = _meminfo()
            x_est = total * X_PER_FILE_BYTE[dataset]
            fits = "fit" if total + x_est < mem["MemAvailable"] else "do NOT fit"
            print(
                f"{dataset}: files {total / GB:.2f} GB, X of them all about {x_est / GB:.2f} GB, "
                f"RAM {mem['MemTotal'] / GB:.1f} GB, available {mem['MemAvailable'] / GB:.1f} GB,"
                f" page cache {mem['Cached'] / GB:.1f} GB: files and X {fits} in memory "
                f"together (page cache "
                f"{'evicted before each load, --cold' if args.cold else 'not dropped: no root'})",
                flush=True,
            )
            touch = run_child("touch", dataset, folder, 10**9) or {"wall": float("nan")}
            print(
                f"first touch of 1 GB of fresh memory in a new process: {touch['wall']:.2f} s; "
                f"load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            rows = measure_loading(dataset, folder, counts, args.repeats, args.cold, args.prewarm)
            notes = "".join(
                note
                for flag, note in (
                    (args.cold, "; files evicted from the page cache before each process"),
                    (args.prewarm, "; loader processes prewarmed"),
                )
                if flag
            )
            loading_table(dataset, rows, notes)
            print(f"load average at the end: {os.getloadavg()[0]:.1f}\n")
            if args.cache:
                measure_cache(dataset, folder, counts, args.cold, args.prewarm, work)
            if args.fold and dataset == "seed":
                measure_fold(ds_root, folder, work)
            if not args.keep:
                shutil.rmtree(ds_root, ignore_errors=True)
        if args.fold and "seed" not in args.datasets:
            print("--fold needs the SEED copy (--datasets seed): skipped")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        _child(sys.argv[2:])
    else:
        main()
