"""TS-STDN: the network (shapes, parameter counts, spectral transform) and its classifier."""

import numpy as np
import pytest
import sklearn
import torch
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import Pipeline

from skemotion.classifiers import TSSTDNClassifier
from skemotion.classifiers import tsstdn as tsstdn_clf_module
from skemotion.datasets import make_eeg_emotion
from skemotion.models import TSSTDN
from skemotion.models.tsstdn import tsstdn_spectral

TINY = dict(D=1, lstm_hidden=4, Fs=4, Ft=4, batch_size=16, device="cpu", random_state=0)


def _n_params(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# --- the network -------------------------------------------------------------------------


@pytest.mark.parametrize("n_classes, expected", [(3, 16_891), (4, 17_404)])
def test_canonical_configuration_shapes_and_parameters(n_classes, expected):
    torch.manual_seed(0)
    model = TSSTDN(62, 400, n_classes, D=4, lstm_hidden=16, Fs=16, Ft=16).eval()
    assert _n_params(model) == expected
    assert _n_params(model.temporal_unet) == _n_params(model.spectral_unet) == 1_056
    logits, rec_t, rec_s = model(torch.randn(2, 1, 62, 400))
    assert logits.shape == (2, n_classes)
    assert rec_t.shape == (2, 1, 62, 400)
    assert rec_s.shape == (2, 1, 62, 404)
    assert (model.n_fft, model.n_spec, model.out_len) == (200, 404, 12)
    # the canonical windows need no internal padding nor adaptive pooling
    assert not any(isinstance(m, torch.nn.AdaptiveAvgPool2d) for m in model.modules())


def test_three_d_input_gives_three_d_reconstructions():
    torch.manual_seed(0)
    model = TSSTDN(62, 400, 3).eval()
    x = torch.randn(2, 62, 400)
    logits, rec_t, rec_s = model(x)
    ref = model(x.unsqueeze(1))
    assert rec_t.shape == (2, 62, 400) and rec_s.shape == (2, 62, 404)
    torch.testing.assert_close(logits, ref[0])
    torch.testing.assert_close(rec_t, ref[1].squeeze(1))


@pytest.mark.parametrize(
    "n_channels, n_times, n_spec",
    [(32, 128, 130), (32, 384, 202), (32, 1280, 1212), (14, 256, 202), (62, 401, 404), (1, 1, 2)],
)
def test_other_channel_counts_and_window_lengths(n_channels, n_times, n_spec):
    torch.manual_seed(0)
    model = TSSTDN(n_channels, n_times, 4, n_fft=128 if n_times == 128 else 200)
    model.train()
    logits, rec_t, rec_s = model(torch.randn(3, n_channels, n_times))
    assert logits.shape == (3, 4)
    assert rec_t.shape == (3, n_channels, n_times)
    assert rec_s.shape == (3, n_channels, n_spec)
    loss = logits.sum() + rec_t.square().mean() + rec_s.square().mean()
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_classes=1), "n_classes >= 2"),
        (dict(Fs=1, Ft=2), "Fs \\+ Ft >= 4"),
        (dict(n_times=0), "n_times >= 1"),
        (dict(hop_length=0), "hop_length"),
    ],
)
def test_invalid_configuration_is_named(kwargs, match):
    args = {**dict(n_channels=14, n_times=256, n_classes=3), **kwargs}
    with pytest.raises(ValueError, match=match):
        TSSTDN(**args)


def _spectral_reference(x, n_fft, hop):
    """numpy rfft per frame, laid out as the paper's code does (frame index fastest)."""
    n_frames = (x.shape[-1] - n_fft) // hop + 1
    frames = np.stack([x[..., f * hop : f * hop + n_fft] for f in range(n_frames)], axis=-1)
    spec = np.fft.rfft(frames, axis=-2)  # (B, C, n_freqs, n_frames)
    feats = np.concatenate(
        [np.log(np.abs(spec.real) + 1e-8), np.log(np.abs(spec.imag) + 1e-8)], axis=-2
    )  # (B, C, 2 * n_freqs, n_frames)
    return feats.reshape(*x.shape[:2], -1)


@pytest.mark.parametrize("n_times, n_fft, hop", [(400, 200, 200), (500, 128, 64), (256, 200, 200)])
def test_spectral_transform_matches_numpy_reference(n_times, n_fft, hop):
    x = np.random.default_rng(0).standard_normal((2, 5, n_times))
    out = tsstdn_spectral(torch.from_numpy(x), n_fft, hop).numpy()
    ref = _spectral_reference(x, n_fft, hop)
    assert out.shape == ref.shape
    # exact zeros (DC/Nyquist imaginary parts) give log(1e-8) on both sides; the float32
    # FFT's rounding residue lands there too, so compare where the reference is not ~0
    ok = ref > -15
    np.testing.assert_allclose(out[ok], ref[ok], atol=2e-3)
    out4 = tsstdn_spectral(torch.from_numpy(x).unsqueeze(1), n_fft, hop)
    np.testing.assert_array_equal(out4.squeeze(1).numpy(), out)


def test_reconstruction_targets_are_shaped_like_the_outputs():
    """The classifier's spectral target is the input transform of the clean EEG, same layout."""
    X = np.random.default_rng(0).standard_normal((12, 3, 64)).astype(np.float32)
    y = np.repeat([0, 1, 2], 4)
    clf = TSSTDNClassifier(**TINY, noise=None, max_epochs=1, sfreq=32.0).fit(X, y)
    net, model = clf.net_, clf.net_.module_.eval()
    clean = torch.from_numpy(X / clf.scale_)
    with torch.no_grad():
        logits, rec_t, rec_s = model(clean)
    assert rec_s.shape == model.spectral(clean).shape == (12, 3, 2 * 17 * 2)
    yt = torch.from_numpy(y)
    ce = torch.nn.functional.cross_entropy(logits, yt)
    # the training batches carry the targets, the spectral one computed once before training:
    # it is exactly the network's own input transform of the clean EEG
    batch = clf._training_inputs(X, clf._prepare(X), {})
    torch.testing.assert_close(torch.from_numpy(batch["S_clean"]), model.spectral(clean))
    # perfect reconstructions cost nothing: the targets are exactly clean and spectral(clean)
    perfect = net.get_loss((logits, clean, model.spectral(clean)), yt, X=batch)
    torch.testing.assert_close(perfect, ce)
    off = net.get_loss((logits, clean + 1, model.spectral(clean)), yt, X=batch)
    torch.testing.assert_close(off, ce + clf.lambda_t)


# --- the classifier ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def easy():
    return make_eeg_emotion(
        "emotiv14",
        n_subjects=5,
        n_trials_per_class=2,
        n_windows_per_trial=8,
        window_seconds=1.0,
        effect_size=3.0,
        random_state=0,
    )


def test_learns_on_held_out_subjects_and_reconstruction_improves(easy):
    test = np.isin(easy.groups, np.unique(easy.groups)[-2:])
    clf = TSSTDNClassifier(
        sfreq=easy.sfreq, max_epochs=10, lr=1e-2, batch_size=16, device="cpu", random_state=0
    ).fit(easy.X[~test], easy.y[~test])
    score = balanced_accuracy_score(easy.y[test], clf.predict(easy.X[test]))
    assert score > 0.6, score  # chance is 1/3
    hist = clf.history_
    for term in ("train_recon_t", "train_recon_s"):
        values = hist[:, term]
        assert values[-1] < 0.8 * values[0], (term, values)
    np.testing.assert_allclose(
        hist[:, "train_loss"],
        np.add(hist[:, "train_ce"], np.add(hist[:, "train_recon_t"], hist[:, "train_recon_s"])),
        rtol=1e-5,
    )


def test_training_batches_get_fresh_emg_noise_never_at_predict(monkeypatch):
    calls = []
    real = tsstdn_clf_module.emg_contamination

    def spy(X, sfreq, snr_db, **kwargs):
        calls.append((X.shape[0], sfreq, np.asarray(snr_db).copy()))
        return real(X, sfreq, snr_db, **kwargs)

    monkeypatch.setattr(tsstdn_clf_module, "emg_contamination", spy)
    X = np.random.default_rng(0).standard_normal((40, 4, 64)).astype(np.float32)
    y = np.arange(40) % 2
    clf = TSSTDNClassifier(**TINY, max_epochs=3, sfreq=64.0, noise_snr_db=(-5.0, 0.0))
    clf.fit(X, y)
    assert len(calls) == 3 * 2  # 3 epochs x 2 batches of 16 (the last, short one dropped)
    assert all(n == 16 and sfreq == 64.0 for n, sfreq, _ in calls)
    snrs = np.concatenate([s for *_, s in calls])
    assert snrs.min() >= -5.0 and snrs.max() <= 0.0 and len(np.unique(snrs)) == snrs.size
    calls.clear()
    proba = clf.predict_proba(X)
    clf.denoise(X)
    assert calls == []
    np.testing.assert_array_equal(proba, clf.predict_proba(X))


def test_fit_is_deterministic_and_noise_follows_random_state():
    X = np.random.default_rng(1).standard_normal((32, 4, 64)).astype(np.float32)
    y = np.arange(32) % 2
    kw = {**TINY, "max_epochs": 2, "sfreq": 64.0}
    p1 = TSSTDNClassifier(**kw).fit(X, y).predict_proba(X)
    p2 = TSSTDNClassifier(**kw).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    p3 = TSSTDNClassifier(**{**kw, "random_state": 1}).fit(X, y).predict_proba(X)
    assert not np.array_equal(p1, p3)


def test_paired_fit_uses_the_given_pairs_and_routes_in_a_pipeline():
    rng = np.random.default_rng(2)
    clean = rng.standard_normal((32, 4, 64)).astype(np.float32)
    noisy = clean + 0.5 * rng.standard_normal(clean.shape).astype(np.float32)
    y = np.arange(32) % 2
    kw = {**TINY, "max_epochs": 2, "sfreq": 64.0}
    noisy_copy = noisy.copy()
    paired = TSSTDNClassifier(**kw).fit(noisy, y, X_clean=clean)
    np.testing.assert_array_equal(noisy, noisy_copy)  # inputs untouched
    # with pairs, no on-the-fly noise: same result whatever the noise setting
    paired_no_noise = TSSTDNClassifier(**kw, noise=None).fit(noisy, y, X_clean=clean)
    np.testing.assert_array_equal(paired.predict_proba(noisy), paired_no_noise.predict_proba(noisy))
    assert paired.scale_ == pytest.approx(float(clean.std()), rel=1e-5)
    # X_clean as routed fit metadata
    with sklearn.config_context(enable_metadata_routing=True):
        est = TSSTDNClassifier(**kw).set_fit_request(X_clean=True)
        pipe = Pipeline([("clf", est)]).fit(noisy, y, X_clean=clean)
    np.testing.assert_array_equal(pipe.predict_proba(noisy), paired.predict_proba(noisy))


def test_denoise_returns_reconstruction_in_input_units_and_shape():
    X = np.random.default_rng(3).standard_normal((20, 3, 50)).astype(np.float32) * 30
    y = np.arange(20) % 2
    clf = TSSTDNClassifier(**TINY, max_epochs=1, sfreq=50.0).fit(X, y)
    out = clf.denoise(X)
    assert out.shape == X.shape and out.dtype == np.float32
    model = clf.net_.module_.eval()
    with torch.no_grad():
        ref = model(torch.from_numpy(X / clf.scale_))[1].numpy() * clf.scale_
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    X2 = X[:, 0]
    clf2 = TSSTDNClassifier(**TINY, max_epochs=1, sfreq=50.0).fit(X2, y)
    assert clf2.denoise(X2).shape == X2.shape


@pytest.mark.parametrize(
    "fit_kwargs, params, match",
    [
        (dict(X_clean=np.zeros((5, 3, 40))), {}, "X_clean must have one window per window"),
        (dict(X_clean=np.zeros((10, 2, 40))), {}, "X_clean has 2 channels"),
        ({}, dict(noise_snr_db=(5.0, -5.0)), "noise_snr_db"),
        ({}, dict(noise_snr_db=(0.0, float("nan"))), "noise_snr_db"),
        ({}, dict(Fs=1, Ft=1), "TSSTDNClassifier: TSSTDN needs Fs \\+ Ft >= 4"),
    ],
)
def test_bad_arguments_are_named(fit_kwargs, params, match):
    X = np.random.default_rng(0).standard_normal((10, 3, 40)).astype(np.float32)
    y = np.arange(10) % 2
    clf = TSSTDNClassifier(**{**TINY, "max_epochs": 1, **params})
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y, **fit_kwargs)
