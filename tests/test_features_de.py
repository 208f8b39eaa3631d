"""DifferentialEntropy and its functional form, pinned against scipy and closed forms."""

import math

import numpy as np
import pytest
import torch
from scipy import signal
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skemotion.features import DifferentialEntropy
from skemotion.features.functional import DEFAULT_BANDS, band_variance, differential_entropy

torch.set_num_threads(1)
SF = 200.0


def _closed_form(var):
    return 0.5 * np.log(2 * np.pi * np.e * var)


@pytest.fixture(scope="module")
def X64():
    return np.random.default_rng(0).standard_normal((6, 5, 400))


def test_default_bands_are_the_literature_bands():
    assert DEFAULT_BANDS == {
        "delta": (1.0, 4.0),
        "theta": (4.0, 8.0),
        "alpha": (8.0, 14.0),
        "beta": (14.0, 31.0),
        "gamma": (31.0, 50.0),
    }


def test_filter_method_equals_scipy_sosfiltfilt_and_closed_form(X64):
    de = differential_entropy(X64, SF, method="filter")
    for b, (lo, hi) in enumerate(DEFAULT_BANDS.values()):
        sos = signal.butter(4, [lo, hi], btype="bandpass", fs=SF, output="sos")
        ref = _closed_form(signal.sosfiltfilt(sos, X64, axis=-1).var(axis=-1))
        np.testing.assert_allclose(de[..., b], ref, rtol=1e-10)


def test_fft_method_equals_variance_of_ideal_fft_bandpass():
    # independent reference: zero the bins outside [low, high) with numpy, go back, np.var
    rng = np.random.default_rng(1)
    for n_times in (400, 401, 128):
        X = rng.standard_normal((3, 4, n_times))
        freqs = np.fft.rfftfreq(n_times, 1 / SF)
        for lo, hi in [(1, 4), (8, 14), (31, 50), (50, 100), (0, 100)]:
            keep = (freqs >= lo) & ((freqs < hi) | (hi >= SF / 2)) & (freqs > 0)
            y = np.fft.irfft(np.fft.rfft(X, axis=-1) * keep, n=n_times, axis=-1)
            var = band_variance(X, SF, [(lo, hi)])[..., 0]
            np.testing.assert_allclose(var, y.var(axis=-1), rtol=1e-10, atol=1e-14)


def test_full_band_de_equals_closed_form_of_sample_variance(X64):
    de = differential_entropy(X64, SF, {"all": (0.0, SF / 2)})[..., 0]
    np.testing.assert_allclose(de, _closed_form(X64.var(axis=-1)), rtol=1e-12)
    X32 = X64.astype(np.float32)
    de32 = differential_entropy(X32, SF, {"all": (0.0, SF / 2)})[..., 0]
    np.testing.assert_allclose(de32, _closed_form(X64.var(axis=-1)), rtol=1e-5)


@pytest.mark.parametrize("method", ["fft", "filter"])
def test_gaussian_white_noise_matches_closed_form(method):
    # white noise of variance s2: a band of width w keeps s2 * 2 w / sfreq of it
    s2, n_times = 2.5, 20000
    X = np.sqrt(s2) * np.random.default_rng(2).standard_normal((32, 1, n_times))
    de = differential_entropy(X, SF, method=method).mean(axis=(0, 1))
    widths = np.array([hi - lo for lo, hi in DEFAULT_BANDS.values()])
    expected = _closed_form(s2 * 2 * widths / SF)
    # the Butterworth response is not a brick wall: allow for its equivalent bandwidth
    np.testing.assert_allclose(de, expected, atol=0.01 if method == "fft" else 0.06)


def test_dtype_kept_and_torch_matches_numpy(X64):
    X32 = X64.astype(np.float32)
    out32 = differential_entropy(X32, SF)
    assert out32.dtype == np.float32
    assert differential_entropy(X64, SF).dtype == np.float64
    t = differential_entropy(torch.from_numpy(X32), SF)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    np.testing.assert_allclose(t.numpy(), out32, rtol=1e-6)
    np.testing.assert_allclose(out32, differential_entropy(X64, SF), rtol=1e-4, atol=1e-5)
    assert differential_entropy(torch.from_numpy(X64), SF, method="filter").dtype == torch.float64


def test_input_not_modified(X64):
    before = X64.copy()
    differential_entropy(X64, SF)
    differential_entropy(X64, SF, method="filter")
    np.testing.assert_array_equal(X64, before)


@pytest.mark.parametrize("method", ["fft", "filter"])
def test_short_windows_and_bands_above_nyquist_are_finite(method):
    X = np.random.default_rng(0).standard_normal((3, 2, 5)).astype(np.float32)
    out = differential_entropy(X, 20.0, method=method)  # Nyquist 10 Hz: beta/gamma empty
    assert np.isfinite(out).all()
    floor = 0.5 * math.log(2 * math.pi * math.e * np.finfo(np.float32).tiny)
    np.testing.assert_allclose(out[..., 3:], floor, rtol=1e-6)
    assert np.isfinite(differential_entropy(np.zeros((2, 1, 1)), SF, method=method)).all()


def test_transformer_shapes_names_and_flatten(X64):
    de = DifferentialEntropy(SF).fit(X64)
    assert de.transform(X64).shape == (6, 5, 5)
    assert de.n_channels_ == 5 and de.n_features_in_ == 5
    flat = DifferentialEntropy(SF, flatten=True).fit_transform(X64)
    np.testing.assert_array_equal(flat, de.transform(X64).reshape(6, -1))
    names = de.get_feature_names_out(["FP1", "FPZ", "FP2", "AF3", "AF4"])
    assert names[:6].tolist() == [
        "FP1_delta",
        "FP1_theta",
        "FP1_alpha",
        "FP1_beta",
        "FP1_gamma",
        "FPZ_delta",
    ]
    # channels without names: ch0, ch1, ... (x0, x1, ... name the columns of a 2-D X)
    assert de.get_feature_names_out()[0] == "ch0_delta"
    assert DifferentialEntropy(SF, bands=[(4, 8)]).fit(X64).get_feature_names_out()[0] == "ch0_4-8"
    # 2-D X: single-channel windows, 2-D output
    assert DifferentialEntropy(SF).fit_transform(X64[:, 0]).shape == (6, 5)


def test_transformer_keeps_float32_and_accepts_tensors(X64):
    X32 = X64.astype(np.float32)
    assert DifferentialEntropy(SF).fit_transform(X32).dtype == np.float32
    out = DifferentialEntropy(SF).fit(X32).transform(torch.from_numpy(X32))
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), differential_entropy(X32, SF), rtol=1e-6)


def test_transformer_errors_name_the_estimator(X64):
    de = DifferentialEntropy(SF).fit(X64)
    with pytest.raises(ValueError, match="DifferentialEntropy.*channels"):
        de.transform(X64[:, :3])
    bad = X64.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="DifferentialEntropy.*NaN"):
        de.transform(bad)
    with pytest.raises(ValueError, match="band"):
        DifferentialEntropy(SF, bands=[(8, 4)]).fit(X64)


def test_baseline_subtraction(X64):
    rng = np.random.default_rng(3)
    base = rng.standard_normal((6, 5, 1200))
    de = DifferentialEntropy(SF, baseline="subtract").fit(X64)
    out = de.transform(X64, baseline=base)
    segs = base.reshape(6, 5, 3, 400)
    ref = differential_entropy(X64, SF) - differential_entropy(segs, SF).mean(axis=2)
    np.testing.assert_allclose(out, ref, rtol=1e-10)
    shared = de.transform(X64, baseline=base[0])  # one baseline for all windows
    ref_shared = differential_entropy(X64, SF) - differential_entropy(segs[0], SF).mean(axis=1)
    np.testing.assert_allclose(shared, ref_shared, rtol=1e-10)
    with pytest.raises(ValueError, match="baseline"):
        de.transform(X64)
    with pytest.raises(ValueError, match="baseline='subtract'"):
        DifferentialEntropy(SF).fit(X64).transform(X64, baseline=base)


def test_baseline_routed_through_pipeline(X64):
    import sklearn

    base = np.random.default_rng(4).standard_normal((6, 5, 800))
    y = np.array([0, 1] * 3)
    with sklearn.config_context(enable_metadata_routing=True):
        de = DifferentialEntropy(SF, baseline="subtract", flatten=True)
        de.set_fit_request(baseline=True).set_transform_request(baseline=True)
        pipe = Pipeline([("de", de), ("lr", LogisticRegression())])
        pipe.fit(X64, y, baseline=base)
        direct = DifferentialEntropy(SF, baseline="subtract", flatten=True).fit(X64)
        np.testing.assert_allclose(
            pipe[:-1].transform(X64, baseline=base), direct.transform(X64, baseline=base)
        )


def test_de_logistic_regression_pipeline_with_memory(tmp_path, monkeypatch):
    import skemotion.features._spectral_estimators as estimators

    calls = []
    compute = estimators.differential_entropy

    def counting(X, *args, **kwargs):
        calls.append(X.shape)
        return compute(X, *args, **kwargs)

    monkeypatch.setattr(estimators, "differential_entropy", counting)
    rng = np.random.default_rng(5)
    n = 40
    y = np.repeat([0, 1], n // 2)
    t = np.arange(400) / SF
    X = rng.standard_normal((n, 4, 400)).astype(np.float32)
    X[y == 1] += 3 * np.sin(2 * np.pi * 10 * t).astype(np.float32)  # alpha power
    pipe = Pipeline(
        [
            ("de", DifferentialEntropy(sfreq=SF, flatten=True)),
            ("scale", StandardScaler()),
            ("lr", LogisticRegression()),
        ],
        memory=str(tmp_path),
    )
    pipe.fit(X, y)
    assert calls == [X.shape]  # the first fit computes the features once
    assert pipe.score(X, y) == 1.0
    del calls[:]
    pipe.fit(X, y)  # same data, same parameters: the fitted step comes from the cache
    assert calls == []
    assert pipe.score(X, y) == 1.0 and calls == [X.shape]  # predicting computes, of course
    pipe.set_params(de__bands={"alpha": (8.0, 14.0)})
    del calls[:]
    pipe.fit(X, y)  # other parameters: no cache hit
    assert calls == [X.shape]


def test_large_arrays_are_transformed_in_blocks_with_the_same_values(monkeypatch):
    """Above _FFT_BLOCK values the FFT runs over blocks of windows (no complex copy of a large
    or memory-mapped X); the values are those of the whole-array FFT, and of the ideal
    band-pass reference, to float32 rounding."""
    import skemotion.features._spectral as spectral

    X = np.random.default_rng(3).standard_normal((37, 3, 128)).astype(np.float32)
    whole = band_variance(X, SF)
    calls = []
    real = spectral._band_variance_fft

    def counting(part, *args):
        calls.append(len(part))
        return real(part, *args)

    monkeypatch.setattr(spectral, "_band_variance_fft", counting)
    monkeypatch.setattr(spectral, "_FFT_BLOCK", 5 * 3 * 128)  # 5 windows per block
    blocks = band_variance(X, SF)
    assert calls == [5] * 7 + [2]
    np.testing.assert_allclose(blocks, whole, rtol=1e-6)
    for b, (lo, hi) in enumerate([(1, 4), (4, 8), (8, 14), (14, 31), (31, 50)]):
        f = np.fft.rfftfreq(128, 1 / SF)
        spec = np.fft.rfft(X.astype(np.float64), axis=-1)
        spec[..., (f < lo) | (f >= hi)] = 0
        ref = np.fft.irfft(spec, n=128, axis=-1).var(axis=-1)
        np.testing.assert_allclose(blocks[..., b], ref, rtol=1e-4, atol=1e-7)
