"""ElectrodeGrid: the literature's 9x9 grids and interpolated maps from 10-10 positions."""

import numpy as np
import pytest
import torch
from scipy.interpolate import griddata

from skemotion._montages import DEAP32, EMOTIV14, GRID_9X9, SEED62
from skemotion.features import DifferentialEntropy, ElectrodeGrid
from skemotion.features.functional import electrode_grid, electrode_positions_2d

torch.set_num_threads(1)


@pytest.mark.parametrize(
    ("montage", "names"), [("seed62", SEED62), ("deap32", DEAP32), ("emotiv14", EMOTIV14)]
)
def test_9x9_places_each_channel_in_its_cell(montage, names):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, len(names), 5)).astype(np.float32)
    out = ElectrodeGrid(montage).fit_transform(X)
    assert out.shape == (3, 5, 9, 9) and out.dtype == np.float32
    expected = np.zeros((3, 5, 9, 9), dtype=np.float32)
    for c, name in enumerate(names):
        r, col = GRID_9X9[montage][name.upper()]
        expected[:, :, r, col] = X[:, c]
    np.testing.assert_array_equal(out, expected)
    # the same with names spelled as in the datasets, and as a list
    np.testing.assert_array_equal(ElectrodeGrid(list(names)).fit_transform(X), expected)


def test_9x9_linear_interpolation_matches_griddata():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2, 32, 3))
    out = ElectrodeGrid("deap32", interpolation="linear").fit_transform(X)
    pts = np.array([GRID_9X9["deap32"][n.upper()] for n in DEAP32], dtype=float)
    rr, cc = np.mgrid[0:9, 0:9]
    for i in range(2):
        for f in range(3):
            ref = griddata(pts, X[i, :, f], (rr, cc), method="linear", fill_value=0.0)
            np.testing.assert_allclose(out[i, f], ref, atol=1e-12)
    # electrodes keep their own value
    r, c = GRID_9X9["deap32"]["CZ"]
    np.testing.assert_allclose(out[:, :, r, c], X[:, DEAP32.index("Cz")])


def test_positions_follow_the_10_10_system():
    xy = electrode_positions_2d(["Cz", "Fpz", "Oz", "T7", "T8", "Fz", "Pz", "C3", "F7", "O1"])
    np.testing.assert_allclose(xy[0], [0, 0], atol=1e-12)
    np.testing.assert_allclose(xy[1], [0, 0.8], atol=1e-12)  # 72 deg of 90 in front
    np.testing.assert_allclose(xy[2], [0, -0.8], atol=1e-12)
    np.testing.assert_allclose(xy[3], [-0.8, 0], atol=1e-12)
    np.testing.assert_allclose(xy[4], [0.8, 0], atol=1e-12)
    np.testing.assert_allclose(xy[5], [0, 0.4], atol=1e-12)
    np.testing.assert_allclose(xy[6], [0, -0.4], atol=1e-12)
    np.testing.assert_allclose(xy[7], [-0.4, 0], atol=1e-12)  # C3 halfway Cz-T7
    r = np.hypot(*xy[8:].T)
    np.testing.assert_allclose(r, 0.8, atol=1e-12)  # F7, O1 on the circumference
    angle = np.degrees(np.arctan2(xy[8:, 0], xy[8:, 1]))
    np.testing.assert_allclose(angle, [-54, -162], atol=1e-9)
    np.testing.assert_allclose(electrode_positions_2d(["T3", "t7"]), xy[[3, 3]])
    with pytest.raises(ValueError, match="unknown electrode"):
        electrode_positions_2d(["XYZ"])


def test_32x32_cubic_map_and_mask():
    rng = np.random.default_rng(2)
    de = rng.standard_normal((2, 62, 5)).astype(np.float32)
    eg = ElectrodeGrid("seed62", grid="32x32", interpolation="cubic").fit(de)
    out = eg.transform(de)
    assert out.shape == (2, 5, 32, 32) and out.dtype == np.float32
    assert eg.weights_.shape == (1024, 62) and eg.grid_shape_ == (32, 32)
    assert not eg.mask_[0, 0] and eg.mask_[16, 16]  # corners are outside the head
    assert (out[:, :, ~eg.mask_] == 0).all()
    # reference: scipy's griddata on the same pixel coordinates, sample by sample
    xy = electrode_positions_2d(SEED62)
    radius = np.abs(xy).max()
    pts = np.stack([(1 - xy[:, 1] / radius) / 2 * 31, (1 + xy[:, 0] / radius) / 2 * 31], 1)
    rr, cc = np.mgrid[0:32, 0:32]
    ref = griddata(pts, de[1, :, 2].astype(float), (rr, cc), method="cubic", fill_value=0.0)
    np.testing.assert_allclose(out[1, 2], ref, atol=1e-4)
    # nearest-pixel placement without interpolation
    none = ElectrodeGrid("seed62", grid="32x32").fit_transform(de)
    assert (np.count_nonzero(none[0, 0]) == 62) and np.isin(de[0, :, 0], none[0, 0]).all()


def test_torch_custom_grid_functional_and_errors():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((2, 3, 4)).astype(np.float32)
    grid = {"a": (0, 0), "b": (0, 2), "c": (1, 1)}
    eg = ElectrodeGrid(["a", "b", "c"], grid=grid).fit(X)
    out = eg.transform(torch.from_numpy(X))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 4, 2, 3)
    np.testing.assert_array_equal(out[:, :, 1, 1].numpy(), X[:, 2])
    np.testing.assert_array_equal(electrode_grid(X, ["a", "b", "c"], grid), out.numpy())
    with pytest.raises(ValueError, match="ElectrodeGrid: X has 3 channels"):
        ElectrodeGrid("deap32").fit(X)
    with pytest.raises(ValueError, match="no cell in the 9x9 grid"):
        ElectrodeGrid(["Cz", "FT9", "Pz"]).fit(X)
    with pytest.raises(ValueError, match="at least 3 electrodes"):
        ElectrodeGrid(["Cz", "Fz", "Pz"], grid="32x32", interpolation="linear").fit(X)


def test_de_then_grid_pipeline():
    from sklearn.pipeline import make_pipeline

    X = np.random.default_rng(4).standard_normal((3, 14, 256)).astype(np.float32)
    pipe = make_pipeline(DifferentialEntropy(128.0), ElectrodeGrid("emotiv14"))
    out = pipe.fit_transform(X)
    assert out.shape == (3, 5, 9, 9)
    r, c = GRID_9X9["emotiv14"]["O1"]
    np.testing.assert_allclose(out[:, :, r, c], DifferentialEntropy(128.0).fit_transform(X)[:, 6])
