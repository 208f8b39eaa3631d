"""SSL-ECG: the network (parameter counts, shapes) and the self-supervised encoder."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import sklearn
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    LeaveOneGroupOut,
    cross_val_score,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skemotion.models import SSLECGNet
from skemotion.ssl import SSLECGEncoder, person_zscore
from skemotion.transfer import SubjectStandardizer

#: SSL-ECG's per-person robust z-score
SSL_ZSCORE = dict(percentile_range=(2.5, 97.5))


def _n_params(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def test_sslecgnet_canonical_parameter_counts():
    net = SSLECGNet()
    assert _n_params(net.encoder) == 329_152
    assert _n_params(net) == 561_223
    assert all(_n_params(h) == 33_153 for h in net.heads)


def test_sslecgnet_layer_shapes():
    net = SSLECGNet().eval()
    x = torch.randn(2, 1, 2560)
    with torch.no_grad():
        h1 = net.encoder.block1(x)
        h2 = net.encoder.block2(h1)
        assert h1.shape == (2, 32, 1277)
        assert h2.shape == (2, 64, 635)
        assert net.embed(x).shape == (2, 128)
        assert net(x).shape == (2, 7)


def test_sslecgnet_same_padding_matches_tensorflow():
    # TF 'same' for an even kernel pads (k - 1) // 2 on the left and k // 2 on the right
    conv = SSLECGNet().encoder.block1[0]
    x = torch.randn(1, 1, 50)
    k = conv.kernel_size[0]
    ref = torch.nn.functional.conv1d(
        torch.nn.functional.pad(x, ((k - 1) // 2, k // 2)), conv.weight, conv.bias
    )
    with torch.no_grad():
        torch.testing.assert_close(conv(x), ref)


@pytest.mark.parametrize("n_times", [22, 100, 2560, 3000])
def test_sslecgnet_any_length(n_times):
    net = SSLECGNet(n_channels=2, n_filters=(4, 8, 16), head_units=8).eval()
    assert net.encoder.min_times == 22
    with torch.no_grad():
        assert net(torch.randn(3, 2, n_times)).shape == (3, 7)
        assert net.embed(torch.randn(3, 2, n_times)).shape == (3, 16)


def test_sslecgnet_bad_config():
    with pytest.raises(ValueError, match="3 values"):
        SSLECGNet(n_filters=(8, 16))


# ---------------------------------------------------------------------- the encoder
DATA = Path(__file__).parent / "data" / "mitbih_100_excerpt.npz"
TINY = dict(n_filters=(4, 8, 8), head_units=8, max_epochs=1, batch_size=16, device="cpu")


@pytest.fixture(scope="module")
def mitbih_windows():
    """5 s windows (1800 samples at 360 Hz) of the 5 min MIT-BIH excerpt, z-scored."""
    d = np.load(DATA)
    x = (d["adc"].astype(np.float64) - d["baseline"]) / d["gain"]
    W = x[: x.size // 1800 * 1800].reshape(-1, 1, 1800)
    return person_zscore(W, np.zeros(len(W)))


def _toy(n=24, T=512, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, T)).astype(np.float32)


def test_pretext_accuracy_rises_above_chance_on_real_ecg(mitbih_windows):
    train, test = mitbih_windows[:48], mitbih_windows[48:]
    enc = SSLECGEncoder(
        sfreq=360.0,
        target_sfreq=128.0,
        n_filters=(8, 16, 32),
        head_units=32,
        dropout=0.1,
        lr=1e-2,
        batch_size=8,
        max_epochs=10,
        random_state=0,
        device="cpu",
    ).fit(train)
    chance = 1 / 7
    assert enc.history_[0]["train_pretext_accuracy"] < 0.25
    assert enc.pretext_accuracy_ > 2.5 * chance
    assert enc.score(test) > 2.5 * chance  # held-out windows of the same recording
    assert enc.pretext_head_accuracy_.shape == (7,)
    Z = enc.transform(test)
    assert Z.shape == (len(test), 32) and Z.dtype == np.float32


def test_transform_shape_and_canonical_width():
    X = _toy(n=3, T=2560)
    enc = SSLECGEncoder(max_epochs=1, batch_size=3, random_state=0, device="cpu").fit(X)
    assert sum(p.numel() for p in enc.module_.encoder.parameters()) == 329_152
    assert enc.transform(X).shape == (3, 128)
    assert len(enc.get_feature_names_out()) == 128


def test_deterministic_and_global_rng_untouched():
    X = _toy()
    torch.manual_seed(123)
    np.random.seed(7)  # noqa: NPY002  (checks that fit leaves the global state alone)
    state_t = torch.get_rng_state()
    state_np = np.random.get_state()[1].copy()  # noqa: NPY002
    a = SSLECGEncoder(random_state=0, **TINY).fit(X)
    assert torch.equal(torch.get_rng_state(), state_t)
    np.testing.assert_array_equal(np.random.get_state()[1], state_np)  # noqa: NPY002
    b = SSLECGEncoder(random_state=0, **TINY).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    c = SSLECGEncoder(random_state=1, **TINY).fit(X)
    assert not np.allclose(a.transform(X), c.transform(X))


def test_does_not_modify_input_and_pickles():
    X = _toy()
    X0 = X.copy()
    enc = SSLECGEncoder(random_state=0, **TINY).fit(X)
    np.testing.assert_array_equal(X, X0)
    Z = enc.transform(X)
    enc2 = pickle.loads(pickle.dumps(enc))
    np.testing.assert_array_equal(enc2.transform(X), Z)
    assert next(enc2.module_.parameters()).device.type == "cpu"


def _ecg_like(sfreq, seconds=4.0, n=6, seed=0):
    """Band-limited 'ECG' (sum of 3-25 Hz sines with random phases) sampled at sfreq."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sfreq)) / sfreq
    f = np.array([3.0, 7.0, 11.0, 17.0, 25.0])
    ph = rng.uniform(0, 2 * np.pi, (n, f.size))
    return (
        np.sin(2 * np.pi * f[None, :, None] * t + ph[..., None]).sum(1)[:, None].astype(np.float32)
    )


def test_resampling_and_highpass_options():
    X = _toy(n=4, T=3600)  # 10 s at 360 Hz
    enc = SSLECGEncoder(sfreq=360.0, random_state=0, **TINY).fit(X)
    assert enc.n_times_ == 3600
    enc2 = SSLECGEncoder(sfreq=360.0, target_sfreq=None, highpass=None, random_state=0, **TINY)
    assert enc2.fit_transform(X).shape == (4, 8)


def test_transform_resamples_and_highpasses():
    # transform's input reaches the network resampled to 256 Hz and high-passed at 0.8 Hz:
    # compared with the same steps done here with scipy directly (a 50-unit baseline offset
    # makes a skipped high-pass visible, the 360 -> 256 Hz rate a skipped resampling)
    from scipy import signal

    X = _ecg_like(360.0) + 50.0
    enc = SSLECGEncoder(sfreq=360.0, random_state=0, **TINY).fit(X)
    ref = signal.resample_poly(X.astype(np.float64), 32, 45, axis=-1)
    sos = signal.butter(4, 0.8, "highpass", fs=256.0, output="sos")
    ref = signal.sosfiltfilt(sos, ref, axis=-1).astype(np.float32)
    with torch.no_grad():
        Z_ref = enc.module_.embed(torch.from_numpy(ref)).numpy()
    np.testing.assert_allclose(enc.transform(X), Z_ref, rtol=1e-3, atol=1e-4)


def test_precision_callbacks_and_random_state_honoured():
    from skorch.callbacks import Callback

    seen = []

    class Dtypes(Callback):
        log = seen  # a class attribute: shared by the deep copy the encoder makes

        def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
            if training:
                type(self).log.append(str(y_pred.dtype))

    X = _toy(n=8)
    bf = SSLECGEncoder(random_state=0, precision="bf16", callbacks=[("dt", Dtypes())], **TINY)
    bf.fit(X)
    assert seen and set(seen) == {"torch.bfloat16"}
    seen.clear()
    fp = SSLECGEncoder(random_state=0, callbacks=[("dt", Dtypes())], **TINY).fit(X)
    assert seen and set(seen) == {"torch.float32"}
    assert "train_pretext_accuracy" in fp.history_[-1]
    z32 = fp.transform(X)
    assert bf.transform(X).dtype == np.float32 and not np.array_equal(bf.transform(X), z32)
    np.testing.assert_array_equal(SSLECGEncoder(random_state=0, **TINY).fit(X).transform(X), z32)
    assert not np.array_equal(SSLECGEncoder(random_state=1, **TINY).fit(X).transform(X), z32)


def test_verbose_progress(capsys):
    X = _toy(n=8)
    SSLECGEncoder(random_state=0, **TINY).fit(X)
    assert capsys.readouterr().err == ""
    SSLECGEncoder(random_state=0, verbose=1, **TINY).fit(X)
    err = capsys.readouterr().err
    assert "SSLECGEncoder" in err and "epoch" in err


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_filters=(4, 8)), "n_filters"),
        (dict(task_weights=(1.0, 1.0)), "task_weights"),
        (dict(lr=-1.0), "lr"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        SSLECGEncoder(**{**TINY, **params}).fit(_toy(n=4))


def test_bad_input():
    enc = SSLECGEncoder(random_state=0, **TINY)
    with pytest.raises(ValueError, match="SSLECGEncoder: argument X has windows of 10 samples"):
        enc.fit(_toy(n=4, T=10))
    with pytest.raises(ValueError, match="NaN"):
        enc.fit(np.full((4, 1, 512), np.nan))
    enc.fit(_toy(n=4))
    with pytest.raises(ValueError, match="channels"):
        enc.transform(np.zeros((2, 2, 512), dtype=np.float32))
    with pytest.raises(ValueError, match="time samples"):
        enc.transform(np.zeros((2, 1, 256), dtype=np.float32))


def _labelled_toy(n_subjects=3, n_per_class=6, T=512):
    rng = np.random.default_rng(0)
    t = np.arange(T) / 256.0
    X, y, g = [], [], []
    for s in range(n_subjects):
        for label in (0, 1):
            for _ in range(n_per_class):
                f = 1.0 + 0.6 * label + 0.1 * rng.standard_normal()
                x = np.sin(2 * np.pi * f * t) * (1 + s) + 0.2 * rng.standard_normal(T)
                X.append(x)
                y.append(label)
                g.append(s)
    return np.asarray(X, np.float32)[:, None], np.asarray(y), np.asarray(g)


def test_pipeline_cross_val_score_and_grid_search():
    X, y, groups = _labelled_toy()
    pipe = Pipeline(
        [
            ("ssl", SSLECGEncoder(random_state=0, **TINY)),
            ("scale", StandardScaler()),
            ("clf", LogisticRegression()),
        ]
    )
    scores = cross_val_score(pipe, X, y, groups=groups, cv=LeaveOneGroupOut())
    assert scores.shape == (3,)
    grid = GridSearchCV(pipe, {"ssl__max_epochs": [1, 2]}, cv=LeaveOneGroupOut())
    grid.fit(X, y, groups=groups)
    assert grid.best_params_["ssl__max_epochs"] in (1, 2)
    # the encoder alone can be tuned on its pretext accuracy (no labels)
    GridSearchCV(SSLECGEncoder(random_state=0, **TINY), {"lr": [1e-3, 1e-2]}, cv=2).fit(X)


def test_person_zscore_routed_through_pipeline():
    X, y, groups = _labelled_toy()
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [
                (
                    "z",
                    SubjectStandardizer(**SSL_ZSCORE)
                    .set_fit_request(groups=True)
                    .set_transform_request(groups=True),
                ),
                ("ssl", SSLECGEncoder(random_state=0, **TINY)),
                ("scale", StandardScaler()),
                ("clf", LogisticRegression()),
            ]
        )
        scores = cross_val_score(pipe, X, y, cv=LeaveOneGroupOut(), params={"groups": groups})
        assert scores.shape == (3,)
        pipe.fit(X, y, groups=groups)
        proba = pipe.predict_proba(X, groups=groups)
    # the routed groups reached the z-score in fit and at predict: the same as z-scoring each
    # person by hand before a pipeline without it (ignoring groups would z-score the batch)
    manual = Pipeline(pipe.steps[1:]).fit(person_zscore(X, groups), y)
    np.testing.assert_allclose(proba, manual.predict_proba(person_zscore(X, groups)), atol=1e-6)


def test_person_zscore_values():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 2, 300)) * 3 + 5
    X[10:] *= 10
    groups = np.repeat([0, 1], 10)
    Z = SubjectStandardizer(**SSL_ZSCORE).fit_transform(X, groups=groups)
    for g in (0, 1):
        Zg = Z[groups == g]
        assert abs(Zg.mean()) < 1e-5
        # std of the central 95 % is 1 by construction; the full std is a bit larger
        lo, hi = np.percentile(Zg[:, 0], [2.5, 97.5])
        central = Zg[:, 0][(Zg[:, 0] >= lo) & (Zg[:, 0] <= hi)]
        assert central.std() == pytest.approx(1.0, rel=1e-4)
    np.testing.assert_allclose(Z, person_zscore(X, groups), rtol=1e-6)
    assert person_zscore(X, groups).dtype == np.float32 and Z.dtype == X.dtype
    # without groups: the windows passed are one person, whatever fit saw
    est = SubjectStandardizer(**SSL_ZSCORE).fit(X[:10])
    np.testing.assert_allclose(est.transform(X[10:]), Z[10:], rtol=1e-12)
    assert SubjectStandardizer(**SSL_ZSCORE).fit(X[:, 0]).transform(X[:, 0]).ndim == 2
    with pytest.raises(ValueError, match="groups must have shape"):
        person_zscore(X, groups[:5])
    with pytest.raises(ValueError, match="percentile_range"):
        SubjectStandardizer(percentile_range=(90, 10)).fit(X)


def test_person_zscore_is_a_deprecated_alias():
    from skemotion.ssl import PersonZScore

    rng = np.random.default_rng(1)
    X = (
        rng.standard_normal((12, 2, 200)).astype(np.float32)
        * np.repeat([1.0, 8.0], 6)[:, None, None]
    )
    groups = np.repeat([0, 1], 6)
    est = PersonZScore()
    assert est.get_params() == {"robust": False, "percentile_range": (2.5, 97.5)}
    with pytest.warns(
        FutureWarning,
        match=r"PersonZScore is deprecated and will be removed in "
        r"the next release; use skemotion\.transfer\.SubjectStandardizer",
    ):
        Z = est.fit_transform(X, groups=groups)
    np.testing.assert_array_equal(
        Z, SubjectStandardizer(**SSL_ZSCORE).fit_transform(X, groups=groups)
    )
    np.testing.assert_allclose(Z, person_zscore(X, groups), rtol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no cuda device")
@pytest.mark.gpu
def test_fit_on_gpu_pickles_to_cpu():
    X = _toy()
    enc = SSLECGEncoder(random_state=0, **{**TINY, "device": "cuda"}).fit(X)
    assert next(enc.module_.parameters()).device.type == "cpu"
    Z = enc.transform(X)
    enc2 = pickle.loads(pickle.dumps(enc))
    enc2.set_params(device="cpu")
    np.testing.assert_allclose(enc2.transform(X), Z, atol=1e-4)
