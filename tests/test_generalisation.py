"""Cross-subject options of every deep classifier: subject-adversarial training, batch-norm
adaptation at prediction (AdaBN) and on-device augmentation (skemotion.augment)."""

import copy

import numpy as np
import pytest
import scipy.signal
import torch
from sklearn.base import clone
from skorch.callbacks import Callback

from skemotion._training import (
    AugmentationRandom,
    GradientReversal,
    MixedTargets,
    SubjectAdversary,
    grl_weight,
)
from skemotion.augment import (
    AmplitudeScale,
    BandNoise,
    ChannelDropout,
    FrequencyShift,
    Mixup,
    TimeShift,
    amplitude_scale,
    band_limited_noise,
    channel_dropout,
    frequency_shift,
    mixup,
    time_shift,
)
from skemotion.classifiers import (
    EEGNetClassifier,
    GRUXNetClassifier,
    SSTEmotionNetClassifier,
    TSSTDNClassifier,
)
from skemotion.datasets import make_eeg_emotion

torch.set_num_threads(1)

SFREQ = 128.0
FAST = dict(max_epochs=3, batch_size=16, random_state=0, device="cpu")
#: the four deep classifiers at toy width on 14-channel, 2 s windows
CLASSIFIERS = {
    "eegnet": lambda **kw: EEGNetClassifier(F1=4, D=1, F2=4, kernel_length=16, **FAST, **kw),
    "tsstdn": lambda **kw: TSSTDNClassifier(
        D=1, lstm_hidden=4, Fs=4, Ft=4, sfreq=SFREQ, **FAST, **kw
    ),
    "sstemotionnet": lambda **kw: SSTEmotionNetClassifier(
        "emotiv14",
        sfreq=SFREQ,
        grid_size=8,
        temporal_depth=8,
        spectral_growth=2,
        temporal_growth=2,
        spectral_layers=1,
        temporal_layers=1,
        hidden_size=8,
        **FAST,
        **kw,
    ),
    "gruxnet": lambda **kw: GRUXNetClassifier(
        filters=(2, 2, 4),
        gru_hidden=4,
        n_heads=2,
        head_units=(8,),
        stft_shape=(16, 16),
        sfreq=SFREQ,
        **FAST,
        **kw,
    ),
}
NAMES = list(CLASSIFIERS)


@pytest.fixture(scope="module")
def data():
    d = make_eeg_emotion("emotiv14", n_subjects=3, n_windows_per_trial=5, random_state=0)
    return d.X, d.y, d.groups


def _all_augmentations():
    return [
        TimeShift(),
        AmplitudeScale(),
        ChannelDropout(),
        BandNoise(sfreq=SFREQ),
        FrequencyShift(sfreq=SFREQ),
        Mixup(),
    ]


# --- gradient reversal and its ramp ----------------------------------------------------------
def test_gradient_reversal_flips_and_scales_the_gradient_only():
    x = torch.randn(5, 3, requires_grad=True)
    w = torch.randn(3)
    y = GradientReversal.apply(x, 0.7)
    assert torch.equal(y, x)  # identity forward
    (y * w).sum().backward()
    torch.testing.assert_close(x.grad, -0.7 * w.expand(5, 3))
    # through a toy graph: d/dx sum((GRL(x) * a)^2) = -lambda * 2 a^2 x
    x2 = torch.randn(4, requires_grad=True)
    a = torch.tensor([1.0, -2.0, 0.5, 3.0])
    ((GradientReversal.apply(x2, 0.25) * a) ** 2).sum().backward()
    torch.testing.assert_close(x2.grad, -0.25 * 2 * a**2 * x2.detach())


def test_grl_weight_is_the_dann_ramp():
    p = np.linspace(0, 1, 11)
    want = 2.0 / (1.0 + np.exp(-10.0 * p)) - 1.0
    np.testing.assert_allclose([grl_weight(v) for v in p], want, rtol=0, atol=1e-15)
    assert grl_weight(0.0) == 0.0 and 0.9999 < grl_weight(1.0) < 1.0


class _AdversaryProbe(Callback):
    """Records the discriminator's size and the subject codes of every training batch."""

    def on_train_begin(self, net, **kwargs):
        self.n_out = net.module_.discriminator[-1].out_features
        self.codes = []
        self.valid_codes = []

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        subjects = net.batch_subjects_[0]
        (self.codes if training else self.valid_codes).append(subjects.numpy().copy())


@pytest.mark.parametrize("name", NAMES)
def test_adversarial_ramp_recorded_per_step_follows_the_closed_form(data, name):
    X, y, g = data
    clf = CLASSIFIERS[name](subject_adversarial=0.5).fit(X, y, groups=g)
    h = clf.net_.history
    weights = [b["grl_weight"] for row in h for b in row["batches"] if "grl_weight" in b]
    per_epoch = h[0, "train_batch_count"]
    total = clf.max_epochs * per_epoch
    assert len(weights) == total
    k = np.arange(total)
    np.testing.assert_allclose(weights, 2 / (1 + np.exp(-10 * k / total)) - 1, rtol=1e-12)
    losses = [b["train_subject_loss"] for row in h for b in row["batches"]]
    assert all(np.isfinite(losses)) and len(losses) == total


@pytest.mark.parametrize("name", NAMES)
def test_adversary_sees_training_subjects_only_and_is_gone_after_fit(data, name):
    X, y, g = data
    probe = _AdversaryProbe()
    clf = CLASSIFIERS[name](
        subject_adversarial=1.0, early_stopping=True, validation_fraction=0.3, patience=5
    )
    clf.set_params(callbacks=[("probe", probe)]).fit(X, y, groups=g)
    probe = dict(clf.net_.callbacks_)["probe"]
    # 3 subjects, one held out for validation: a 2-subject discriminator, fed codes 0 and 1
    assert probe.n_out == 2
    assert set(np.concatenate(probe.codes)) == {0, 1}
    assert set(np.concatenate(probe.valid_codes)) == {-1}  # never a training code
    module = clf.net_.module_
    assert not isinstance(module, SubjectAdversary)
    assert not any("discriminator" in k for k in module.state_dict())
    n_opt = sum(p.numel() for grp in clf.net_.optimizer_.param_groups for p in grp["params"])
    assert n_opt == sum(p.numel() for p in module.parameters())
    assert not module.get_submodule(module.embedding_module)._forward_pre_hooks
    clf.predict_proba(X[:4])


@pytest.mark.parametrize("name", NAMES)
def test_adversarial_weight_zero_is_training_without_the_option(data, name):
    X, y, g = data
    plain = CLASSIFIERS[name]().fit(X, y)
    zero = CLASSIFIERS[name](subject_adversarial=0.0).fit(X, y, groups=g)
    on = CLASSIFIERS[name](subject_adversarial=1.0).fit(X, y, groups=g)
    for (k, a), b in zip(
        plain.net_.module_.state_dict().items(), zero.net_.module_.state_dict().values()
    ):
        assert torch.equal(a, b), k
    np.testing.assert_array_equal(plain.predict_proba(X), zero.predict_proba(X))
    assert not np.allclose(plain.predict_proba(X), on.predict_proba(X))


def test_adversarial_without_groups_is_a_clear_error(data):
    X, y, _ = data
    clf = CLASSIFIERS["eegnet"](subject_adversarial=0.3)
    with pytest.raises(
        ValueError, match=r"EEGNetClassifier: subject_adversarial=0.3 needs .*groups"
    ):
        clf.fit(X, y)
    with pytest.raises(ValueError, match="at least 2 training subjects"):
        clf.fit(X, y, groups=np.zeros(len(y)))


def test_adversarial_training_makes_the_embedding_less_subject_specific():
    """The discriminator's loss ends higher with the reversal than when it is not reversed
    (the same discriminator trained on frozen-looking features separates subjects better)."""
    d = make_eeg_emotion("emotiv14", n_subjects=3, random_state=0)
    kw = dict(F1=4, D=2, F2=8, kernel_length=32, max_epochs=30, batch_size=32, lr=3e-3)
    clf = EEGNetClassifier(subject_adversarial=1.0, random_state=0, device="cpu", **kw)
    clf.fit(d.X, d.y, groups=d.groups)
    adv = [b["train_subject_loss"] for row in clf.net_.history[-5:] for b in row["batches"]]
    # the same run with the ramp pinned to 0: the discriminator learns, nothing pushes back
    from skemotion import _training

    original = _training.grl_weight
    _training.grl_weight = lambda p: 0.0
    try:
        free = clone(clf).fit(d.X, d.y, groups=d.groups)
    finally:
        _training.grl_weight = original
    base = [b["train_subject_loss"] for row in free.net_.history[-5:] for b in row["batches"]]
    assert np.mean(adv) > np.mean(base) + 0.05


# --- batch-norm adaptation -------------------------------------------------------------------
def _bn_buffers(clf):
    return {
        k: v.clone()
        for k, v in clf.net_.module_.state_dict().items()
        if "running" in k or "num_batches" in k
    }


def _reference_adabn(clf, X):
    """AdaBN by hand: a copy of the network, fresh statistics from X, then eval."""
    module = copy.deepcopy(clf.net_.module_)
    module.eval()
    for m in module.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
            m.train()
    prepared = clf._prepare(clf._validate_X(X))
    n, bs = len(X), clf.batch_size
    with torch.no_grad():
        for s in range(0, n, bs):
            module(torch.from_numpy(prepared[s : s + bs]))
        module.eval()
        return torch.softmax(module(torch.from_numpy(prepared)), -1).numpy()


def test_adabn_matches_a_hand_computation_and_restores_the_fit(data):
    X, y, g = data
    clf = CLASSIFIERS["eegnet"](adapt_bn="batch").fit(X, y)
    before = _bn_buffers(clf)
    Xt = X[g == g[0]][:40] * 1.5 + 0.3  # a shifted "new subject"
    got = clf.predict_proba(Xt)
    np.testing.assert_allclose(got, _reference_adabn(clf, Xt), rtol=1e-5, atol=1e-6)
    after = _bn_buffers(clf)
    assert all(torch.equal(before[k], after[k]) for k in before)
    np.testing.assert_array_equal(clf.predict_proba(Xt), got)  # same input twice
    plain = clf.set_params(adapt_bn=False).predict_proba(Xt)
    assert not np.allclose(plain, got, atol=1e-3)
    off = CLASSIFIERS["eegnet"]().fit(X, y)
    np.testing.assert_array_equal(off.predict_proba(Xt), plain)


@pytest.mark.parametrize("name", NAMES)
def test_adabn_per_subject_is_adabn_on_each_subject_alone(data, name):
    X, y, g = data
    clf = CLASSIFIERS[name](adapt_bn="subject").fit(X, y)
    before = _bn_buffers(clf)
    per_subject = clf.predict_proba(X, groups=g)
    batch = clf.set_params(adapt_bn="batch")
    for s in np.unique(g):
        np.testing.assert_allclose(
            per_subject[g == s], batch.predict_proba(X[g == s]), rtol=1e-5, atol=1e-6
        )
    whole = batch.predict_proba(X)
    assert not np.allclose(whole, per_subject, atol=1e-4)
    after = _bn_buffers(clf)
    assert all(torch.equal(before[k], after[k]) for k in before)
    clf.set_params(adapt_bn="subject")
    np.testing.assert_array_equal(clf.predict_proba(X, groups=g), per_subject)
    # without groups all windows are one subject
    np.testing.assert_allclose(clf.predict_proba(X), whole, rtol=1e-6, atol=1e-7)


def test_adabn_groups_reach_predict_through_metadata_routing(data):
    import sklearn
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y, g = data
    clf = CLASSIFIERS["eegnet"](adapt_bn="subject").fit(X, y)
    want = clf.predict(X, groups=g)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = clone(clf).set_predict_request(groups=True)
        pipe = make_pipeline(FunctionTransformer(), routed).fit(X, y)
        np.testing.assert_array_equal(pipe.predict(X, groups=g), want)


def test_predict_groups_are_checked(data):
    X, y, g = data
    clf = CLASSIFIERS["eegnet"](adapt_bn="subject").fit(X, y)
    with pytest.raises(ValueError, match=r"EEGNetClassifier: argument groups must have shape"):
        clf.predict(X, groups=g[:3])


# --- augmentation functions against numpy references ------------------------------------------
@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.standard_normal((6, 4, 128)).astype(np.float32)


def test_time_shift_is_a_per_window_roll(batch):
    shifts = np.array([0, 3, -5, 127, 64, -1])
    x = torch.from_numpy(batch.copy())
    got = time_shift(x, shifts).numpy()
    want = np.stack([np.roll(w, s, axis=-1) for w, s in zip(batch, shifts)])
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(x.numpy(), batch)  # input untouched
    # a pair axis gets the same shift
    pair = torch.from_numpy(np.stack([batch, 2 * batch], axis=1))
    got = time_shift(pair, shifts).numpy()
    np.testing.assert_array_equal(got[:, 1], 2 * want)


def test_amplitude_scale_and_channel_dropout(batch):
    f = np.array([0.5, 1.0, 2.0, 1.1, 0.9, 1.25])
    np.testing.assert_allclose(
        amplitude_scale(torch.from_numpy(batch), f).numpy(), batch * f[:, None, None], rtol=1e-6
    )
    keep = np.random.default_rng(1).random((6, 4)) > 0.3
    got = channel_dropout(torch.from_numpy(batch), keep).numpy()
    np.testing.assert_array_equal(got, batch * keep[:, :, None])


def test_band_limited_noise_against_numpy(batch):
    batch = batch.astype(np.float64)
    rng = np.random.default_rng(2)
    white = rng.standard_normal(batch.shape)
    scale = np.array([0.0, 0.1, 0.5, 1.0, 0.2, 0.3])
    band = (8.0, 14.0)
    got = band_limited_noise(
        torch.from_numpy(batch).double(), torch.from_numpy(white), SFREQ, band, scale
    ).numpy()
    freqs = np.fft.rfftfreq(128, 1 / SFREQ)
    mask = (freqs >= band[0]) & (freqs <= band[1])
    noise = np.fft.irfft(np.fft.rfft(white, axis=-1) * mask, n=128, axis=-1)
    noise /= noise.std(axis=-1, ddof=1, keepdims=True)
    want = batch + scale[:, None, None] * batch.std(axis=-1, ddof=1, keepdims=True) * noise
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    added = np.fft.rfft(got - batch, axis=-1)
    assert np.abs(added[..., ~mask]).max() < 1e-9  # nothing outside the band
    np.testing.assert_array_equal(got[0], batch[0])


def test_frequency_shift_against_scipy_hilbert(batch):
    batch = batch.astype(np.float64)
    shifts = np.array([0.0, 1.0, -2.5, 0.5, 3.0, -0.25])
    got = frequency_shift(torch.from_numpy(batch).double(), shifts, SFREQ).numpy()
    t = np.arange(batch.shape[-1]) / SFREQ
    want = np.real(
        scipy.signal.hilbert(batch, axis=-1) * np.exp(2j * np.pi * shifts[:, None, None] * t)
    )
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    odd = batch[..., :127]
    got = frequency_shift(torch.from_numpy(odd).double(), shifts, SFREQ).numpy()
    want = np.real(
        scipy.signal.hilbert(odd, axis=-1) * np.exp(2j * np.pi * shifts[:, None, None] * t[:127])
    )
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    # a 10 Hz sine (whole number of cycles) shifted by 3 Hz is a 13 Hz sine
    sine = np.sin(2 * np.pi * 10 * t)[None, None]
    out = frequency_shift(torch.from_numpy(sine), [3.0], SFREQ).numpy()
    np.testing.assert_allclose(out[0, 0], np.sin(2 * np.pi * 13 * t), atol=1e-9)


def test_mixup_and_its_loss(batch):
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    lam = np.array([1.0, 0.3, 0.5, 0.9, 0.0, 0.7])
    perm = np.array([1, 0, 3, 2, 5, 4])
    x, targets = mixup(torch.from_numpy(batch), y, lam, perm)
    want = lam[:, None, None] * batch + (1 - lam[:, None, None]) * batch[perm]
    np.testing.assert_allclose(x.numpy(), want, rtol=1e-6, atol=1e-6)
    assert isinstance(targets, MixedTargets) and torch.equal(targets.y, y)
    logits = torch.randn(6, 3)
    logp = torch.log_softmax(logits, -1).numpy()
    yn = y.numpy()
    want_loss = np.mean(-lam * logp[np.arange(6), yn] - (1 - lam) * logp[np.arange(6), yn[perm]])
    assert abs(float(targets.loss(logits)) - want_loss) < 1e-5
    half = targets[3:]
    assert len(half) == 3 and torch.equal(half.y_other, y[perm][3:])


AUGMENTATIONS = [
    TimeShift(max_shift=0.5, p=1.0),
    AmplitudeScale(p=1.0),
    ChannelDropout(drop=0.5, p=1.0),
    BandNoise(sfreq=SFREQ, p=1.0),
    FrequencyShift(sfreq=SFREQ, p=1.0),
    Mixup(alpha=0.4, p=1.0),
]


@pytest.mark.parametrize("aug", AUGMENTATIONS, ids=lambda a: type(a).__name__)
def test_augmentation_keeps_shape_and_labels_is_seeded_and_leaves_input(batch, aug):
    x = torch.from_numpy(batch.copy())
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    out, y_out = aug(x, y, AugmentationRandom(7))
    again, _ = aug(x, y, AugmentationRandom(7))
    other, _ = aug(x, y, AugmentationRandom(8))
    assert out.shape == x.shape and out.dtype == x.dtype
    np.testing.assert_array_equal(x.numpy(), batch)
    torch.testing.assert_close(out, again, rtol=0, atol=0)
    assert not torch.equal(out, other) and not torch.equal(out, x)
    labels = y_out.y if isinstance(y_out, MixedTargets) else y_out
    assert torch.equal(labels, y)
    skip, _ = type(aug)(**{**vars(aug), "p": 0.0})(x, y, AugmentationRandom(7))
    torch.testing.assert_close(skip, x, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "bad, match",
    [
        (TimeShift(max_shift=2), "TimeShift: argument max_shift"),
        (AmplitudeScale(low=2, high=1), "AmplitudeScale: argument low"),
        (ChannelDropout(drop=1.0), "ChannelDropout: argument drop"),
        (BandNoise(sfreq=128, band=(80, 90)), "Nyquist"),
        (FrequencyShift(sfreq=-1), "FrequencyShift: argument sfreq"),
        (Mixup(alpha=0), "Mixup: argument alpha"),
        (TimeShift(p=1.5), "TimeShift: argument p"),
    ],
)
def test_bad_augmentation_settings_are_named_at_fit(data, bad, match):
    X, y, _ = data
    with pytest.raises(ValueError, match=rf"EEGNetClassifier: argument augment: .*{match}"):
        CLASSIFIERS["eegnet"](augment=[bad]).fit(X, y)
    with pytest.raises(TypeError, match="argument augment must be a list of skemotion"):
        CLASSIFIERS["eegnet"](augment=[lambda x: x]).fit(X, y)


class _Spy(AmplitudeScale):
    """Counts the batches it transforms."""

    calls = 0

    def _apply(self, x, y, applied, rng):
        type(self).calls += 1
        return super()._apply(x, y, applied, rng)


@pytest.mark.parametrize("name", NAMES)
def test_augment_trains_reproducibly_and_never_runs_at_validation_or_predict(data, name):
    X, y, g = data
    X0 = X.copy()
    _Spy.calls = 0
    kw = dict(augment=[_Spy(p=1.0), *_all_augmentations()], early_stopping=True, patience=50)
    clf = CLASSIFIERS[name](**kw).fit(X, y, groups=g)
    h = clf.net_.history
    assert _Spy.calls == sum(h[:, "train_batch_count"])  # training batches only
    np.testing.assert_array_equal(X, X0)
    calls = _Spy.calls
    p1 = clf.predict_proba(X)
    assert _Spy.calls == calls
    p2 = CLASSIFIERS[name](**kw).fit(X, y, groups=g).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    plain = CLASSIFIERS[name](early_stopping=True, patience=50).fit(X, y, groups=g)
    assert not np.allclose(plain.predict_proba(X), p1)


def test_tsstdn_augments_the_clean_target_and_recomputes_its_spectrum(data):
    X, y, _ = data
    seen = {}

    class Probe(Callback):
        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            pass

    clf = CLASSIFIERS["tsstdn"](augment=[AmplitudeScale(low=3.0, high=3.0, p=1.0)], noise=None)
    clf.set_params(callbacks=[("probe", Probe())])
    net_cls = clf._net_class
    original = net_cls.get_loss

    def spy(self, y_pred, y_true, X=None, training=False):
        if training and "S_clean" in X:
            seen["x"], seen["s"] = X["X_clean"], X["S_clean"]
        return original(self, y_pred, y_true, X=X, training=training)

    net_cls.get_loss = spy
    try:
        clf.fit(X, y)
    finally:
        net_cls.get_loss = original
    from skemotion.models.tsstdn import tsstdn_spectral

    n_fft = min(clf._n_fft(), X.shape[-1])
    torch.testing.assert_close(seen["s"], tsstdn_spectral(seen["x"], n_fft))
    assert float(seen["x"].abs().max()) > 2.0 * float(np.abs(X / clf.scale_).max()) / 1.5


def test_augment_refuses_precomputed_network_input():
    rng = np.random.default_rng(0)
    images = rng.standard_normal((20, 2, 16, 16)).astype(np.float32)
    y = np.arange(20) % 2
    clf = CLASSIFIERS["gruxnet"](augment=[AmplitudeScale()])
    with pytest.raises(ValueError, match="GRUXNetClassifier: argument augment transforms signal"):
        clf.fit(images, y)


def test_routed_pipeline_predicts_with_groups_in_a_fresh_process():
    """An aligner + deep classifier Pipeline under metadata routing, as the transfer guide
    writes it, in a fresh interpreter (import order matters: a package imported during fit
    used to break the routing of requests set before it): the classifier does not request
    predict-time groups by default, so only the aligner gets them."""
    import subprocess
    import sys

    code = (
        "import sklearn\n"
        "sklearn.set_config(enable_metadata_routing=True)\n"
        "from sklearn.pipeline import Pipeline\n"
        "from skemotion.transfer import EuclideanAlignment\n"
        "from skemotion.classifiers import EEGNetClassifier\n"
        "from skemotion.datasets import make_eeg_emotion\n"
        "d = make_eeg_emotion('emotiv14', n_subjects=2, n_windows_per_trial=3,"
        " random_state=0)\n"
        "ea = EuclideanAlignment().set_fit_request(groups=True)\n"
        "ea = ea.set_transform_request(groups=True)\n"
        "clf = EEGNetClassifier(max_epochs=1, device='cpu').set_fit_request(groups=False)\n"
        "pipe = Pipeline([('align', ea), ('clf', clf)]).fit(d.X, d.y, groups=d.groups)\n"
        "print(len(pipe.predict(d.X, groups=d.groups)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "36"


def test_sstemotionnet_reads_a_zeroed_channel_as_an_average_pixel():
    """A channel dropped by ChannelDropout (or zero-padded by harmonize) must not become the DE
    of a zero signal (about -87, tens of standard deviations off): both input paths, numpy at
    predict and torch per batch with augmentation, give it the value 0 after standardisation."""
    d = make_eeg_emotion("emotiv14", n_subjects=2, n_windows_per_trial=3, random_state=0)
    clf = CLASSIFIERS["sstemotionnet"](augment=[AmplitudeScale(p=0.0)])
    clf.fit(d.X, d.y)
    X = d.X[:4].copy()
    X[1, 3] = 0.0
    numpy_maps = clf._prepare(X)
    torch_maps = clf._batch_transform()(torch.from_numpy(X))
    for key in ("spectral", "temporal"):
        np.testing.assert_allclose(numpy_maps[key], torch_maps[key].numpy(), atol=1e-5)
        assert np.abs(numpy_maps[key]).max() < 10
    full = clf._prepare(d.X[:4])
    changed = np.abs(numpy_maps["spectral"][1] - full["spectral"][1]).max()
    assert 0 < changed < 10
