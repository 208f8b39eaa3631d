"""Reliability of the dataset loaders, on tiny copies in the exact formats.

One test per class of defect, each with several cases:

- numbering from what the files are, never from their position among the files present: a
  missing, unreadable, directory or dangling-link session file never lends its number to
  another file; a partial copy loads what is there (selection None) and an explicit request for
  what is absent names it; trial ids name the recording whatever else is selected;
- numeric and list arguments are never silently reinterpreted;
- a truncated or ragged text file is refused with an error naming the file.
"""

import os
import shutil
import warnings

import numpy as np
import pytest
from _fixtures_datasets import write_deap, write_gameemo, write_seed, write_seed_iv, write_wesad

from skemotion.datasets import (
    DatasetFormatError,
    load_deap,
    load_gameemo,
    load_seed,
    load_seed_iv,
    load_wesad,
    sliding_windows,
)

BREAKS = ["missing", "garbage", "directory", "dangling_link", "no_permission"]


@pytest.fixture(scope="module")
def seed_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("seed_src")
    return root, write_seed(root, subjects=(1,), sessions=(1, 2, 3))


@pytest.fixture(scope="module")
def seed_iv_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("seed_iv_src")
    return root, write_seed_iv(root, subjects=(1,), sessions=(1, 2, 3))


def _linked_copy(src, dst):
    """A copy of ``src`` made of symbolic links to its files (fast, nothing duplicated)."""
    for f in src.rglob("*"):
        if f.is_file():
            target = dst / f.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(f)
    return dst


def _break(entry, how):
    """Replace a file by what an incomplete or damaged copy holds in its place."""
    data = entry.read_bytes()
    entry.unlink()
    if how == "garbage":  # present, but not a MATLAB file
        entry.write_bytes(b"\x00" * 64)
    elif how == "directory":
        entry.mkdir()
    elif how == "dangling_link":
        entry.symlink_to(entry.with_name("gone.mat"))
    elif how == "no_permission":
        entry.write_bytes(data)
        entry.chmod(0)


def _first_window(b, session, trial=1):
    f = b.frame
    return b.X[np.flatnonzero((f.session == session) & (f.trial == trial) & (f.start == 0))[0]]


@pytest.mark.parametrize("how", BREAKS)
def test_seed_session_is_the_file_not_its_position(seed_files, tmp_path, how):
    if how == "no_permission" and os.geteuid() == 0:
        pytest.skip("root reads files without permission")
    src, ref = seed_files
    root = _linked_copy(src, tmp_path)
    folder = root / "Preprocessed_EEG"
    _break(folder / "1_20131027.mat", how)  # subject 1, session 1
    # session 1 is asked for: an error naming its file, never the session-2 recording
    error = FileNotFoundError if how == "missing" else DatasetFormatError
    with pytest.raises(error, match=r"1_20131027\.mat"):
        load_seed(root, subjects=[1], sessions=[1], verbose=False)
    # the other sessions keep their own numbers, dates and signals
    b = load_seed(root, subjects=[1], sessions=[2, 3], verbose=False)
    assert sorted(set(b.frame.session)) == [2, 3]
    assert dict(zip(b.frame.session, b.frame.date)) == {2: "20131030", 3: "20131107"}
    for sess in (2, 3):
        np.testing.assert_allclose(_first_window(b, sess), ref[(1, sess)][0][:, :200], rtol=1e-6)
    b3 = load_seed(root, subjects=[1], sessions=3, verbose=False)
    np.testing.assert_allclose(_first_window(b3, 3), ref[(1, 3)][0][:, :200], rtol=1e-6)
    if how == "missing":  # a partial copy loads what is there, and says what is not
        with pytest.warns(UserWarning, match=r"subject 1 session 1 \(1_20131027\.mat\)"):
            b_all = load_seed(root, verbose=False)
        np.testing.assert_array_equal(b_all.X, b.X)
        assert sorted(set(b_all.frame.session)) == [2, 3]
    else:  # a damaged file is not an absent one: loading everything names it
        with pytest.raises(DatasetFormatError, match=r"1_20131027\.mat"):
            load_seed(root, verbose=False)


def test_seed_other_dates_by_complete_date_order(seed_files, tmp_path):
    src, ref = seed_files
    folder = tmp_path / "Preprocessed_EEG"
    folder.mkdir()
    (folder / "label.mat").symlink_to(src / "Preprocessed_EEG" / "label.mat")
    renamed = {"20200101": 1, "20200305": 2, "20201231": 3}  # not SEED's dates: date order
    real = {1: "20131027", 2: "20131030", 3: "20131107"}
    for date, sess in renamed.items():
        (folder / f"1_{date}.mat").symlink_to(src / "Preprocessed_EEG" / f"1_{real[sess]}.mat")
    b = load_seed(tmp_path, subjects=[1], sessions=[3], verbose=False)
    assert set(b.frame.date) == {"20201231"}
    np.testing.assert_allclose(_first_window(b, 3), ref[(1, 3)][0][:, :200], rtol=1e-6)
    (folder / "1_20200101.mat").unlink()  # two unknown dates: their sessions cannot be told
    with pytest.raises(DatasetFormatError, match=r"sessions of subject 1 .*1_20131027\.mat"):
        load_seed(tmp_path, subjects=[1], sessions=[2], verbose=False)


@pytest.mark.parametrize("how", ["missing", "directory", "dangling_link"])
def test_seed_iv_partial_and_damaged_copies(seed_iv_files, tmp_path, how):
    src, ref = seed_iv_files
    root = _linked_copy(src, tmp_path)
    entry = next((root / "eeg_raw_data" / "2").glob("1_*.mat"))
    _break(entry, how)
    if how == "missing":
        with pytest.warns(UserWarning, match="subject 1 session 2"):
            b = load_seed_iv(root, verbose=False)
        assert sorted(set(b.frame.session)) == [1, 3]
        np.testing.assert_allclose(_first_window(b, 3), ref[(1, 3)][0][:, :800], rtol=1e-6)
        with pytest.raises(FileNotFoundError, match=r"subject 1 session 2 requested"):
            load_seed_iv(root, sessions=[2], verbose=False)
    else:
        with pytest.raises(DatasetFormatError, match=entry.name):
            load_seed_iv(root, sessions=[2], verbose=False)


def test_trial_ids_name_the_recording(seed_files):
    root, _ = seed_files
    everything = load_seed(root, verbose=False)
    alone = load_seed(root, sessions=[2], verbose=False)
    rows = (everything.frame.session == 2).to_numpy()
    np.testing.assert_array_equal(alone.trials, everything.trials[rows])
    f = everything.frame
    np.testing.assert_array_equal(
        everything.trials, f.subject * 1_000_000 + f.session * 1000 + f.trial
    )
    first = load_seed(root, sessions=[1], verbose=False)
    assert not set(first.trials) & set(alone.trials)  # two loads never share a trial id


def test_entries_under_a_subject_name_are_that_subject(tmp_path):
    """A damaged entry is reported as the subject's file, not as a subject that is absent."""
    write_deap(tmp_path / "deap", subjects=(1, 2), n_trials=1, seconds=1)
    bad = tmp_path / "deap" / "data_preprocessed_python" / "s02.dat"
    bad.unlink()
    bad.mkdir()
    with pytest.raises(DatasetFormatError, match=r"could not read .*s02\.dat"):
        load_deap(tmp_path / "deap", verbose=False)
    write_wesad(tmp_path / "wesad", subjects=(2, 3))
    pkl = tmp_path / "wesad" / "WESAD" / "S3" / "S3.pkl"
    pkl.unlink()
    pkl.symlink_to(pkl.with_name("gone.pkl"))
    with pytest.raises(DatasetFormatError, match=r"could not read .*S3\.pkl"):
        load_wesad(tmp_path / "wesad", window_seconds=1.0, verbose=False)
    write_gameemo(tmp_path / "gameemo", subjects=(1,), seconds=2)
    (next((tmp_path / "gameemo").rglob("S01G2AllChannels.csv"))).unlink()
    with pytest.warns(UserWarning, match=r"S01G2AllChannels\.csv"):
        b = load_gameemo(tmp_path / "gameemo", verbose=False)
    assert sorted(set(b.frame.game)) == [1, 3, 4]
    with pytest.raises(FileNotFoundError, match=r"S01G2AllChannels\.csv"):
        load_gameemo(tmp_path / "gameemo", games=[2], verbose=False)


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda r: load_deap(r["deap"], threshold=np.nan),
            r"load_deap: threshold must be a finite number",
        ),
        (
            lambda r: load_deap(r["deap"], threshold=True),
            r"load_deap: threshold must be a finite number",
        ),
        (lambda r: load_deap(r["deap"], subjects=[True]), r"load_deap: subjects must contain"),
        (lambda r: load_deap(r["deap"], subjects=[1.0]), r"load_deap: subjects must contain"),
        (lambda r: load_deap(r["deap"], window_seconds=np.inf), r"load_deap: window_seconds"),
        (lambda r: load_deap(r["deap"], overlap=np.nan), r"load_deap: overlap"),
        (
            lambda r: load_seed(r["seed"], label_map={1: "pos", 2: "neg"}),
            r"load_seed: label_map key 2 is not a raw label of the dataset; expected keys among "
            r"\[-1, 0, 1\]",
        ),
        (
            lambda r: load_seed_iv(r["seed_iv"], label_map={4: "x"}),
            r"load_seed_iv: label_map key 4",
        ),
        (lambda r: load_wesad(r["wesad"], resample=333.333), r"load_wesad: argument resample"),
        (lambda r: load_wesad(r["wesad"], resample=np.nan), r"load_wesad: argument resample"),
        (lambda r: sliding_windows(np.ones((1, 10)), np.nan, 1.0), r"sliding_windows: .*sfreq"),
    ],
)
def test_loader_arguments_never_silently_reinterpreted(tmp_path_factory, call, match):
    roots = _argument_roots(tmp_path_factory)
    with pytest.raises(ValueError, match=match):
        call(roots)


_ROOTS = {}


def _argument_roots(factory):
    if not _ROOTS:
        base = factory.mktemp("arguments")
        write_deap(base / "deap", subjects=(1,), n_trials=1, seconds=1)
        write_wesad(base / "wesad", subjects=(2,))
        # argument checks come before any file is read: empty folders are enough
        for name in ("seed", "seed_iv"):
            (base / name).mkdir()
        _ROOTS.update({n: base / n for n in ("deap", "wesad", "seed", "seed_iv")})
    return _ROOTS


def test_loader_numbers_given_as_numpy_scalars_are_the_same_numbers(tmp_path):
    write_deap(tmp_path, subjects=(1, 2), n_trials=1, seconds=1)
    a = load_deap(tmp_path, subjects=np.array(2), threshold=np.float32(5), verbose=False)
    b = load_deap(tmp_path, subjects=[2], threshold=5.0, verbose=False)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)


def _gameemo_csv(tmp_path):
    write_gameemo(tmp_path, subjects=(1,), seconds=2)
    return next(tmp_path.rglob("S01G1AllChannels.csv"))


def _cut_inside_last_number(text):
    body = text.rstrip("\n")
    return body[: body.rstrip(",").rfind(".") + 1] + "\n"  # e.g. "-8.0077," -> "-8."


def _on_row(k, edit):
    """Apply ``edit`` to data row ``k`` (0 is the first row after the header)."""

    def damage(text):
        lines = text.split("\n")
        lines[k + 1] = edit(lines[k + 1])
        return "\n".join(lines)

    return damage


def _first_value(value):
    return _on_row(3, lambda row: value + "," + row.split(",", 1)[1])


@pytest.mark.parametrize(
    "damage, match",
    [
        (_cut_inside_last_number, r"truncated or ragged: its last line has 14 fields"),
        (lambda t: t[: t.rfind(",", 0, len(t) // 2)], r"truncated or ragged: its last line"),
        (_on_row(4, lambda row: ""), r"truncated or ragged: line 6 of .* 1 fields"),
        (_on_row(0, lambda row: row + "0.5,"), r"truncated or ragged: line 2 of .* 16 fields"),
        (_on_row(9, lambda row: row[:-1]), r"truncated or ragged: line 11 of .* 14 fields"),
        (_on_row(2, lambda row: row[:-1] + ";"), r"truncated or ragged: line 4 of"),
        (lambda t: t.split("\n")[0] + "\n", r"a header but no data rows"),
        (_first_value("nan"), r"line 5 holds NaN or infinity"),
        (_first_value("-inf"), r"line 5 holds NaN or infinity"),
        (_first_value("1.2.3"), r"holds a value that is not a number"),
        (_first_value(""), r"holds a value that is not a number"),
    ],
)
def test_truncated_or_ragged_csv_refused(tmp_path, damage, match):
    f = _gameemo_csv(tmp_path)
    text = f.read_text()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the intact file loads without a word
        n_intact = len(load_gameemo(tmp_path, games=[1], verbose=False).y)
    assert n_intact == 2
    f.write_text(damage(text))
    with pytest.raises(DatasetFormatError, match=r"S01G1AllChannels\.csv.* " + match):
        load_gameemo(tmp_path, games=[1], verbose=False)


def test_csv_with_windows_line_endings_reads_the_same(tmp_path):
    f = _gameemo_csv(tmp_path)
    intact = load_gameemo(tmp_path, games=[1], verbose=False)
    f.write_bytes(f.read_bytes().replace(b"\n", b"\r\n"))
    np.testing.assert_array_equal(load_gameemo(tmp_path, games=[1], verbose=False).X, intact.X)
    shutil.rmtree(tmp_path / "(S01)")
