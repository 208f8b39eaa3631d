"""MNE-Python in and out: from_mne, to_mne and the loaders' return_mne."""

import ast
import inspect
import re
import runpy
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _fixtures_datasets import write_deap, write_wesad
from sklearn.utils import Bunch

from skemotion.datasets import (
    LOADERS,
    from_mne,
    load_deap,
    load_wesad,
    make_ecg_emotion,
    make_eeg_emotion,
    to_mne,
)

ROOT = Path(__file__).resolve().parents[1]
INSTALL = re.escape('pip install "skemotion[mne]"')
GENERATORS = {"make_eeg_emotion": make_eeg_emotion, "make_ecg_emotion": make_ecg_emotion}


@pytest.fixture(scope="module")
def mne():
    mne = pytest.importorskip("mne")
    mne.set_log_level("WARNING")
    return mne


@pytest.fixture(scope="module")
def eeg():
    return make_eeg_emotion("seed62", n_subjects=2, n_trials_per_class=1, n_windows_per_trial=3,
                            random_state=0)  # fmt: skip


@pytest.fixture(scope="module")
def ecg():
    return make_ecg_emotion(n_subjects=2, n_trials_per_class=2, n_windows_per_trial=2,
                            window_seconds=4.0, random_state=0)  # fmt: skip


def assert_same_dataset(back, data):
    """Everything a round trip must restore, X bit for bit."""
    assert back.X.dtype == np.float32 and back.X.shape == data.X.shape
    assert back.X.tobytes() == data.X.tobytes()
    for key in ("y", "groups", "trials"):
        np.testing.assert_array_equal(back[key], data[key], err_msg=key)
        assert back[key].dtype == data[key].dtype, key
    assert back.sfreq == data.sfreq
    assert back.ch_names == data.ch_names
    assert back.ch_types == data.ch_types
    assert back.target_names == data.target_names
    assert back.DESCR == data.DESCR
    pd.testing.assert_frame_equal(back.frame[list(data.frame.columns)], data.frame)


# ----------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", ["eeg", "ecg"])
def test_round_trip_is_exact(mne, name, request):
    data = request.getfixturevalue(name)
    epochs = to_mne(data)
    assert isinstance(epochs, mne.EpochsArray)
    assert_same_dataset(from_mne(epochs), data)
    # the default columns are the ones the brief example names explicitly
    assert_same_dataset(from_mne(epochs, groups="subject", trials="trial_id"), data)


@pytest.mark.parametrize("units", [None, "mV", 1e-6, 3.7e-5])
def test_round_trip_is_exact_for_any_float32(mne, units):
    """Every finite float32 (subnormals and extremes included) survives the scaling to volts
    and back bit for bit, for a power of ten and for any other unit size."""
    bits = np.random.default_rng(0).integers(0, 2**32, size=(40, 2, 500), dtype=np.uint32)
    X = bits.view(np.float32)
    X = np.where(np.isfinite(X), X, np.float32(0.5))
    X[0, 0, :4] = [np.finfo(np.float32).max, np.finfo(np.float32).smallest_subnormal, -0.0, 1]
    data = Bunch(X=X, y=np.zeros(40, int), sfreq=100.0, ch_names=["Cz", "ECG"],
                 ch_types=["eeg", "ecg"], target_names=["a"])  # fmt: skip
    back = from_mne(to_mne(data, montage=None, units=units), units=units)
    assert back.X.tobytes() == X.tobytes()


def test_to_mne_content(mne, eeg, ecg):
    epochs = to_mne(eeg)
    # MNE holds volts: the synthetic EEG is in microvolts, the synthetic ECG in millivolts
    np.testing.assert_allclose(epochs.get_data(), eeg.X.astype(np.float64) * 1e-6, rtol=1e-12)
    np.testing.assert_allclose(to_mne(ecg).get_data(), ecg.X * 1e-3, rtol=1e-6)
    assert epochs.info["sfreq"] == eeg.sfreq and epochs.ch_names == eeg.ch_names
    assert epochs.event_id == {"negative": 1, "neutral": 2, "positive": 3}
    np.testing.assert_array_equal(epochs.events[:, 2], eeg.y + 1)
    assert epochs.info["description"] == eeg.DESCR
    md = epochs.metadata
    np.testing.assert_array_equal(md["subject"], eeg.groups)
    np.testing.assert_array_equal(md["trial_id"], eeg.trials)
    pd.testing.assert_frame_equal(md[list(eeg.frame.columns)].reset_index(drop=True), eeg.frame)
    # MNE holds its own array, even when no conversion is needed
    x64 = eeg.X.astype(np.float64)
    to_mne({**eeg, "X": x64}, units="V").get_data(copy=False)[:] = 0.0
    np.testing.assert_array_equal(x64, eeg.X)


def test_units(mne, eeg):
    epochs = to_mne(eeg)
    volts = from_mne(epochs, units="V")
    np.testing.assert_allclose(volts.X, eeg.X * 1e-6, rtol=1e-6)
    raw_values = to_mne(eeg, units="V")  # the values as they are
    np.testing.assert_array_equal(raw_values.get_data(), eeg.X.astype(np.float64))
    assert from_mne(raw_values, units="V").X.tobytes() == eeg.X.tobytes()
    # a dict overrides the table for one type; a number is the size of a unit in volts
    millivolts = to_mne(eeg, units={"eeg": "mV"})
    np.testing.assert_allclose(millivolts.get_data(), eeg.X * 1e-3, rtol=1e-6)
    assert from_mne(millivolts, units={"eeg": 1e-3}).X.tobytes() == eeg.X.tobytes()
    with pytest.raises(ValueError, match=r"to_mne: argument units gives 'kV' for the 'eeg'"):
        to_mne(eeg, units="kV")
    with pytest.raises(TypeError, match=r"from_mne: argument units must be"):
        from_mne(epochs, units=["uV"])


def test_loaders_return_mne(mne, tmp_path):
    deap_root = tmp_path / "deap"
    write_deap(deap_root, subjects=(1, 2), n_trials=2, seconds=2)
    kw = dict(channels="all", window_seconds=1.0, verbose=False)
    data = load_deap(deap_root, **kw)
    epochs = load_deap(deap_root, return_mne=True, **kw)
    assert isinstance(epochs, mne.EpochsArray)
    assert epochs.get_channel_types()[30:] == [
        "eeg", "eeg", "eog", "eog", "emg", "emg", "gsr", "resp", "bio", "temperature",
    ]  # fmt: skip
    assert epochs.event_id == {"low_valence": 1, "high_valence": 2}
    assert_same_dataset(from_mne(epochs), data)

    # ratings (regression): y travels as the metadata column "target"
    ratings = load_deap(deap_root, threshold=None, verbose=False)
    epochs = load_deap(deap_root, threshold=None, return_mne=True, verbose=False)
    assert epochs.event_id == {"window": 1}
    back = from_mne(epochs, label="target")
    np.testing.assert_array_equal(back.y, ratings.y)
    assert back.target_names == ["target"] and back.X.tobytes() == ratings.X.tobytes()

    wesad_root = tmp_path / "wesad"
    write_wesad(wesad_root, subjects=(2, 3))
    kw = dict(channels=("ECG", "EDA", "EMG"), window_seconds=1.0, verbose=False)
    data = load_wesad(wesad_root, **kw)
    epochs = load_wesad(wesad_root, return_mne=True, **kw)
    assert epochs.get_channel_types() == ["ecg", "gsr", "emg"]
    np.testing.assert_allclose(epochs.get_data()[:, 1], data.X[:, 1])  # gsr: not scaled
    assert_same_dataset(from_mne(epochs), data)


SIGNED = {**LOADERS, **GENERATORS}


@pytest.mark.parametrize("name", sorted(SIGNED))
def test_every_loader_has_return_mne(name):
    func = SIGNED[name]
    param = inspect.signature(func).parameters.get("return_mne")
    assert param is not None, f"{name} has no return_mne"
    assert param.default is False and param.kind is inspect.Parameter.KEYWORD_ONLY
    assert "return_mne : bool, default=False" in func.__doc__
    with pytest.raises(ValueError, match=rf"{name}: argument return_mne must be a bool"):
        func(ROOT, return_mne="yes") if name in LOADERS else func(return_mne="yes")


def test_generators_return_mne(mne, ecg):
    epochs = make_ecg_emotion(n_subjects=2, n_trials_per_class=2, n_windows_per_trial=2,
                              window_seconds=4.0, random_state=0, return_mne=True)  # fmt: skip
    assert isinstance(epochs, mne.EpochsArray) and epochs.get_channel_types() == ["ecg"]
    assert_same_dataset(from_mne(epochs), ecg)


# ----------------------------------------------------------------------------- from user epochs


def _user_epochs(mne, n=12, metadata=True):
    """Epochs as a user builds them: volts, mixed channel types, arbitrary event codes."""
    rng = np.random.default_rng(0)
    names = ["Fz", "Cz", "ECG", "EMG", "misc1", "STI"]
    types = ["eeg", "eeg", "ecg", "emg", "misc", "stim"]
    info = mne.create_info(names, 100.0, types)
    x = rng.standard_normal((n, len(names), 50)) * 1e-5
    events = np.c_[np.arange(n) * 100 + 30, np.zeros(n, int), np.tile([11, 5, 7], n // 3)]
    md = None
    if metadata:
        md = pd.DataFrame({
            "participant": np.repeat([1, 2, 3], n // 3),
            "block": np.arange(n) // 2,
            "emotion": np.tile(["joy", "fear"], n // 2),
            "rating": np.linspace(1, 9, n),
        })  # fmt: skip
    return mne.EpochsArray(x, info, events=events, tmin=-0.2, metadata=md, verbose=False,
                           event_id={"happy": 11, "sad": 5, "calm": 7, "unused": 9},
                           on_missing="ignore")  # fmt: skip


def test_from_user_epochs(mne):
    epochs = _user_epochs(mne)
    data = from_mne(epochs, groups="participant", trials="block")
    # every channel but the stimulus channel, with its type; voltages in the package's units
    assert data.ch_names == ["Fz", "Cz", "ECG", "EMG", "misc1"]
    assert data.ch_types == ["eeg", "eeg", "ecg", "emg", "misc"]
    x = epochs.get_data()
    np.testing.assert_allclose(data.X[:, :2], x[:, :2] * 1e6, rtol=1e-6)
    np.testing.assert_allclose(data.X[:, 2:4], x[:, 2:4] * 1e3, rtol=1e-6)
    np.testing.assert_allclose(data.X[:, 4], x[:, 4], rtol=1e-6)
    # events -> class codes named by event_id, in the order of the event codes
    assert data.target_names == ["sad", "calm", "unused", "happy"]
    by_code = {v: k for k, v in epochs.event_id.items()}
    assert [data.target_names[k] for k in data.y] == [by_code[c] for c in epochs.events[:, 2]]
    assert data.y.dtype == np.int64
    np.testing.assert_array_equal(data.groups, epochs.metadata["participant"])
    np.testing.assert_array_equal(data.trials, epochs.metadata["block"])
    # frame: the metadata plus the dataset columns it lacked
    assert list(data.frame.columns[:4]) == ["participant", "block", "emotion", "rating"]
    np.testing.assert_array_equal(data.frame["subject"], data.groups)
    np.testing.assert_array_equal(data.frame["trial"], data.trials)
    np.testing.assert_allclose(data.frame["start"], epochs.events[:, 0] / 100.0 - 0.2)
    assert "EpochsArray" in data.DESCR


def test_labels_from_a_metadata_column(mne):
    epochs = _user_epochs(mne)
    data = from_mne(epochs, label="emotion", groups="participant")
    np.testing.assert_array_equal(data.y, epochs.metadata["emotion"])
    assert data.target_names == ["fear", "joy"]
    ratings = from_mne(epochs, label="rating")
    np.testing.assert_array_equal(ratings.y, epochs.metadata["rating"])
    assert ratings.target_names == ["rating"]


def test_defaults_without_metadata(mne):
    data = from_mne(_user_epochs(mne, metadata=False))
    np.testing.assert_array_equal(data.groups, np.zeros(12))  # one subject
    np.testing.assert_array_equal(data.trials, np.arange(12))  # each epoch its own trial
    assert {"subject", "session", "trial", "start"} <= set(data.frame.columns)


def test_from_mne_leaves_the_epochs_alone(mne):
    epochs = _user_epochs(mne)
    x, md, ev = epochs.get_data(), epochs.metadata.copy(), epochs.events.copy()
    data = from_mne(epochs, groups="participant", trials="block")
    data.X[:] = 0
    data.frame["block"] = -1
    np.testing.assert_array_equal(epochs.get_data(), x)
    pd.testing.assert_frame_equal(epochs.metadata, md)
    np.testing.assert_array_equal(epochs.events, ev)

    # epochs not preloaded: reading (and dropping bad epochs) happens on a copy
    raw = mne.io.RawArray(np.random.default_rng(1).standard_normal((2, 2000)) * 1e-5,
                          mne.create_info(["Fz", "Cz"], 100.0, "eeg"), verbose=False)  # fmt: skip
    raw._data[0, 1010:1020] = 1e-3  # one epoch with an artifact
    lazy = mne.Epochs(raw, np.c_[np.arange(1, 19) * 100, np.zeros(18, int), np.ones(18, int)],
                      tmin=0, tmax=0.49, baseline=None, reject={"eeg": 1e-4}, preload=False,
                      verbose=False)  # fmt: skip
    data = from_mne(lazy)
    assert len(data.y) == 17
    assert not lazy.preload and len(lazy.events) == 18


def test_metadata_ids_that_differ_from_the_frame(mne, eeg):
    """groups renumbered apart from the frame's subject (as harmonize does): the frame's
    column is kept under another name and the ids still come back."""
    data = Bunch(**{**eeg, "groups": eeg.groups + 100})
    epochs = to_mne(data)
    np.testing.assert_array_equal(epochs.metadata["subject"], eeg.groups + 100)
    np.testing.assert_array_equal(epochs.metadata["frame_subject"], eeg.groups)
    np.testing.assert_array_equal(from_mne(epochs).groups, eeg.groups + 100)
    # ratings whose frame already has a "target" column
    ratings = Bunch(**{**eeg, "y": eeg.y * 0.5, "frame": eeg.frame.assign(target="x")})
    epochs = to_mne(ratings)
    assert list(epochs.metadata["frame_target"]) == ["x"] * len(eeg.y)
    np.testing.assert_array_equal(from_mne(epochs, label="target").y, eeg.y * 0.5)


# ----------------------------------------------------------------------------- montage


def test_montage(mne, eeg, ecg):
    epochs = to_mne(eeg)
    pos = {ch["ch_name"]: ch["loc"][:3] for ch in epochs.info["chs"]}
    assert np.isfinite(pos["FP1"]).all() and np.isfinite(pos["OZ"]).all()  # case-insensitive
    assert np.isnan(pos["CB1"]).all() and np.isnan(pos["CB2"]).all()  # not 10-05 names
    assert pos["FP1"][0] < 0 < pos["FP2"][0] and pos["FPZ"][1] > pos["OZ"][1]  # left, front
    deap = to_mne(make_eeg_emotion("deap32", n_subjects=1, n_classes=2, n_trials_per_class=1,
                                   n_windows_per_trial=1, random_state=0))  # fmt: skip
    assert all(np.isfinite(ch["loc"][:3]).all() for ch in deap.info["chs"])
    assert np.isnan(to_mne(ecg).info["chs"][0]["loc"][:3]).all()
    assert all(np.isnan(ch["loc"][:3]).all() for ch in to_mne(eeg, montage=None).info["chs"])
    custom = mne.channels.make_dig_montage(
        {"FP1": [-0.03, 0.1, 0.0], "FP2": [0.03, 0.1, 0.0]}, coord_frame="head"
    )
    with pytest.warns(RuntimeWarning, match="not present in the DigMontage"):
        epochs = to_mne(eeg, montage=custom)
    np.testing.assert_allclose(epochs.info["chs"][0]["loc"][:3], [-0.03, 0.1, 0.0], atol=1e-9)
    with pytest.raises(ValueError, match=r"to_mne: argument montage must be .* got 'nope'"):
        to_mne(eeg, montage="nope")


# ----------------------------------------------------------------------------- errors


def test_missing_column_errors(mne):
    epochs = _user_epochs(mne)
    available = r"\['participant', 'block', 'emotion', 'rating'\]"
    for arg in ("label", "groups", "trials"):
        with pytest.raises(ValueError, match=rf"from_mne: argument {arg}='nope' .*{available}"):
            from_mne(epochs, **{arg: "nope"})
    with pytest.raises(ValueError, match=r"groups='subject' .*the epochs have no metadata"):
        from_mne(_user_epochs(mne, metadata=False), groups="subject")
    md = epochs.metadata.copy()
    md.loc[3, "participant"] = np.nan
    epochs.metadata = md
    with pytest.raises(ValueError, match=r"groups='participant': .*missing values in 1 of 12"):
        from_mne(epochs, groups="participant")


def test_bad_arguments(mne, eeg):
    with pytest.raises(TypeError, match=r"from_mne: argument epochs must be .*got ndarray"):
        from_mne(eeg.X)
    with pytest.raises(TypeError, match=r"from_mne: argument groups must be None or the name"):
        from_mne(to_mne(eeg), groups=eeg.groups)
    with pytest.raises(TypeError, match=r"to_mne: argument dataset must be .*got ndarray"):
        to_mne(eeg.X)
    with pytest.raises(ValueError, match=r"to_mne: MNE refuses the dataset's ch_names, ch_types"):
        to_mne({**eeg, "ch_types": ["brain"] * len(eeg.ch_names)})
    with pytest.raises(ValueError, match=r"to_mne: argument dataset lacks \['sfreq'\]"):
        to_mne({k: v for k, v in eeg.items() if k != "sfreq"})
    with pytest.raises(ValueError, match=r"to_mne: dataset X must be .*got float32 of shape"):
        to_mne({**eeg, "X": eeg.X[0]})
    with pytest.raises(
        ValueError, match=rf"to_mne: dataset groups must have shape \({len(eeg.y)},\)"
    ):
        to_mne({**eeg, "groups": eeg.groups[:5]})


def test_without_mne_a_clear_import_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "mne", None)  # "import mne" now raises ImportError
    data = Bunch(X=np.zeros((2, 1, 4), np.float32), y=np.array([0, 1]), sfreq=1.0,
                 ch_names=["Cz"])  # fmt: skip
    with pytest.raises(ImportError, match=rf"to_mne needs MNE-Python.*{INSTALL}"):
        to_mne(data)
    with pytest.raises(ImportError, match=rf"from_mne needs MNE-Python.*{INSTALL}"):
        from_mne(object())
    with pytest.raises(ImportError, match=rf"make_eeg_emotion\(return_mne=True\).*{INSTALL}"):
        make_eeg_emotion(return_mne=True)
    # the check comes before anything is read
    with pytest.raises(ImportError, match=rf"load_deap\(return_mne=True\).*{INSTALL}"):
        load_deap(tmp_path / "absent", return_mne=True)
    assert make_ecg_emotion(n_subjects=1, n_trials_per_class=1, n_windows_per_trial=1,
                            random_state=0).X.shape == (2, 1, 2560)  # fmt: skip


def test_package_imports_without_mne():
    """No module of skemotion.datasets imports mne when it is imported: only inside the
    functions that need it."""
    found = []
    for path in sorted((ROOT / "skemotion" / "datasets").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        inner = {id(sub) for f in functions for sub in ast.walk(f)}
        for node in ast.walk(tree):
            if id(node) in inner:
                continue
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            found += [f"{path.name}:{node.lineno}" for n in names if n.split(".")[0] == "mne"]
    assert not found, f"module-level imports of mne: {found}"


# ----------------------------------------------------------------------------- the example


def test_example_runs(mne, tmp_path, monkeypatch, capsys):
    """examples/plot_mne_roundtrip.py runs (on a copy: its figure is saved next to it)."""
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    script = tmp_path / "plot_mne_roundtrip.py"
    shutil.copy(ROOT / "examples" / "plot_mne_roundtrip.py", script)
    monkeypatch.chdir(tmp_path)
    ns = runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert "balanced accuracy over subjects" in out
    epochs, data = ns["epochs"], ns["data"]
    assert ns["scores"].shape == (5,) and ns["scores"].mean() > 0.5  # chance: 1/3
    assert {"true", "predicted"} <= set(epochs.metadata.columns)
    assert list(epochs.metadata["true"]) == [data.target_names[k] for k in data.y]
    assert (tmp_path / "plot_mne_roundtrip.png").is_file()
    # the pipeline fitted on the epochs themselves named its features after the electrodes
    assert f"features: {data.ch_names[0]}_delta, {data.ch_names[0]}_theta" in out
    direct = ns["direct"]
    np.testing.assert_array_equal(direct.predict(epochs), direct.predict(data.X))
