"""load_gameemo on tiny CSV files in the GAMEEMO folder layout (trailing comma included)."""

import numpy as np
import pytest
from _fixtures_datasets import snapshot, write_gameemo

from skemotion.datasets import GAMEEMO14, DatasetFormatError, list_subjects, load_gameemo


@pytest.fixture(scope="module")
def gameemo(tmp_path_factory):
    root = tmp_path_factory.mktemp("gameemo")
    return root, write_gameemo(root, subjects=(1, 2, 3))


def test_shapes_channels_games(gameemo):
    root, ref = gameemo
    f = root / "(S01)" / "Preprocessed EEG Data" / ".csv format" / "S01G1AllChannels.csv"
    assert f.read_text().splitlines()[0].endswith("T8,")
    before = snapshot(root)
    b = load_gameemo(root, verbose=False)
    assert snapshot(root) == before
    assert b.ch_names == GAMEEMO14 and b.sfreq == 128.0
    assert b.X.shape == (3 * 4 * 3, 14, 128) and b.X.dtype == np.float32
    assert b.target_names == ["boring", "calm", "horror", "funny"]
    np.testing.assert_array_equal(b.y, b.frame.game - 1)
    np.testing.assert_array_equal(b.frame.trial, b.frame.game)
    assert len(np.unique(b.trials)) == 12
    i = np.flatnonzero((b.frame.subject == 2) & (b.frame.game == 3) & (b.frame.start == 1))[0]
    np.testing.assert_allclose(b.X[i], ref[(2, 3)][128:256].T.astype(np.float32), atol=1e-5)
    assert list_subjects("gameemo", root) == [1, 2, 3]


def test_binary_and_selection(gameemo):
    root, _ = gameemo
    b = load_gameemo(root, subjects=[3], games=[1, 4], target="binary", window_seconds=2,
                     overlap=0.5, verbose=False)  # fmt: skip
    assert b.target_names == ["boring_calm", "horror_funny"]
    np.testing.assert_array_equal(b.y, (b.frame.game >= 3).astype(int))
    assert set(b.frame.game) == {1, 4} and b.X.shape[2] == 256
    assert b.frame.start[:2].tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"games": [5]}, "load_gameemo: games contains 5"),
        ({"subjects": [29]}, "load_gameemo: subjects contains 29"),
        ({"target": "valence"}, "load_gameemo: target must be one of"),
        ({"window_seconds": None}, "load_gameemo: window_seconds"),
    ],
)
def test_argument_errors(gameemo, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_gameemo(gameemo[0], **kwargs)


def test_missing_and_corrupt_files(tmp_path):
    write_gameemo(tmp_path, subjects=(1, 2))
    folder = tmp_path / "(S01)" / "Preprocessed EEG Data" / ".csv format"
    (folder / "S01G2AllChannels.csv").unlink()
    with pytest.raises(FileNotFoundError, match="S01G2AllChannels.csv"):
        load_gameemo(tmp_path, subjects=[1], games=[1, 2], verbose=False)
    f = folder / "S01G3AllChannels.csv"
    lines = f.read_text().splitlines()
    f.write_text("\n".join(lines[:-1] + [lines[-1][:30]]) + "\n")  # cut mid-row
    with pytest.raises(DatasetFormatError, match=r"S01G3AllChannels\.csv. is truncated or ragged"):
        load_gameemo(tmp_path, subjects=[1], games=[3], verbose=False)
    f = folder / "S01G4AllChannels.csv"
    f.write_text(f.read_text().replace("AF3,AF4", "AF4,AF3", 1))
    with pytest.raises(DatasetFormatError, match=r"S01G4AllChannels\.csv' has columns"):
        load_gameemo(tmp_path, subjects=[1], games=[4], verbose=False)
    f = folder / "S01G1AllChannels.csv"
    f.write_text(f.read_text().replace("\n1", "\nx1", 1).replace("\n-", "\nabc", 1))
    with pytest.raises(DatasetFormatError, match=r"S01G1AllChannels\.csv"):
        load_gameemo(tmp_path, subjects=[1], games=[1], verbose=False)
    copy = tmp_path / "(S02)" / "S02G1AllChannels.csv"
    copy.write_text("x")
    with pytest.raises(DatasetFormatError, match="two files for subject 2 game 1"):
        load_gameemo(tmp_path, subjects=[2], verbose=False)
    with pytest.raises(FileNotFoundError, match="no SxxGyAllChannels.csv"):
        load_gameemo(tmp_path / "(S02)" / "Preprocessed EEG Data" / ".mat format")
