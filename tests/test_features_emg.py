"""EMG contamination: SNR in standard dB, group structure, spectrum, numpy/torch parity."""

import math

import numpy as np
import pytest
import torch

from skemotion.features import EMGContamination
from skemotion.features.functional import (
    emg_contamination,
    make_emg_noise,
    snr_db_from_exp_snr,
)

torch.set_num_threads(1)
SF = 200.0


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 62, 400)).astype(np.float32)
    return X * rng.uniform(0.5, 5.0, (20, 62, 1)).astype(np.float32)


def _snr_db(x, noise):
    p_sig = (x.astype(np.float64) ** 2).mean(-1)
    p_noise = (noise.astype(np.float64) ** 2).mean(-1)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(p_sig / p_noise)


@pytest.mark.parametrize("snr", [-10.0, -5.0, 0.0, 7.5])
def test_requested_snr_is_reached(X, snr):
    noisy, noise = emg_contamination(X, SF, snr, rng=1, return_noise=True)
    np.testing.assert_allclose(noisy, X + noise, rtol=1e-6)
    hit = (noise != 0).any(-1)
    assert np.abs(_snr_db(X, noise)[hit] - snr).max() < 0.5
    np.testing.assert_allclose(_snr_db(X, noise)[hit], snr, atol=1e-3)


def test_per_window_snr_array(X):
    snr = np.linspace(-10, 0, len(X))
    _, noise = emg_contamination(X, SF, snr, rng=2, return_noise=True)
    hit = (noise != 0).any(-1)
    measured = _snr_db(X, noise)
    for i in range(len(X)):
        np.testing.assert_allclose(measured[i][hit[i]], snr[i], atol=1e-3)
    with pytest.raises(ValueError, match="snr_db"):
        emg_contamination(X, SF, np.zeros(3))


def test_groups_of_four_neighbours_and_fraction(X):
    _, noise = emg_contamination(X, SF, -5.0, ch_fraction=0.6, rng=3, return_noise=True)
    hit = (noise != 0).any(-1)  # (n_windows, 62)
    groups = np.arange(62) // 4  # 16 groups, the last of 2 channels
    for w in range(len(X)):
        per_group = [hit[w, groups == g] for g in range(16)]
        assert all(h.all() or not h.any() for h in per_group)  # whole groups only
        assert sum(h.all() for h in per_group) == round(0.6 * 16)
    assert not np.array_equal(hit[0], hit[1])  # redrawn per window
    # channels of one group share their burst source: strongly correlated noise
    w = 0
    g = next(g for g in range(15) if hit[w, 4 * g])
    c = np.corrcoef(noise[w, 4 * g : 4 * g + 4])
    assert c[np.triu_indices(4, 1)].min() > 0.8


def test_noise_is_muscle_band_limited(X):
    _, noise = emg_contamination(X, 500.0, 0.0, rng=4, return_noise=True)
    spec = np.abs(np.fft.rfft(noise.astype(np.float64), axis=-1)) ** 2
    freqs = np.fft.rfftfreq(X.shape[-1], 1 / 500.0)
    in_band = spec[..., (freqs >= 17) & (freqs <= 103)].sum()
    assert in_band / spec.sum() > 0.97
    src = make_emg_noise(4, 3, 1000, 500.0, rng=0)
    np.testing.assert_allclose((src**2).mean(-1), 1.0, rtol=1e-10)
    env = np.abs(signal_envelope(src))
    assert (env.max(-1) / np.median(env, -1)).min() > 2  # bursts, not stationary noise


def signal_envelope(x):
    from scipy.signal import hilbert

    return np.abs(hilbert(x, axis=-1))


def test_original_exp_snr_mapping():
    rng = np.random.default_rng(5)
    x, n = rng.standard_normal(4000), rng.standard_normal(4000)
    rms = lambda v: np.sqrt(np.mean(v**2))  # noqa: E731
    for snr in (-8.0, -3.0, 2.0):
        k = (rms(x) / rms(n)) / math.exp(snr / 10)  # the TS-STDN code's scaling
        measured = 20 * math.log10(rms(x) / rms(k * n))
        assert snr_db_from_exp_snr(snr) == pytest.approx(measured, abs=1e-9)
    assert snr_db_from_exp_snr(-8.0) == pytest.approx(-6.95, abs=0.01)
    np.testing.assert_allclose(snr_db_from_exp_snr(np.array([-8.0, 0.0])), [-6.948, 0], atol=1e-3)


def test_deterministic_dtype_input_untouched_and_torch_parity(X):
    before = X.copy()
    a = emg_contamination(X, SF, -5.0, rng=7)
    b = emg_contamination(X, SF, -5.0, rng=7)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(X, before)
    assert a.dtype == np.float32
    assert emg_contamination(X.astype(np.float64), SF, -5.0, rng=7).dtype == np.float64
    t, tn = emg_contamination(torch.from_numpy(X), SF, -5.0, rng=7, return_noise=True)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    np.testing.assert_allclose(t.numpy(), a, rtol=1e-5, atol=1e-5)
    per_window = torch.linspace(-10, 0, len(X))
    assert emg_contamination(torch.from_numpy(X), SF, per_window, rng=7).shape == X.shape
    # 2-D input: single-channel windows
    assert emg_contamination(X[:, 0], SF, 0.0, rng=0).shape == X[:, 0].shape


def test_explicit_groups_and_zero_fraction(X):
    _, noise = emg_contamination(X, SF, 0.0, ch_fraction=0.0, rng=0, return_noise=True)
    assert not noise.any()
    groups = [[0, 10, 20], [1, 11, 21]]
    _, noise = emg_contamination(
        X[:, :30], SF, 0.0, ch_fraction=0.5, groups=groups, rng=0, return_noise=True
    )
    hit = (noise != 0).any(-1)
    assert (hit[:, [0, 10, 20]].all(1) == hit[:, 0]).all()


def test_transformer(X):
    emg = EMGContamination(SF, snr_db=(-10, 0), random_state=0).fit(X)
    a, b = emg.transform(X), emg.transform(X)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and a.shape == X.shape
    noise = a - X
    hit = (np.abs(noise) > 0).any(-1)
    snr = _snr_db(X, noise)
    assert snr[hit].min() > -10.01 and snr[hit].max() < 0.01
    fixed = EMGContamination(SF, snr_db=-3.0, random_state=1).fit_transform(X) - X
    hit = (fixed != 0).any(-1)
    np.testing.assert_allclose(_snr_db(X, fixed)[hit], -3.0, atol=0.01)
    with pytest.raises(ValueError, match="EMGContamination: argument snr_db"):
        EMGContamination(SF, snr_db=(0, -10)).fit(X)
