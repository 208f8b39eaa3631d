"""BandPower, STFTSpectrogram and the filters, pinned against scipy."""

import numpy as np
import pytest
import torch
from scipy import ndimage, signal

from skemotion.features import (
    BandpassFilter,
    BandPower,
    BaselineRemoval,
    NotchFilter,
    STFTSpectrogram,
)
from skemotion.features.functional import (
    DEFAULT_BANDS,
    band_power,
    bandpass_filter,
    notch_filter,
    remove_baseline,
    stft_spectrogram,
)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def X64():
    return np.random.default_rng(0).standard_normal((5, 4, 512)) * 3.0 + 1.0


def _scipy_band_power(f, psd, bands, nyq):
    out = []
    df = f[1] - f[0]
    for lo, hi in bands:
        keep = (f >= lo) & ((f < hi) | (hi >= nyq)) & (f > 0)
        out.append(psd[..., keep].sum(-1) * df)
    return np.stack(out, axis=-1)


@pytest.mark.parametrize("nperseg", [128, 256, 100])
def test_band_power_matches_scipy_welch(X64, nperseg):
    sf = 128.0
    f, psd = signal.welch(X64, fs=sf, nperseg=nperseg, axis=-1)
    bands = list(DEFAULT_BANDS.values()) + [(40.0, 64.0)]
    ref = _scipy_band_power(f, psd, bands, sf / 2)
    out = band_power(X64, sf, bands, n_per_seg=nperseg)
    np.testing.assert_allclose(out, ref, rtol=1e-10)
    out32 = band_power(X64.astype(np.float32), sf, bands, n_per_seg=nperseg)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, ref, rtol=2e-4)


def test_band_power_matches_scipy_periodogram_relative_and_log(X64):
    sf = 128.0
    f, psd = signal.periodogram(X64, fs=sf, axis=-1)
    bands = list(DEFAULT_BANDS.values())
    ref = _scipy_band_power(f, psd, bands, sf / 2)
    np.testing.assert_allclose(band_power(X64, sf, method="periodogram"), ref, rtol=1e-10)
    total = _scipy_band_power(f, psd, [(1.0, 50.0)], sf / 2)
    rel = band_power(X64, sf, method="periodogram", relative=True, log=True)
    np.testing.assert_allclose(rel, np.log(ref / total), rtol=1e-10)
    bp = BandPower(sf, method="periodogram", log=False).fit_transform(X64)
    np.testing.assert_allclose(bp, ref, rtol=1e-10)


def test_band_power_transformer_defaults_and_torch(X64):
    sf = 128.0
    f, psd = signal.welch(X64, fs=sf, nperseg=256, axis=-1)  # default: 2 s segments
    ref = np.log(_scipy_band_power(f, psd, DEFAULT_BANDS.values(), sf / 2))
    bp = BandPower(sf).fit(X64)
    np.testing.assert_allclose(bp.transform(X64), ref, rtol=1e-10)
    out = bp.transform(torch.from_numpy(X64.astype(np.float32)))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-4, atol=1e-5)
    assert BandPower(sf, flatten=True).fit_transform(X64).shape == (5, 20)
    assert bp.get_feature_names_out(["a", "b", "c", "d"])[5] == "b_delta"


@pytest.mark.parametrize(
    ("n_fft", "hop", "window", "center"),
    [(128, 64, "hann", True), (200, 200, "boxcar", False), (64, 16, "hamming", True)],
)
def test_stft_matches_scipy_stft(X64, n_fft, hop, window, center):
    sf = 128.0
    f, _, Z = signal.stft(
        X64,
        fs=sf,
        window=window,
        nperseg=n_fft,
        noverlap=n_fft - hop,
        boundary="zeros" if center else None,
        padded=False,
        axis=-1,
    )
    keep = (f >= 0.5) & (f <= 50.0)
    ref = np.abs(Z[..., keep, :])
    out = stft_spectrogram(
        X64, sf, n_fft=n_fft, hop_length=hop, window=window, fmin=0.5, fmax=50.0,
        center=center, log=False,
    )  # fmt: skip
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    log32 = STFTSpectrogram(
        sf, n_fft=n_fft, hop_length=hop, window=window, fmin=0.5, fmax=50.0, center=center
    ).fit_transform(X64.astype(np.float32))
    assert log32.dtype == np.float32
    np.testing.assert_allclose(log32, np.log(ref + 1e-8), rtol=1e-4, atol=1e-4)


def test_stft_output_shape_matches_ndimage_zoom_order_1(X64):
    S = stft_spectrogram(X64, 128.0, n_fft=64, hop_length=32, log=True)
    target = (129, 126)
    out = stft_spectrogram(X64, 128.0, n_fft=64, hop_length=32, output_shape=target)
    assert out.shape == (*X64.shape[:2], *target)
    zoom = (1, 1, target[0] / S.shape[-2], target[1] / S.shape[-1])
    np.testing.assert_allclose(out, ndimage.zoom(S, zoom, order=1), rtol=1e-8, atol=1e-10)


def test_stft_two_rates_share_a_shape():
    deap = np.zeros((2, 32, 128 * 4), dtype=np.float32)
    seed = np.zeros((2, 62, 200 * 2), dtype=np.float32)
    a = STFTSpectrogram(128.0, n_fft=256, output_shape=(129, 126)).fit_transform(deap)
    b = STFTSpectrogram(200.0, n_fft=400, output_shape=(129, 126)).fit_transform(seed)
    assert a.shape[2:] == b.shape[2:] == (129, 126)
    assert STFTSpectrogram(128.0, n_fft=8).fit_transform(deap[:, 0]).shape == (2, 5, 129)


@pytest.mark.parametrize(("l_freq", "h_freq"), [(1.0, 50.0), (None, 30.0), (4.0, None)])
def test_bandpass_matches_scipy(X64, l_freq, h_freq):
    sf = 128.0
    if l_freq and h_freq:
        sos = signal.butter(4, [l_freq, h_freq], btype="bandpass", fs=sf, output="sos")
    elif h_freq:
        sos = signal.butter(4, h_freq, btype="lowpass", fs=sf, output="sos")
    else:
        sos = signal.butter(4, l_freq, btype="highpass", fs=sf, output="sos")
    ref = signal.sosfiltfilt(sos, X64, axis=-1)
    np.testing.assert_allclose(bandpass_filter(X64, sf, l_freq, h_freq), ref, rtol=1e-10)
    out = BandpassFilter(sf, l_freq=l_freq, h_freq=h_freq).fit_transform(X64.astype(np.float32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=1e-3, atol=1e-4)
    assert BandpassFilter(sf).fit_transform(X64[:, :, :5]).shape == (5, 4, 5)  # short windows


def test_notch_matches_scipy_iirnotch(X64):
    sf = 250.0
    b, a = signal.iirnotch(50.0, 30.0, fs=sf)
    ref = signal.filtfilt(b, a, X64, axis=-1)  # odd padding of 9 samples, as ours
    np.testing.assert_allclose(notch_filter(X64, sf, 50.0), ref, rtol=1e-8, atol=1e-10)
    t = np.arange(2000) / sf
    hum = np.sin(2 * np.pi * 50 * t) + np.sin(2 * np.pi * 100 * t)
    clean = NotchFilter(sf, freqs=(50.0, 100.0)).fit_transform(hum[None, None])
    assert np.abs(clean[..., 300:-300]).max() < 0.05


def test_baseline_removal(X64):
    base = np.random.default_rng(1).standard_normal((5, 4, 512 * 3))
    segs = base.reshape(5, 4, 3, 512).mean(axis=2)
    np.testing.assert_allclose(remove_baseline(X64, base, method="base_mean"), X64 - segs)
    np.testing.assert_allclose(
        remove_baseline(X64, base, method="mean"), X64 - base.mean(-1, keepdims=True)
    )
    np.testing.assert_allclose(
        BaselineRemoval().fit_transform(X64), X64 - X64.mean(-1, keepdims=True)
    )
    br = BaselineRemoval(method="base_mean").fit(X64)
    np.testing.assert_allclose(br.transform(X64, baseline=base[0]), X64 - segs[0])
    with pytest.raises(ValueError, match="baseline"):
        br.transform(X64, baseline=base[:, :2])
    with pytest.raises(ValueError, match="BaselineRemoval: .*at least one segment long"):
        br.transform(X64, baseline=base[..., :100])


def test_stft_spectrogram_is_differentiable_and_equal_with_gradients():
    # explanations differentiate through the spectrogram: same values, finite gradients
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(2, 3, 256)))
    want = stft_spectrogram(x, 128.0, n_fft=64, fmin=1.0, fmax=40.0, output_shape=(8, 8))
    xg = x.clone().requires_grad_(True)
    got = stft_spectrogram(xg, 128.0, n_fft=64, fmin=1.0, fmax=40.0, output_shape=(8, 8))
    torch.testing.assert_close(got.detach(), want, rtol=1e-6, atol=1e-6)
    got.sum().backward()
    assert xg.grad is not None and bool(torch.isfinite(xg.grad).all())
    assert float(xg.grad.abs().sum()) > 0
