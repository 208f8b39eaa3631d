"""Writers of tiny dataset copies in the exact original formats (random values).

Each writer reproduces the container, variable names, nesting, dtypes and channel order of the
real files (``shared/specs/DATASETS.md``), with few trials and a few seconds per trial, and
returns what the test needs to check the loader (labels, signals).
"""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np
import scipy.io

from skemotion._montages import EMOTIV14, GAMEEMO14

# ----------------------------------------------------------------------------- Python 2 pickles


class _Py2Pickler(pickle._Pickler):
    """Protocol 2 as Python 2's cPickle wrote it (DEAP, WESAD): byte strings and ASCII text as
    ``BINSTRING`` (Python 2 ``str``), numpy globals under ``numpy.core.multiarray``. Python 3's
    own protocol 2 would instead wrap bytes in ``_codecs.encode`` calls."""

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_binstring(self, data: bytes):
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)

    def save_bytes(self, obj):
        self._save_binstring(obj)
        self.memoize(obj)

    def save_str(self, obj):
        if obj.isascii():
            self._save_binstring(obj.encode("ascii"))
            self.memoize(obj)
        else:
            pickle._Pickler.save_str(self, obj)

    def save_global(self, obj, name=None):
        module = obj.__module__.replace("numpy._core", "numpy.core")
        self.write(pickle.GLOBAL + f"{module}\n{name or obj.__qualname__}\n".encode())
        self.memoize(obj)

    dispatch[bytes] = save_bytes
    dispatch[str] = save_str


def dump_py2_pickle(obj, file: Path) -> None:
    """Write ``obj`` as a Python 2 protocol-2 pickle (read with ``encoding='latin1'``)."""
    with open(file, "wb") as f:
        _Py2Pickler(f, protocol=2).dump(obj)


# ----------------------------------------------------------------------------------- DEAP


def write_deap(root: Path, subjects=(1, 2), n_trials=3, seconds=4, seed=0, matlab=False) -> dict:
    """``root/data_preprocessed_python/sXX.dat``: Python 2 pickle of {'data', 'labels'}.

    With ``matlab=True``: the MATLAB copy ``root/data_preprocessed_matlab/sXX.mat`` (v5).
    """
    rng = np.random.default_rng(seed)
    folder = Path(root) / ("data_preprocessed_matlab" if matlab else "data_preprocessed_python")
    folder.mkdir(parents=True, exist_ok=True)
    n_samples = 384 + seconds * 128
    out = {}
    for s in subjects:
        data = rng.standard_normal((n_trials, 40, n_samples))  # float64 as in the real files
        labels = rng.uniform(1, 9, size=(n_trials, 4))
        labels[0, :] = 5.0  # exactly on the threshold: exercises > vs >=
        if matlab:
            scipy.io.savemat(folder / f"s{s:02d}.mat", {"data": data, "labels": labels})
        else:
            dump_py2_pickle({"labels": labels, "data": data}, folder / f"s{s:02d}.dat")
        out[s] = {"data": data, "labels": labels}
    return out


# ----------------------------------------------------------------------------------- SEED

SEED_LABELS = [1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1]
SEED_IV_LABELS = {
    1: [1, 2, 3, 0, 2, 0, 0, 1, 0, 1, 2, 1, 1, 1, 2, 3, 2, 2, 3, 3, 0, 3, 0, 3],
    2: [2, 1, 3, 0, 0, 2, 0, 2, 3, 3, 2, 3, 2, 0, 1, 1, 2, 1, 0, 3, 0, 1, 3, 1],
    3: [1, 2, 2, 1, 3, 3, 3, 1, 1, 2, 1, 0, 2, 3, 3, 0, 2, 3, 0, 0, 2, 0, 1, 0],
}
_INITIALS = {1: "djc", 2: "jl", 3: "jj", 4: "lqj"}
_DATES = {
    1: ["20131027", "20131030", "20131107"],
    2: ["20140404", "20140413", "20140419"],
    3: ["20140603", "20140611", "20140629"],
    4: ["20140621", "20140702", "20140705"],
}


def _seed_trial_seconds(rng, n):
    return rng.integers(2, 5, size=n)  # a few seconds per trial (real: 185-265 s)


def write_seed(root: Path, subjects=(1, 2), sessions=(1, 2, 3), seed=0) -> dict:
    """``root/Preprocessed_EEG/{subject}_{date}.mat`` (15 x (62, 200*T+1) float64) + label.mat."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / "Preprocessed_EEG"
    folder.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(folder / "label.mat", {"label": np.array([SEED_LABELS], dtype=np.int16)})
    out = {}
    for s in subjects:
        for sess in sessions:
            secs = _seed_trial_seconds(rng, 15)
            trials = {
                f"{_INITIALS[s]}_eeg{t + 1}": rng.standard_normal((62, 200 * secs[t] + 1))
                for t in range(15)
            }
            name = f"{s}_{_DATES[s][sess - 1]}.mat"
            scipy.io.savemat(folder / name, trials)
            out[(s, sess)] = [trials[f"{_INITIALS[s]}_eeg{t + 1}"] for t in range(15)]
    return out


def write_seed_iv(root: Path, subjects=(1, 2), sessions=(1, 2, 3), seed=0) -> dict:
    """``root/eeg_raw_data/{session}/{subject}_{date}.mat`` with 24 x (62, n) float64."""
    rng = np.random.default_rng(seed)
    out = {}
    for sess in sessions:
        folder = Path(root) / "eeg_raw_data" / str(sess)
        folder.mkdir(parents=True, exist_ok=True)
        for s in subjects:
            secs = rng.integers(4, 9, size=24)
            trials = {
                f"{_INITIALS[s]}_eeg{t + 1}": rng.standard_normal((62, 200 * secs[t]))
                for t in range(24)
            }
            scipy.io.savemat(folder / f"{s}_{_DATES[s][sess - 1]}.mat", trials)
            out[(s, sess)] = [trials[f"{_INITIALS[s]}_eeg{t + 1}"] for t in range(24)]
    return out


# ----------------------------------------------------------------------------------- AMIGOS


def _cell(items) -> np.ndarray:
    cell = np.empty((1, len(items)), dtype=object)
    for i, item in enumerate(items):
        cell[0, i] = item
    return cell


def write_amigos(
    root: Path, subjects=(1, 2), seconds=(3, 4), nested=False, nan_trial=None, seed=0
) -> dict:
    """``Data_Preprocessed_PXX.mat`` with (1, 20) cells ``VideoIDs``, ``joined_data`` ((n, 17)
    at 128 Hz), ``labels_selfassessment`` ((1, 12)) and ``labels_ext_annotation``.

    Trials 1-16 (short videos) last a few seconds; trials 17-20 (long videos) are empty (0, 0)
    for the second subject, as for participants who missed the long-video session.
    """
    rng = np.random.default_rng(seed)
    root = Path(root)
    out = {}
    for k, s in enumerate(subjects):
        joined, selfass, ext = [], [], []
        for t in range(20):
            empty = t >= 16 and k % 2 == 1
            n = 0 if empty else 128 * int(rng.integers(seconds[0], seconds[1] + 1))
            if empty:
                joined.append(np.zeros((0, 0)))
                selfass.append(np.zeros((0, 0)))
                ext.append(np.zeros((0, 0)))
                continue
            x = rng.standard_normal((n, 17))
            if nan_trial is not None and t == nan_trial:
                x[64:96, 3] = np.nan  # half a second of NaN in one EEG channel
            joined.append(x)
            sa = np.concatenate([rng.uniform(1, 9, size=5), rng.integers(0, 2, size=7)])
            selfass.append(sa[None, :])
            ext.append(rng.uniform(-1, 1, size=(n // 128 // 20 + 1, 3)))
        video_ids = [str(v) for v in rng.choice(np.arange(1, 200), size=16, replace=False)]
        video_ids += ["N1", "P1", "B1", "U1"]
        content = {
            "VideoIDs": _cell(video_ids),
            "joined_data": _cell(joined),
            "labels_selfassessment": _cell(selfass),
            "labels_ext_annotation": _cell(ext),
        }
        name = f"Data_Preprocessed_P{s:02d}"
        folder = root / name if nested else root
        folder.mkdir(parents=True, exist_ok=True)
        scipy.io.savemat(folder / f"{name}.mat", content)
        out[s] = {"joined": joined, "selfassessment": selfass, "video_ids": video_ids}
    return out


# ----------------------------------------------------------------------------------- DREAMER


def write_dreamer(
    root: Path, n_subjects=3, n_videos=18, seconds=3, baseline_seconds=3, seed=0
) -> dict:
    """``DREAMER.mat``: struct ``DREAMER`` whose ``Data`` is a (1, n_subjects) cell of structs
    with ``EEG``/``ECG`` structs holding (18, 1) cells ``baseline``/``stimuli`` of time-major
    (n, 14) / (n, 2) arrays and (18, 1) integer scores."""
    rng = np.random.default_rng(seed)
    subjects = []
    for _s in range(n_subjects):

        def cells(sfreq, n_ch, secs):
            c = np.empty((n_videos, 1), dtype=object)
            for t in range(n_videos):
                c[t, 0] = rng.standard_normal((sfreq * secs + int(rng.integers(0, 40)), n_ch))
            return c

        eeg = {"baseline": cells(128, 14, baseline_seconds), "stimuli": cells(128, 14, seconds)}
        ecg = {"baseline": cells(256, 2, baseline_seconds), "stimuli": cells(256, 2, seconds)}
        subjects.append(
            {
                "Age": str(int(rng.integers(20, 40))),
                "Gender": str(rng.choice(["male", "female"])),
                "EEG": eeg,
                "ECG": ecg,
                "ScoreValence": rng.integers(1, 6, size=(n_videos, 1)).astype(np.uint8),
                "ScoreArousal": rng.integers(1, 6, size=(n_videos, 1)).astype(np.uint8),
                "ScoreDominance": rng.integers(1, 6, size=(n_videos, 1)).astype(np.uint8),
            }
        )
    dreamer = {
        "Data": _cell(subjects),
        "EEG_SamplingRate": 128,
        "ECG_SamplingRate": 256,
        "EEG_Electrodes": _cell(list(EMOTIV14)),
        "noOfSubjects": n_subjects,
        "noOfVideoSequences": n_videos,
        "Disclaimer": "test copy",
        "Provider": "test",
        "Version": "1.0.2",
        "Acknowledgement": "test",
    }
    Path(root).mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(Path(root) / "DREAMER.mat", {"DREAMER": dreamer})
    return {"subjects": subjects}


# ----------------------------------------------------------------------------------- GAMEEMO


def write_gameemo(root: Path, subjects=(1, 2), seconds=3, seed=0) -> dict:
    """``(S01)/Preprocessed EEG Data/.csv format/S01G1AllChannels.csv``: header in the GAMEEMO
    order and a trailing comma on every line (an empty unnamed column)."""
    rng = np.random.default_rng(seed)
    out = {}
    for s in subjects:
        folder = Path(root) / f"(S{s:02d})" / "Preprocessed EEG Data" / ".csv format"
        folder.mkdir(parents=True, exist_ok=True)
        (Path(root) / f"(S{s:02d})" / "Preprocessed EEG Data" / ".mat format").mkdir(exist_ok=True)
        for g in (1, 2, 3, 4):
            x = rng.standard_normal((128 * seconds + 12, 14)) * 10
            lines = [",".join(GAMEEMO14) + ","]
            lines += [",".join(f"{v:.6f}" for v in row) + "," for row in x]
            (folder / f"S{s:02d}G{g}AllChannels.csv").write_text("\n".join(lines) + "\n")
            out[(s, g)] = x
    return out


# ----------------------------------------------------------------------------------- WESAD


def write_wesad(root: Path, subjects=(2, 3), seed=0) -> dict:
    """``root/WESAD/S{n}/S{n}.pkl``: Python 2 pickle of {'signal': {'chest', 'wrist'}, 'label',
    'subject'}; chest channels at 700 Hz; label per chest sample with condition blocks."""
    rng = np.random.default_rng(seed)
    out = {}
    # blocks of (label, seconds): transient 0, baseline 1, stress 2, amusement 3,
    # meditation 4, ignored 5-7
    blocks = [(0, 1), (1, 4), (0, 1), (2, 3), (6, 1), (3, 2), (4, 2), (0, 1), (1, 2)]
    for s in subjects:
        label = np.concatenate([np.full(700 * sec, lab, dtype=np.int32) for lab, sec in blocks])
        n = label.size
        chest = {
            "ACC": rng.standard_normal((n, 3)),
            "ECG": rng.standard_normal((n, 1)),
            "EMG": rng.standard_normal((n, 1)),
            "EDA": rng.standard_normal((n, 1)),
            "Temp": rng.standard_normal((n, 1)).astype(np.float32),
            "Resp": rng.standard_normal((n, 1)),
        }
        secs = n // 700
        wrist = {
            "ACC": rng.standard_normal((32 * secs, 3)),
            "BVP": rng.standard_normal((64 * secs, 1)),
            "EDA": rng.standard_normal((4 * secs, 1)),
            "TEMP": rng.standard_normal((4 * secs, 1)),
        }
        content = {"signal": {"chest": chest, "wrist": wrist}, "label": label, "subject": f"S{s}"}
        folder = Path(root) / "WESAD" / f"S{s}"
        folder.mkdir(parents=True, exist_ok=True)
        dump_py2_pickle(content, folder / f"S{s}.pkl")
        out[s] = content
    return out


# ----------------------------------------------------------------------------------- helpers


def snapshot(root: Path) -> dict:
    """Every file under ``root`` with its size and modification time (to prove read-only)."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(Path(root).rglob("*"))
    }


def truncate(file: Path, keep: float = 0.5) -> None:
    """Cut ``file`` to a fraction of its size, as an interrupted copy would."""
    data = Path(file).read_bytes()
    Path(file).write_bytes(data[: int(len(data) * keep)])
