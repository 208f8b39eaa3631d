"""load_deap on tiny files in the exact DEAP pickle format."""

import pickle
import tracemalloc

import numpy as np
import pytest
from _fixtures_datasets import dump_py2_pickle, snapshot, truncate, write_deap

from skemotion.datasets import DEAP32, DatasetFormatError, list_subjects, load_deap
from skemotion.datasets._deap import DEAP40


@pytest.fixture(scope="module")
def deap(tmp_path_factory):
    root = tmp_path_factory.mktemp("deap")
    ref = write_deap(root, subjects=(1, 2, 3), n_trials=3, seconds=4)
    return root, ref


def test_shapes_channels_groups_trials(deap):
    root, ref = deap
    before = snapshot(root)
    b = load_deap(root, verbose=False)
    assert snapshot(root) == before  # nothing written into the dataset folder
    assert b.X.shape == (3 * 3 * 4, 32, 128) and b.X.dtype == np.float32
    assert b.ch_names == DEAP32 and b.sfreq == 128.0
    assert b.groups.tolist() == [1] * 12 + [2] * 12 + [3] * 12
    assert len(np.unique(b.trials)) == 9
    f = b.frame
    assert list(f.columns[:4]) == ["subject", "session", "trial", "start"]
    assert {"valence", "arousal", "dominance", "liking"} <= set(f.columns)
    assert f.groupby("trials" if "trials" in f else ["subject", "trial"]).size().eq(4).all()
    # windows start at video onset: the 3 s pre-trial baseline is cut
    s, t, w = 2, 1, 3
    i = np.flatnonzero((f.subject == s) & (f.trial == t + 1) & (f.start == w))[0]
    expected = ref[s]["data"][t, :32, 384 + w * 128 : 384 + (w + 1) * 128]
    np.testing.assert_allclose(b.X[i], expected.astype(np.float32))
    np.testing.assert_allclose(f.valence[i], ref[s]["labels"][t, 0])
    np.testing.assert_allclose(f.liking[i], ref[s]["labels"][t, 3])


def test_threshold_comparison_and_regression(deap):
    root, ref = deap
    gt = load_deap(root, subjects=1, target="arousal", verbose=False)
    ge = load_deap(root, subjects=1, target="arousal", comparison=">=", verbose=False)
    raw = ref[1]["labels"][:, 1]
    assert raw[0] == 5.0
    assert gt.y[:4].tolist() == [0] * 4 and ge.y[:4].tolist() == [1] * 4
    np.testing.assert_array_equal(gt.y, np.repeat(raw > 5, 4))
    assert gt.target_names == ["low_arousal", "high_arousal"]
    reg = load_deap(root, subjects=1, target="liking", threshold=None, verbose=False)
    np.testing.assert_allclose(reg.y, np.repeat(ref[1]["labels"][:, 3], 4))
    assert reg.y.dtype == np.float64


def test_quadrants(deap):
    root, ref = deap
    b = load_deap(root, subjects=[3], target="quadrant", verbose=False)
    lab = ref[3]["labels"]
    expected = 2 * (lab[:, 0] > 5) + (lab[:, 1] > 5)
    np.testing.assert_array_equal(b.y, np.repeat(expected, 4))
    assert b.target_names == ["LVLA", "LVHA", "HVLA", "HVHA"]


def test_channels_all_and_named(deap):
    root, ref = deap
    b = load_deap(root, subjects=[1], channels="all", verbose=False)
    assert b.ch_names == DEAP40 and b.X.shape[1] == 40
    b = load_deap(root, subjects=[1], channels=["Cz", "GSR", "Fp1"], verbose=False)
    assert b.ch_names == ["Cz", "GSR", "Fp1"]
    np.testing.assert_allclose(
        b.X[0], ref[1]["data"][0, [23, 36, 0], 384:512].astype(np.float32), rtol=1e-6
    )


def test_baseline_removal(deap):
    root, ref = deap
    b = load_deap(root, subjects=[2], baseline="segment", window_seconds=2.0, verbose=False)
    x = ref[2]["data"][1, :32]
    template = x[:, :384].reshape(32, 3, 128).mean(axis=1)
    corrected = x[:, 384:] - np.tile(template, 4)
    np.testing.assert_allclose(b.X[2], corrected[:, :256], atol=1e-5)
    np.testing.assert_allclose(b.X[3], corrected[:, 256:512], atol=1e-5)
    m = load_deap(root, subjects=[2], baseline="mean", verbose=False)
    np.testing.assert_allclose(
        m.X[4], x[:, 384:512] - x[:, :384].mean(axis=1, keepdims=True), atol=1e-5
    )


def test_windowing_overlap(deap):
    root, _ = deap
    b = load_deap(root, subjects=[1], window_seconds=2.0, overlap=0.75, verbose=False)
    # 4 s trials, 256-sample windows every 64 samples -> 5 windows per trial
    assert b.X.shape == (15, 32, 256)
    assert b.frame.start[:5].tolist() == [0.0, 0.5, 1.0, 1.5, 2.0]
    np.testing.assert_array_equal(b.X[1, :, :192], b.X[0, :, 64:])


def test_subjects_loads_only_those_files(deap, tmp_path):
    root, _ = deap
    write_deap(tmp_path, subjects=(1, 2, 3))
    truncate(tmp_path / "data_preprocessed_python" / "s03.dat")
    b = load_deap(tmp_path / "data_preprocessed_python", subjects=[2, 1], verbose=False)
    assert sorted(set(b.groups)) == [1, 2]
    assert list_subjects("deap", tmp_path) == [1, 2, 3]


def test_progress_only_when_verbose(deap, capsys):
    root, _ = deap
    load_deap(root, subjects=[1], verbose=False)
    assert capsys.readouterr().err == ""
    load_deap(root, subjects=[1], verbose=True)
    assert "load_deap" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"target": "happiness"}, "load_deap: target must be one of"),
        ({"comparison": "=>"}, "load_deap: comparison must be one of"),
        ({"threshold": "5"}, "load_deap: threshold"),
        ({"target": "quadrant", "threshold": None}, "load_deap: target='quadrant'"),
        ({"subjects": [33]}, "load_deap: subjects contains 33"),
        ({"subjects": ["s01"]}, "load_deap: subjects must contain ints"),
        ({"subjects": []}, "load_deap: subjects is empty"),
        ({"baseline": "zscore"}, "load_deap: baseline must be"),
        ({"channels": ["Cz", "ECG"]}, "load_deap: channels contains unknown names"),
        ({"channels": "eog"}, "load_deap: channels must be one of"),
        ({"window_seconds": 0}, "load_deap: window_seconds"),
        ({"overlap": 1.0}, "load_deap: overlap"),
        ({"window_seconds": 10.0}, "load_deap: no window of 10.0 s fits"),
    ],
)
def test_argument_errors(deap, kwargs, match):
    root, _ = deap
    with pytest.raises(ValueError, match=match):
        load_deap(root, subjects=kwargs.pop("subjects", [1]), verbose=False, **kwargs)


def test_missing_path_and_missing_subject(deap, tmp_path):
    root, _ = deap
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_deap(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="s05.dat"):
        load_deap(root, subjects=[1, 5], verbose=False)
    with pytest.raises(FileNotFoundError, match="no s01.dat"):
        load_deap(tmp_path, verbose=False)


def _write(folder, name, obj):
    with open(folder / name, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def test_corrupt_files(tmp_path):
    write_deap(tmp_path, subjects=(1, 2, 3, 4, 5, 6))
    folder = tmp_path / "data_preprocessed_python"
    truncate(folder / "s01.dat")
    with pytest.raises(DatasetFormatError, match=r"s01\.dat.*expected a Python 2 pickle"):
        load_deap(tmp_path, subjects=[1], verbose=False)
    (folder / "s02.dat").write_bytes(b"not a pickle at all")
    with pytest.raises(DatasetFormatError, match=r"could not read .*s02\.dat"):
        load_deap(tmp_path, subjects=[2], verbose=False)
    rng = np.random.default_rng(0)
    _write(folder, "s03.dat", {"data": rng.standard_normal((2, 40, 900))})
    with pytest.raises(DatasetFormatError, match=r"s03\.dat.*lacks \['labels'\]"):
        load_deap(tmp_path, subjects=[3], verbose=False)
    _write(
        folder, "s04.dat", {"data": rng.standard_normal((2, 39, 900)), "labels": np.ones((2, 4))}
    )
    with pytest.raises(DatasetFormatError, match=r"s04\.dat.*\(2, 39, 900\).*40"):
        load_deap(tmp_path, subjects=[4], verbose=False)
    _write(folder, "s05.dat", [1, 2, 3])
    with pytest.raises(DatasetFormatError, match=r"s05\.dat.*holds a list"):
        load_deap(tmp_path, subjects=[5], verbose=False)
    # a file whose layout differs from the first one read
    _write(
        folder, "s01.dat", {"data": rng.standard_normal((2, 40, 1024)), "labels": np.ones((2, 4))}
    )
    with pytest.raises(
        DatasetFormatError,
        match=r"s06\.dat.*has .data. of shape \(3, 40, 896\); expected \(2, 40, 1024\)",
    ):
        load_deap(tmp_path, subjects=[1, 6], verbose=False)


def test_peak_memory_below_1_5x_of_selected_raw(tmp_path):
    # 8 subjects x 4 trials x 40 channels x 30 s: 5.4 MB per file, float64 as the real files
    write_deap(tmp_path, subjects=range(1, 9), n_trials=4, seconds=30)
    raw_selected = 8 * 4 * 32 * (384 + 30 * 128) * 8  # the 32 EEG channels as stored
    tracemalloc.start()
    try:
        b = load_deap(tmp_path, verbose=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert b.X.nbytes == 8 * 4 * 30 * 32 * 128 * 4
    ratio = peak / raw_selected
    assert ratio < 1.5, f"peak {peak / 1e6:.1f} MB = {ratio:.2f} x the selected raw data"


def test_python3_pickles_and_latin1_equivalence(tmp_path):
    """Files re-pickled under Python 3 (protocol 2) load too, and the memory-saving reader
    returns what ``pickle.load(f, encoding="latin1")`` returns."""
    from skemotion.datasets._loading import read_py2_pickle

    ref = write_deap(tmp_path, subjects=(1,), n_trials=2, seconds=2)
    file = tmp_path / "data_preprocessed_python" / "s01.dat"
    with open(file, "rb") as f:
        latin1 = pickle.load(f, encoding="latin1")
    ours = read_py2_pickle(file)
    assert sorted(ours) == sorted(latin1) == ["data", "labels"]
    for key in ours:
        np.testing.assert_array_equal(ours[key], latin1[key])
        assert ours[key].dtype == latin1[key].dtype
    with open(file, "wb") as f:
        pickle.dump({"data": ref[1]["data"], "labels": ref[1]["labels"]}, f, protocol=2)
    b = load_deap(tmp_path, verbose=False)
    np.testing.assert_allclose(b.X[0], ref[1]["data"][0, :32, 384:512].astype(np.float32))


def test_matlab_copy_reads_like_the_python_copy(tmp_path):
    truth = write_deap(tmp_path / "py", subjects=(1, 2), seed=3)
    write_deap(tmp_path / "mat", subjects=(1, 2), seed=3, matlab=True)
    a = load_deap(tmp_path / "py", verbose=False)
    b = load_deap(tmp_path / "mat", verbose=False)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert a.ch_names == b.ch_names == list(DEAP32)
    # against the values written, not only against the other copy
    np.testing.assert_allclose(b.X[0], truth[1]["data"][0, :32, 384 : 384 + 128], rtol=1e-6)
    # every window carries its trial's raw valence rating as written
    first = b.frame[b.frame["subject"] == 1]
    for t, rating in enumerate(truth[1]["labels"][:, 0]):
        vals = first.loc[first["trial"] == first["trial"].unique()[t], "valence"]
        np.testing.assert_allclose(vals, rating)


def test_matlab_copy_missing_variable(tmp_path):
    from scipy.io import savemat

    folder = tmp_path / "data_preprocessed_matlab"
    folder.mkdir()
    savemat(folder / "s01.mat", {"data": np.zeros((2, 40, 600))})
    with pytest.raises(DatasetFormatError, match=r"s01\.mat.*lacks \['labels'\]"):
        load_deap(tmp_path, verbose=False)


def test_one_subject_loads_within_1_5x_of_x(tmp_path):
    """The file's arrays are memory maps (never a copy of the file) and each trial is read
    from the file on its own: one subject's load peaks at X plus a trial, well under 1.5 x X,
    while the file is 2.6 x X."""
    write_deap(tmp_path, subjects=(1,), n_trials=10, seconds=60)
    file = tmp_path / "data_preprocessed_python" / "s01.dat"
    tracemalloc.start()
    try:
        b = load_deap(tmp_path, verbose=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert file.stat().st_size > 2.5 * b.X.nbytes
    assert peak < 1.5 * b.X.nbytes, f"peak {peak / 1e6:.1f} MB, X {b.X.nbytes / 1e6:.1f} MB"


def test_pickled_arrays_are_memory_maps_of_the_file(tmp_path):
    from skemotion.datasets._loading import read_py2_pickle, read_rows

    rng = np.random.default_rng(0)
    big = rng.standard_normal((6, 40, 700))  # 1.3 MB: mapped
    fortran = np.asfortranarray(rng.standard_normal((300, 500)))  # 1.2 MB, F order: mapped
    small = rng.standard_normal((2, 4))  # read
    file = tmp_path / "x.dat"
    dump_py2_pickle({"data": big, "again": big, "f": fortran, "labels": small, "s": "café"}, file)
    with open(file, "rb") as f:
        latin1 = pickle.load(f, encoding="latin1")
    ours = read_py2_pickle(file)
    assert sorted(ours) == sorted(latin1)
    for key in ("data", "again", "f", "labels"):
        np.testing.assert_array_equal(ours[key], latin1[key])
        assert ours[key].dtype == latin1[key].dtype
    assert ours["s"] == latin1["s"] == "café"
    assert isinstance(ours["data"], np.memmap) and ours["again"] is ours["data"]  # one array
    assert isinstance(ours["f"], np.memmap) and ours["f"].flags.f_contiguous
    assert not isinstance(ours["labels"], np.memmap)
    assert not ours["data"].flags.writeable  # the user's file cannot be written through it
    reads = []
    real = np.fromfile
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(np, "fromfile", lambda *a, **k: reads.append(k) or real(*a, **k))
        for t in (0, 3, -1):
            np.testing.assert_array_equal(read_rows(ours["data"], t), big[t])
        np.testing.assert_array_equal(read_rows(np.asarray(ours["data"]), 2), big[2])
        np.testing.assert_array_equal(read_rows(ours["f"], 7), fortran[7])  # not by rows
        np.testing.assert_array_equal(read_rows(small, 1), small[1])
    assert len(reads) == 4  # the C-ordered rows came from the file, not the mapping
    truncated = tmp_path / "cut.dat"
    truncated.write_bytes(file.read_bytes()[: ours["data"].offset + 1000])  # inside 'data'
    with pytest.raises(pickle.UnpicklingError, match="truncated"):
        read_py2_pickle(truncated)
