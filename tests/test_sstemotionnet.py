"""SST-EmotionNet: the network (shapes, parameter counts, attention), the stream preparation."""

import numpy as np
import pytest
import torch
from sklearn.metrics import balanced_accuracy_score

from skemotion._montages import DEAP32, EMOTIV14, SEED62
from skemotion.classifiers import SSTEmotionNetClassifier
from skemotion.classifiers import sstemotionnet as sst_clf
from skemotion.datasets import make_eeg_emotion
from skemotion.features import DifferentialEntropy, ElectrodeGrid
from skemotion.features.functional import electrode_positions_2d
from skemotion.models import SSTEmotionNet
from skemotion.models.sstemotionnet import _Attention

torch.set_num_threads(1)

TINY_NET = dict(
    grid_size=8, spectral_growth=2, temporal_growth=2, spectral_layers=1, temporal_layers=1
)


def _n_params(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# --- the network -------------------------------------------------------------------------


def test_canonical_configuration_parameters_and_shapes():
    torch.manual_seed(0)
    net = SSTEmotionNet(5, 25, 3).eval()
    # MODELS.md: 519,213 trainable, 526,005 with the BatchNorm running statistics
    assert _n_params(net) == 519_213
    running = sum(
        m.running_mean.numel() + m.running_var.numel()
        for m in net.modules()
        if isinstance(m, torch.nn.BatchNorm3d)
    )
    assert _n_params(net) + running == 526_005
    # by hand (see the Notes of SSTEmotionNet): streams and head
    assert _n_params(net.spectral_stream) == 116_040
    assert _n_params(net.temporal_stream) == 387_370
    assert _n_params(net.classifier) == 15_803
    assert net.spectral_stream.out_channels == 48
    assert net.temporal_stream.out_channels == 264
    assert net.attention_shapes == {
        "spectral": [(16, 16, 2), (8, 8, 1)],
        "temporal": [(4, 4, 6), (2, 2, 3)],
    }
    with torch.no_grad():
        logits = net(torch.randn(2, 1, 32, 32, 5), torch.randn(2, 1, 32, 32, 25))
    assert logits.shape == (2, 3)
    # the temporal stem: (5, 5, 3) stride (2, 2, 1) 'same', then max pooling 'same'
    stem = net.temporal_stream.stem
    with torch.no_grad():
        assert stem(torch.randn(1, 1, 32, 32, 25)).shape == (1, 48, 8, 8, 13)


def _dense_params(c, g):
    # BN(c), 1x1x1 c -> 4g, BN(4g), (3,3,1) 4g -> g, (1,1,3) g -> g
    return 2 * c + c * 4 * g + 2 * 4 * g + 9 * 4 * g * g + 3 * g * g


def _expected_params(n_classes, grid, n_bands, n_samples, gs, gt, ls, lt, cs, ct, hidden, att):
    """Closed-form parameter count of the official architecture, from its layer list."""

    def stream(growth, layers, compression, shape, subsample):
        c = 2 * growth
        total = (75 * c + 2 * c) if subsample else 9 * c
        h, w, d = shape
        if subsample:
            h, w = -(-h // 2), -(-w // 2)
            h, w, d = -(-h // 2), -(-w // 2), -(-d // 2)
        for block in range(3):
            for _ in range(layers):
                total += _dense_params(c, growth)
                c += growth
            if block < 2:
                out = int(np.floor(c * compression))
                total += 2 * c + c * out
                c = out
                h, w, d = h // 2, w // 2, d // 2
                if att:
                    total += (h * w) ** 2 + h * w + d * d + d
        return total + 2 * c, c

    s, c_s = stream(gs, ls, cs, (grid, grid, n_bands), False)
    t, c_t = stream(gt, lt, ct, (grid, grid, n_samples), True)
    return s + t + (c_s + c_t) * hidden + hidden + hidden * n_classes + n_classes


@pytest.mark.parametrize(
    "n_classes, grid, n_bands, n_samples, gs, gt, ls, lt, cs, ct, hidden, att",
    [
        (3, 32, 5, 25, 12, 24, 2, 3, 0.5, 1.0, 50, True),
        (4, 32, 5, 25, 12, 24, 2, 3, 0.5, 1.0, 50, True),
        (3, 32, 5, 25, 12, 24, 2, 3, 0.5, 1.0, 50, False),
        (2, 16, 5, 25, 6, 12, 2, 3, 0.5, 1.0, 50, True),
        (3, 20, 4, 16, 3, 8, 1, 2, 0.5, 0.5, 10, True),  # floor(9 * 0.5) = 4 maps
    ],
)
def test_parameter_count_matches_closed_form(
    n_classes, grid, n_bands, n_samples, gs, gt, ls, lt, cs, ct, hidden, att
):
    net = SSTEmotionNet(
        n_bands,
        n_samples,
        n_classes,
        grid_size=grid,
        spectral_growth=gs,
        temporal_growth=gt,
        spectral_layers=ls,
        temporal_layers=lt,
        spectral_compression=cs,
        temporal_compression=ct,
        hidden_size=hidden,
        attention=att,
    )
    expected = _expected_params(
        n_classes, grid, n_bands, n_samples, gs, gt, ls, lt, cs, ct, hidden, att
    )
    assert _n_params(net) == expected


def test_attention_weights_have_documented_shapes_and_lie_in_0_1():
    torch.manual_seed(0)
    net = SSTEmotionNet(5, 25, 3).eval()
    with torch.no_grad():
        logits, att = net(
            torch.randn(3, 1, 32, 32, 5), torch.randn(3, 1, 32, 32, 25), return_attention=True
        )
    assert logits.shape == (3, 3)
    shapes = {k: [tuple(a.shape) for a in v] for k, v in att.items()}
    assert shapes == {
        "spectral_spatial": [(3, 16, 16), (3, 8, 8)],
        "spectral_band": [(3, 2), (3, 1)],
        "temporal_spatial": [(3, 4, 4), (3, 2, 2)],
        "temporal_time": [(3, 6), (3, 3)],
    }
    for maps in att.values():
        for a in maps:
            assert torch.all(a > 0) and torch.all(a < 1)


def test_attention_module_against_numpy():
    """Spatial weights from the map mean over depth, band weights over space, in parallel."""
    torch.manual_seed(0)
    att = _Attention((3, 4, 2))
    x = torch.randn(5, 6, 3, 4, 2)
    with torch.no_grad():
        out, s, t = att(x)
    xn = x.numpy().astype(np.float64)
    m = xn.mean(axis=1)  # (B, H, W, D)
    Ws, bs = att.spatial.weight.detach().numpy(), att.spatial.bias.detach().numpy()
    Wt, bt = att.depth.weight.detach().numpy(), att.depth.bias.detach().numpy()
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    s_ref = sig(m.mean(axis=-1).reshape(5, 12) @ Ws.T + bs).reshape(5, 3, 4)
    t_ref = sig(m.mean(axis=(1, 2)) @ Wt.T + bt)
    ref = xn * s_ref[:, None, :, :, None] * t_ref[:, None, None, None, :]
    np.testing.assert_allclose(s.numpy(), s_ref, rtol=1e-5)
    np.testing.assert_allclose(t.numpy(), t_ref, rtol=1e-5)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-6)


def test_four_d_inputs_odd_sizes_and_gradients():
    torch.manual_seed(0)
    # odd map size: TensorFlow 'same' rules give ceil(15/2)=8 then 4, then 2 and 1
    net = SSTEmotionNet(5, 7, 4, **{**TINY_NET, "grid_size": 15}).eval()
    assert net.attention_shapes == {
        "spectral": [(7, 7, 2), (3, 3, 1)],
        "temporal": [(2, 2, 2), (1, 1, 1)],
    }
    xs, xt = torch.randn(2, 1, 15, 15, 5), torch.randn(2, 1, 15, 15, 7)
    with torch.no_grad():
        torch.testing.assert_close(net(xs, xt), net(xs[:, 0], xt[:, 0]))
    net.train()
    net(xs, xt).sum().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_wrong_input_shape_is_named():
    net = SSTEmotionNet(5, 25, 3, **TINY_NET)
    with pytest.raises(ValueError, match="SSTEmotionNet expects temporal of shape"):
        net(torch.randn(2, 1, 8, 8, 5), torch.randn(2, 1, 8, 8, 24))
    with pytest.raises(ValueError, match="SSTEmotionNet expects spectral"):
        net(torch.randn(2, 8, 8), torch.randn(2, 1, 8, 8, 25))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_classes=1), "n_classes"),
        (dict(spectral_compression=0.0), "spectral_compression"),
        (dict(temporal_layers=(1, 2)), "temporal_layers"),
        (dict(dropout=1.0), "dropout"),
        (dict(grid_size=0), "grid"),
    ],
)
def test_invalid_configuration_is_named(kwargs, match):
    args = {**dict(n_bands=5, n_samples=25, n_classes=3), **kwargs}
    with pytest.raises(ValueError, match=match):
        SSTEmotionNet(**args)


# --- stream preparation ------------------------------------------------------------------


@pytest.mark.parametrize("n_times, n_segments", [(250, 25), (256, 25), (7, 3), (5, 25), (1, 4)])
def test_segment_means_against_repetition(n_times, n_segments):
    """Equal-part means, checked by upsampling by n_segments (exact) and block means."""
    X = np.random.default_rng(0).standard_normal((3, 4, n_times))
    out = sst_clf._segment_means(X, n_segments)
    ref = np.repeat(X, n_segments, axis=-1).reshape(3, 4, n_segments, n_times).mean(axis=-1)
    np.testing.assert_allclose(out, ref, atol=1e-12)
    if n_times % n_segments == 0:
        blocks = X.reshape(3, 4, n_segments, -1).mean(axis=-1)
        np.testing.assert_allclose(out, blocks, atol=1e-12)


def test_band_de_against_closed_form_for_sinusoids():
    """A sine of amplitude A in a band: variance A^2 / 2, DE 0.5 * log(2 pi e A^2 / 2)."""
    sfreq, n = 128.0, 256
    t = np.arange(n) / sfreq
    freqs = [2.0, 6.0, 10.0, 20.0, 40.0]  # one per default band, whole cycles in 2 s
    amps = np.array([3.0, 1.5, 0.7, 2.0, 0.25])
    X = (amps[:, None] * np.sin(2 * np.pi * np.array(freqs)[:, None] * t))[None]
    X = np.concatenate([X, 2 * X]).astype(np.float32)  # (2, 5, 256)
    de = sst_clf._band_de(X, sfreq, None)
    assert de.shape == (2, 5, 5) and de.dtype == np.float32
    for w, scale in enumerate([1.0, 2.0]):
        expected = 0.5 * np.log(2 * np.pi * np.e * (scale * amps) ** 2 / 2)
        np.testing.assert_allclose(np.diag(de[w]), expected, atol=1e-4)
    # no power outside each sine's band
    off = de[0][~np.eye(5, dtype=bool)]
    assert np.all(off < -10)  # float32 rounding residue only (variance < 1e-8)


def _pixel_xy(names, size):
    """(x, y) of the pixel centres by the documented scaling (outermost electrode on the border)."""
    radius = np.abs(electrode_positions_2d(names)).max()
    rr, cc = np.mgrid[0:size, 0:size].astype(float)
    return (2 * cc / (size - 1) - 1) * radius, (1 - 2 * rr / (size - 1)) * radius


@pytest.mark.parametrize("names", [SEED62, DEAP32, EMOTIV14])
@pytest.mark.parametrize("interpolation", ["linear", "cubic"])
def test_maps_reproduce_a_linear_scalp_field(names, interpolation):
    """Electrode values of a linear field a + b x + c y give the field itself inside the hull."""
    xy = electrode_positions_2d(names)
    a, b, c = 0.3, -1.2, 2.5
    values = np.stack([a + b * xy[:, 0] + c * xy[:, 1], np.full(len(names), 4.0)], axis=-1)
    values = np.stack([values, -values])  # (2, C, 2)
    W, shape = sst_clf._map_weights(names, 16, interpolation)
    maps = sst_clf._to_maps(values, W, shape)
    assert maps.shape == (2, 1, 16, 16, 2)
    inside = np.abs(W).sum(axis=1).reshape(shape) > 0
    assert 0.25 < inside.mean() < 0.9  # the head's hull covers part of the square
    px, py = _pixel_xy(names, 16)
    tol = 1e-9 if interpolation == "linear" else 1e-5  # Clough-Tocher: iterative gradients
    np.testing.assert_allclose(maps[0, 0, ..., 0][inside], (a + b * px + c * py)[inside], atol=tol)
    np.testing.assert_allclose(maps[0, 0, ..., 1][inside], 4.0, atol=tol)
    np.testing.assert_allclose(maps[1], -maps[0])
    assert np.all(maps[:, :, ~inside] == 0)


def test_maps_without_interpolation_put_each_value_at_its_electrode():
    names = ["Fz", "Cz", "Pz", "T7", "T8"]
    values = np.arange(10, dtype=np.float32).reshape(1, 5, 2)
    W, shape = sst_clf._map_weights(names, 9, "none")
    maps = sst_clf._to_maps(values, W, shape)
    assert maps.dtype == np.float32
    # on a 9x9 image, Cz (0, 0) is the centre, T7/T8 the left/right border, Fz/Pz halfway up/down
    cells = {"Fz": (2, 4), "Cz": (4, 4), "Pz": (6, 4), "T7": (4, 0), "T8": (4, 8)}
    expected = np.zeros((9, 9, 2), dtype=np.float32)
    for i, name in enumerate(names):
        expected[cells[name]] = values[0, i]
    np.testing.assert_array_equal(maps[0, 0], expected)


# --- the classifier ----------------------------------------------------------------------

TINY = dict(
    grid_size=8,
    temporal_depth=8,
    spectral_growth=2,
    temporal_growth=2,
    spectral_layers=1,
    temporal_layers=1,
    hidden_size=8,
    batch_size=16,
    device="cpu",
    random_state=0,
)


@pytest.fixture(scope="module")
def easy():
    return make_eeg_emotion(
        "emotiv14",
        n_subjects=4,
        n_trials_per_class=2,
        n_windows_per_trial=6,
        window_seconds=1.0,
        effect_size=5.0,
        random_state=0,
    )


def test_learns_on_a_held_out_subject(easy):
    test = easy.groups == np.unique(easy.groups)[0]
    params = {**TINY, "spectral_growth": 4, "hidden_size": 16}
    clf = SSTEmotionNetClassifier("emotiv14", max_epochs=10, lr=1e-2, **params)
    clf.fit(easy.X[~test], easy.y[~test])
    score = balanced_accuracy_score(easy.y[test], clf.predict(easy.X[test]))
    assert score > 0.6, score  # chance is 1/3
    assert clf.history_[-1, "train_loss"] < clf.history_[0, "train_loss"]


@pytest.mark.parametrize("montage", ["seed62", "deap32", "emotiv14"])
def test_every_montage_by_name_and_by_channel_list(montage):
    data = make_eeg_emotion(
        montage, n_subjects=1, n_windows_per_trial=2, window_seconds=1.0, random_state=0
    )
    clf = SSTEmotionNetClassifier(montage, max_epochs=1, **TINY).fit(data.X, data.y)
    assert clf.sfreq_ == data.sfreq
    assert clf.grid_weights_.shape == (64, len(data.ch_names))
    assert clf.grid_mask_.shape == (8, 8) and 0.2 < clf.grid_mask_.mean() < 1.0
    prepared = clf._prepare(data.X)
    assert prepared["spectral"].shape == (len(data.X), 1, 8, 8, 5)
    assert prepared["temporal"].shape == (len(data.X), 1, 8, 8, 8)
    assert clf.predict_proba(data.X).shape == (len(data.X), 3)
    # the same electrodes given as a list (other spelling) with the rate give the same maps
    names = [c.lower() for c in data.ch_names]
    clf2 = SSTEmotionNetClassifier(names, sfreq=data.sfreq, max_epochs=1, **TINY)
    clf2.fit(data.X, data.y)
    np.testing.assert_array_equal(clf2.grid_weights_, clf.grid_weights_)
    np.testing.assert_array_equal(clf2.predict_proba(data.X), clf.predict_proba(data.X))


@pytest.mark.parametrize(
    "kwargs, X_channels, match",
    [
        (dict(ch_names=["Fp1", "Cz", "XYZ", "Q1"], sfreq=128.0), 4, r"XYZ.*Q1"),
        (dict(ch_names=None, sfreq=128.0), 3, "ch_names is None"),
        (dict(ch_names=["Fz", "Cz", "Pz"]), 3, "sfreq is None"),
        (dict(ch_names=["Fz", "Cz", "Pz"], sfreq=128.0), 4, "holds 3 names but X has 4"),
        (dict(ch_names=["Fz", "Cz"], sfreq=128.0), 2, "interpolation='none'"),
        (dict(ch_names="emotiv14", bands=[(4.0, 2.0)]), 14, "bands"),
    ],
)
def test_bad_channel_setup_is_named(kwargs, X_channels, match):
    X = np.random.default_rng(0).standard_normal((6, X_channels, 64)).astype(np.float32)
    y = np.arange(6) % 2
    clf = SSTEmotionNetClassifier(**{**TINY, **kwargs, "max_epochs": 1})
    with pytest.raises(ValueError, match="SSTEmotionNetClassifier") as info:
        clf.fit(X, y)
    assert info.match(match)


def test_single_channel_without_interpolation():
    X = np.random.default_rng(0).standard_normal((12, 40)).astype(np.float32)  # 2-D: 1 channel
    y = np.arange(12) % 2
    clf = SSTEmotionNetClassifier(["Cz"], sfreq=100.0, interpolation="none", max_epochs=1, **TINY)
    clf.fit(X, y)
    assert clf.grid_mask_.sum() == 1
    temporal = clf._prepare(X[:, None, :])["temporal"]
    # the whole map is zero but Cz's pixel, which holds the window's equal-part means
    r, c = np.argwhere(clf.grid_mask_)[0]
    ref = X.reshape(12, 8, 5).mean(axis=-1)
    np.testing.assert_allclose([clf.temporal_mean_, clf.temporal_scale_], [ref.mean(), ref.std()])
    ref = (ref - ref.mean()) / ref.std()
    np.testing.assert_allclose(temporal[:, 0, r, c], ref, rtol=1e-5, atol=1e-6)
    temporal[:, 0, r, c] = 0
    assert not temporal.any()


def test_inputs_are_not_modified(easy):
    X, y = easy.X[:24].copy(), easy.y[:24].copy()
    X0, y0 = X.copy(), y.copy()
    clf = SSTEmotionNetClassifier("emotiv14", max_epochs=1, **TINY).fit(X, y)
    clf.predict(X)
    clf.attention_maps(X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_preparation_is_the_same_at_fit_and_predict_and_matches_the_transformers(easy, monkeypatch):
    seen = []
    real = SSTEmotionNetClassifier._training_inputs

    def spy(self, X, prepared, extras):
        seen.append({k: v.copy() for k, v in prepared.items()})
        return real(self, X, prepared, extras)

    monkeypatch.setattr(SSTEmotionNetClassifier, "_training_inputs", spy)
    X = easy.X[:30]
    clf = SSTEmotionNetClassifier("emotiv14", max_epochs=1, **TINY).fit(X, easy.y[:30])
    again = clf._prepare(X)
    subset = clf._prepare(X[5:9])  # fitted statistics only: a window's input never depends
    for key in ("spectral", "temporal"):  # on the other windows it is predicted with
        np.testing.assert_array_equal(again[key], seen[0][key])
        np.testing.assert_allclose(subset[key], seen[0][key][5:9], rtol=1e-5, atol=1e-6)
    # independently: the package's transformers, standardised with the fitted statistics
    de = DifferentialEntropy(sfreq=easy.sfreq).fit_transform(X)  # (n, 14, 5)
    np.testing.assert_allclose(clf.spectral_mean_, de.mean(axis=(0, 1)), rtol=1e-5)
    np.testing.assert_allclose(clf.spectral_scale_, de.std(axis=(0, 1)), rtol=1e-4)
    grid = ElectrodeGrid("emotiv14", grid="8x8", interpolation="cubic")
    spectral = grid.fit_transform((de - clf.spectral_mean_) / clf.spectral_scale_)
    np.testing.assert_allclose(again["spectral"][:, 0], spectral.transpose(0, 2, 3, 1), atol=1e-4)
    parts = X.reshape(30, 14, 8, 16).mean(axis=-1)  # 128 samples in 8 parts of 16
    np.testing.assert_allclose(clf.temporal_mean_, parts.mean(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(clf.temporal_scale_, parts.std(), rtol=1e-4)
    parts = (parts - clf.temporal_mean_) / clf.temporal_scale_
    temporal = grid.transform(parts)
    np.testing.assert_allclose(again["temporal"][:, 0], temporal.transpose(0, 2, 3, 1), atol=1e-4)


def test_preparation_is_batched_once_per_call_whatever_the_epochs(easy, monkeypatch):
    calls = []
    real = sst_clf.differential_entropy

    def spy(X, *args, **kwargs):
        calls.append(X.shape[0])
        return real(X, *args, **kwargs)

    monkeypatch.setattr(sst_clf, "differential_entropy", spy)
    X, y = easy.X[:40], easy.y[:40]
    for epochs in (1, 3):
        calls.clear()
        clf = SSTEmotionNetClassifier("emotiv14", max_epochs=epochs, **TINY).fit(X, y)
        assert calls == [40, 40]  # fitted statistics, then the training inputs: whole batch
    calls.clear()
    clf.predict_proba(X)
    assert calls == [40]


def test_attention_maps_shapes_and_range(easy):
    X = easy.X[:20]
    clf = SSTEmotionNetClassifier("emotiv14", max_epochs=1, **{**TINY, "grid_size": 16})
    clf.fit(X, easy.y[:20])
    maps = clf.attention_maps(X[:5])
    shapes = {k: [a.shape for a in v] for k, v in maps.items()}
    assert shapes == {
        "spectral_spatial": [(5, 8, 8), (5, 4, 4)],
        "spectral_band": [(5, 2), (5, 1)],
        "temporal_spatial": [(5, 2, 2), (5, 1, 1)],
        "temporal_time": [(5, 2), (5, 1)],  # depth 8, max-pooled to 4, then 2 and 1
    }
    for arrays in maps.values():
        for a in arrays:
            assert a.dtype == np.float32 and np.all((a > 0) & (a < 1))
    # per window: the same weights whatever the batch it is computed in
    np.testing.assert_allclose(
        clf.attention_maps(X[2:3])["spectral_spatial"][0][0],
        maps["spectral_spatial"][0][2],
        rtol=1e-5,
    )
    no_att = SSTEmotionNetClassifier("emotiv14", attention=False, max_epochs=1, **TINY)
    assert no_att.fit(X, easy.y[:20]).attention_maps(X[:2]) == {
        "spectral_spatial": [],
        "spectral_band": [],
        "temporal_spatial": [],
        "temporal_time": [],
    }


def test_fit_is_deterministic(easy):
    X, y = easy.X[:32], easy.y[:32]
    p1 = SSTEmotionNetClassifier("emotiv14", max_epochs=2, **TINY).fit(X, y).predict_proba(X)
    p2 = SSTEmotionNetClassifier("emotiv14", max_epochs=2, **TINY).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    p3 = SSTEmotionNetClassifier("emotiv14", max_epochs=2, **{**TINY, "random_state": 1})
    assert not np.array_equal(p1, p3.fit(X, y).predict_proba(X))


def test_canonical_configuration_through_the_classifier():
    clf = SSTEmotionNetClassifier("seed62", grid_size=32, spectral_growth=12, temporal_growth=24)
    shape = {"spectral": (1, 32, 32, 5), "temporal": (1, 32, 32, 25)}
    assert _n_params(clf._build_module(shape, 3)) == 519_213
