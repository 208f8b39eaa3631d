"""The six SSL-ECG signal transformations do what they say."""

import numpy as np
import pytest

from skemotion.augment import (
    ECG_TRANSFORMS,
    add_noise_snr,
    make_pretext_batch,
    negate,
    permute_segments,
    scale,
    time_reverse,
    time_warp,
)

RANDOM = [add_noise_snr, permute_segments, time_warp]


@pytest.fixture
def X():
    return np.random.default_rng(0).standard_normal((16, 2560)).astype(np.float32)


@pytest.mark.parametrize(
    "func", [add_noise_snr, scale, negate, time_reverse, permute_segments, time_warp]
)
@pytest.mark.parametrize("shape", [(5, 2560), (5, 3, 2560), (4, 100)])
def test_shape_dtype_and_input_untouched(func, shape):
    X = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    X0 = X.copy()
    out = func(X, random_state=0) if func in RANDOM else func(X)
    assert out.shape == X.shape
    assert out.dtype == X.dtype
    np.testing.assert_array_equal(X, X0)
    assert not np.shares_memory(out, X)


@pytest.mark.parametrize("func", RANDOM)
def test_random_state_reproducible_and_per_window(func, X):
    a = func(X, random_state=3)
    np.testing.assert_array_equal(a, func(X, random_state=3))
    assert not np.array_equal(a, func(X, random_state=4))
    # every window gets its own draw: the same signal repeated is transformed differently
    same = np.repeat(X[:1], 8, axis=0)
    out = func(same, random_state=0)
    assert len({row.tobytes() for row in out}) > 1


@pytest.mark.parametrize("func", RANDOM)
def test_generator_and_randomstate_accepted(func, X):
    func(X, random_state=np.random.default_rng(0))
    func(X, random_state=np.random.RandomState(0))
    with pytest.raises(TypeError, match="random_state"):
        func(X, random_state="seed")


@pytest.mark.parametrize("snr_db", [0.0, 15.0, 30.0])
def test_noise_hits_snr(snr_db):
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((20, 50_000)) * rng.uniform(0.1, 10, (20, 1))).astype(np.float64)
    noise = add_noise_snr(X, snr_db, random_state=1) - X
    measured = 10 * np.log10(np.mean(X**2, axis=1) / np.mean(noise**2, axis=1))
    np.testing.assert_allclose(measured, snr_db, atol=0.1)
    assert abs(noise.mean()) < 0.05 * noise.std()


def test_scale_and_negate(X):
    np.testing.assert_allclose(scale(X), X * 1.1, rtol=1e-6)
    np.testing.assert_allclose(scale(X, 0.5), X * 0.5)
    np.testing.assert_array_equal(negate(X), -X)


def test_time_reversal_twice_is_identity(X):
    np.testing.assert_array_equal(time_reverse(X)[:, 0], X[:, -1])
    np.testing.assert_array_equal(time_reverse(time_reverse(X)), X)


@pytest.mark.parametrize("T, n_segments", [(2560, 20), (2565, 20), (100, 7)])
def test_permutation_preserves_multiset_and_moves_whole_segments(T, n_segments):
    X = np.random.default_rng(0).standard_normal((10, T))
    out = permute_segments(X, n_segments, random_state=0)
    np.testing.assert_array_equal(np.sort(out, axis=1), np.sort(X, axis=1))
    assert not np.array_equal(out, X)
    # a ramp is cut into runs of consecutive integers, one per segment
    ramp = np.tile(np.arange(T, dtype=float), (10, 1))
    out = permute_segments(ramp, n_segments, random_state=0)
    breaks = (np.diff(out, axis=1) != 1).sum(axis=1)
    n_pieces = int(np.ceil(T / (T // n_segments)))
    assert np.all(breaks <= n_pieces - 1)
    assert np.all(breaks >= 1)


def test_permutation_same_for_all_channels():
    X = np.random.default_rng(0).standard_normal((4, 1, 2560))
    X3 = np.concatenate([X, 2 * X, -X], axis=1)
    out = permute_segments(X3, random_state=5)
    np.testing.assert_allclose(out[:, 1], 2 * out[:, 0])
    np.testing.assert_allclose(out[:, 2], -out[:, 0])


def test_time_warp_unit_factors_is_identity():
    # 9 pieces of 284 samples cover 2556 samples exactly: nothing to crop, nothing warped
    X = np.random.default_rng(0).standard_normal((6, 2556))
    out = time_warp(X, 9, stretch_factor=1.0, squeeze_factor=1.0, random_state=0)
    np.testing.assert_allclose(out, X)


def test_time_warp_slopes_on_a_ramp():
    T, seg = 2560, 2560 // 9
    ramp = np.tile(np.arange(T, dtype=float), (50, 1))
    out = time_warp(ramp, random_state=0)
    d = np.diff(out, axis=1)
    assert np.all(d >= 0)  # pieces stay in order
    slopes = np.round(d, 6)
    stretched = seg / np.ceil(seg * 1.05)  # slope < 1 inside a stretched piece
    squeezed = seg / np.ceil(seg / 1.05)  # slope > 1 inside a squeezed piece
    inner = np.isclose(slopes, stretched, atol=1e-6) | np.isclose(slopes, squeezed, atol=1e-6)
    # only the boundaries between pieces (at most 8 per window, plus clamping) differ
    assert np.all((~inner).sum(axis=1) <= 3 * 8)
    assert np.isclose(slopes, stretched, atol=1e-6).any(axis=1).all()
    assert np.isclose(slopes, squeezed, atol=1e-6).any(axis=1).all()
    # the warped values stay inside the window
    assert out.min() >= 0 and out.max() <= T - 1


@pytest.mark.parametrize("T", [22, 100, 512, 2559, 2560, 2561, 3600])
def test_time_warp_fills_any_window(T):
    ramp = np.tile(np.arange(T, dtype=float), (20, 1))
    out = time_warp(ramp, random_state=0)
    assert out.shape == ramp.shape
    assert np.all(np.diff(out, axis=1) >= 0)


def test_time_warp_too_short_raises():
    with pytest.raises(ValueError, match="fewer than"):
        time_warp(np.zeros((2, 900)), 9, stretch_factor=1.0, squeeze_factor=0.9)
    with pytest.raises(ValueError, match="n_pieces"):
        time_warp(np.zeros((2, 5)), 9)


def test_bad_shape_raises():
    with pytest.raises(ValueError, match="2-D"):
        negate(np.zeros(10))


def test_make_pretext_batch(X):
    X_all, labels = make_pretext_batch(X, random_state=0)
    n = X.shape[0]
    assert X_all.shape == (7 * n, X.shape[1])
    np.testing.assert_array_equal(labels, np.repeat(np.arange(7), n))
    assert len(ECG_TRANSFORMS) == 7
    np.testing.assert_array_equal(X_all[:n], X)
    np.testing.assert_allclose(X_all[2 * n : 3 * n], scale(X))
    np.testing.assert_array_equal(X_all[3 * n : 4 * n], -X)
    np.testing.assert_array_equal(X_all[4 * n : 5 * n], X[:, ::-1])
    np.testing.assert_array_equal(np.sort(X_all[5 * n : 6 * n]), np.sort(X))
    X3_all, _ = make_pretext_batch(X[:, None], random_state=0)
    np.testing.assert_array_equal(X3_all[:, 0], X_all)
