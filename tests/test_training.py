"""The shared training runtime (skemotion._training) and the deep-classifier input stage."""

import signal

import numpy as np
import pytest
import sklearn
import torch
from sklearn.model_selection import LeaveOneGroupOut, cross_val_score
from skorch.callbacks import Callback, GradientNormClipping

from skemotion._training import TrainingDivergedError
from skemotion.classifiers import (
    EEGNetClassifier,
    GRUXNetClassifier,
    SSTEmotionNetClassifier,
    TSSTDNClassifier,
)
from skemotion.classifiers._base import DeepClassifierBase
from skemotion.datasets import make_eeg_emotion

FAST = dict(F1=4, D=2, F2=8, kernel_length=16, max_epochs=2, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def data():
    return make_eeg_emotion(
        "emotiv14", n_subjects=3, n_trials_per_class=2, n_windows_per_trial=4, random_state=0
    )


class LinearClassifier(DeepClassifierBase):
    """The smallest deep classifier: flatten + linear, on 3-D or 4-D windows."""

    _input_ndims = (3, 4)

    def __init__(
        self,
        *,
        lr=1.0,
        max_epochs=3,
        batch_size=8,
        optimizer="sgd",
        weight_decay=0.0,
        lr_schedule=None,
        early_stopping=False,
        validation_fraction=0.2,
        patience=10,
        device="cpu",
        precision="32",
        num_workers=0,
        random_state=0,
        callbacks=None,
        verbose=0,
    ):
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.precision = precision
        self.num_workers = num_workers
        self.random_state = random_state
        self.callbacks = callbacks
        self.verbose = verbose

    def _build_module(self, input_shape, n_classes):
        return torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Linear(int(np.prod(input_shape)), n_classes)
        )


class StepRecorder(Callback):
    """Records the parameter update of every training step and the dtype of the outputs."""

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            self.before_ = [p.detach().clone() for p in net.module_.parameters()]

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if not training:
            return
        after = list(net.module_.parameters())
        delta = torch.cat([(a.detach() - b).ravel() for a, b in zip(after, self.before_)])
        self.__dict__.setdefault("steps_", []).append(float(delta.norm()))
        self.__dict__.setdefault("dtypes_", []).append(y_pred.dtype)


def _xy(n=32, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3, 16)).astype(np.float32) * 5
    y = np.arange(n) % 2
    return X, y


_CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no cuda device")


@pytest.mark.parametrize(
    "precision, device",
    [
        ("32", "cpu"),
        ("bf16", "cpu"),
        ("16-mixed", "cpu"),
        pytest.param("16-mixed", "cuda", marks=[pytest.mark.gpu, _CUDA]),
        pytest.param("bf16", "cuda", marks=[pytest.mark.gpu, _CUDA]),
    ],
)
def test_gradient_clipping_sees_unscaled_gradients(precision, device):
    # SGD with lr=1: each step moves the parameters by exactly the clipped gradient, so the
    # update norm is max_norm when clipping works on the true gradients; clipping the
    # fp16-scaled gradients would give max_norm / scale, no clipping would give more.
    max_norm = 1e-4
    rec = StepRecorder()
    clf = LinearClassifier(
        precision=precision,
        device=device,
        callbacks=[("clip", GradientNormClipping(gradient_clip_value=max_norm)), ("rec", rec)],
    )
    clf.fit(*_xy())
    steps = np.array(dict(clf.net_.callbacks_)["rec"].steps_)
    taken = steps[steps > 0]  # fp16 may skip a first step whose scaled gradients overflow
    assert taken.size >= len(steps) // 2
    np.testing.assert_allclose(taken, max_norm, rtol=0.02)


@pytest.mark.parametrize("precision, dtype", [("32", torch.float32), ("bf16", torch.bfloat16)])
def test_precision_really_autocasts(precision, dtype):
    rec = StepRecorder()
    clf = LinearClassifier(precision=precision, callbacks=[("rec", rec)]).fit(*_xy())
    assert set(dict(clf.net_.callbacks_)["rec"].dtypes_) == {dtype}


def test_fp16_overflow_skips_the_step_and_lowers_the_scale():
    # inputs so large that float16 gradients overflow at the initial scale of 2 ** 16
    X, y = _xy()
    rec = StepRecorder()
    clf = LinearClassifier(precision="16-mixed", lr=1e-9, callbacks=[("rec", rec)])
    clf.fit(X * 1e3, y)
    steps = dict(clf.net_.callbacks_)["rec"].steps_
    assert steps[0] == 0.0  # skipped, not applied with inf/NaN gradients
    assert all(torch.isfinite(p.detach()).all() for p in clf.net_.module_.parameters())
    assert clf.net_.grad_scaler_.get_scale() < 2.0**16


def test_divergence_is_an_error_naming_estimator_and_epoch(data):
    msg = r"EEGNetClassifier: .*diverged at epoch \d+, batch \d+"
    with pytest.raises(TrainingDivergedError, match=msg):
        EEGNetClassifier(**FAST, lr=1e30).fit(data.X * 1e20, data.y)
    with pytest.raises(TrainingDivergedError, match=r"LinearClassifier: .*lr=1e\+30"):
        X, y = _xy()
        LinearClassifier(lr=1e30).fit(X * 1e10, y)


def test_divergence_tsstdn():
    X, y = _xy(n=16)
    X = np.repeat(X, 4, axis=2)  # 64 samples
    with pytest.raises(TrainingDivergedError, match="TSSTDNClassifier: training diverged"):
        TSSTDNClassifier(D=1, lstm_hidden=4, Fs=4, Ft=4, sfreq=64.0, lr=1e30, max_epochs=2,
                         random_state=0).fit(X, y)  # fmt: skip


def test_divergence_ssl_encoder():
    from skemotion.ssl import SSLECGEncoder

    X = np.random.default_rng(0).standard_normal((8, 1, 512)).astype(np.float32) * 1e20
    enc = SSLECGEncoder(n_filters=(4, 8, 8), head_units=8, max_epochs=2, lr=1e30, highpass=None,
                        random_state=0, device="cpu")  # fmt: skip
    with pytest.raises(TrainingDivergedError, match="SSLECGEncoder: training diverged at epoch"):
        enc.fit(X)


class SendSigint(Callback):
    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            signal.raise_signal(signal.SIGINT)


def test_ctrl_c_stops_fit():
    clf = LinearClassifier(max_epochs=5, callbacks=[("int", SendSigint())])
    with pytest.raises(KeyboardInterrupt, match="LinearClassifier: training interrupted"):
        clf.fit(*_xy())
    assert not hasattr(clf, "net_")
    # the handler is restored afterwards
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_early_stopping_still_stops_quietly(data):
    # skorch's EarlyStopping raises KeyboardInterrupt to end training: that is not Ctrl-C
    X, y = _xy(n=40)
    groups = np.arange(40) // 4
    clf = LinearClassifier(lr=1e-6, max_epochs=30, early_stopping=True, patience=1)
    clf.fit(X, y, groups=groups)
    assert len(clf.history_) < 30


def test_inference_leaves_global_rng_untouched(data):
    clf = EEGNetClassifier(**FAST).fit(data.X[:20], data.y[:20])
    torch.manual_seed(5)
    a = torch.rand(3)
    torch.manual_seed(5)
    clf.predict_proba(data.X[:7])
    clf.predict(data.X[:7])
    assert torch.equal(a, torch.rand(3))


def test_rank4_input_and_same_rules_at_predict():
    rng = np.random.default_rng(0)
    X4 = rng.standard_normal((24, 5, 9, 9)).astype(np.float32)
    y = np.arange(24) % 3
    clf = LinearClassifier().fit(X4, y)
    assert clf.input_shape_ == (5, 9, 9) and clf.predict_proba(X4).shape == (24, 3)
    with pytest.raises(ValueError, match=r"LinearClassifier: argument X has windows of shape"):
        clf.predict(X4[:, :, :8])
    # EEGNet takes 3-D only: the same message at fit and at predict for a 4-D X
    X3 = rng.standard_normal((24, 4, 64)).astype(np.float32)
    eeg = EEGNetClassifier(**FAST).fit(X3, y)
    for call in (lambda: EEGNetClassifier(**FAST).fit(X4, y), lambda: eeg.predict(X4)):
        with pytest.raises(ValueError, match=r"EEGNetClassifier: argument X must be 3-D"):
            call()


def test_two_d_means_single_channel_at_fit_and_predict():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((24, 1, 64)).astype(np.float32)
    y = np.arange(24) % 2
    clf = EEGNetClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X[:, 0]), clf.predict_proba(X))
    clf2 = EEGNetClassifier(**FAST).fit(X[:, 0], y)
    np.testing.assert_array_equal(clf2.predict_proba(X), clf2.predict_proba(X[:, 0]))


def test_ragged_input_named():
    X = [[[0.0, 1.0, 2.0]], [[0.0, 1.0]]]
    with pytest.raises(ValueError, match="EEGNetClassifier: argument X is a ragged"):
        EEGNetClassifier(**FAST).fit(X, [0, 1])


# --- early stopping inside cross-validation: each documented call -------------------------
ES = dict(**FAST, early_stopping=True, patience=1)


def test_early_stopping_in_cv_without_groups_names_the_working_call(data):
    with pytest.raises(ValueError, match=r'params=\{"groups": trials\}'):
        EEGNetClassifier(**ES).fit(data.X, data.y)


def test_early_stopping_in_cv_params_without_routing(data):
    scores = cross_val_score(
        EEGNetClassifier(**ES),
        data.X,
        data.y,
        groups=data.groups,
        cv=LeaveOneGroupOut(),
        params={"groups": data.trials},
        error_score="raise",
    )
    assert scores.shape == (3,) and np.isfinite(scores).all()


def test_early_stopping_in_cv_with_metadata_routing(data):
    seen = []

    class Spy(EEGNetClassifier):
        def fit(self, X, y, groups=None):
            seen.append(groups)
            return super().fit(X, y, groups=groups)

    with sklearn.config_context(enable_metadata_routing=True):
        clf = Spy(**ES).set_fit_request(groups="trials")
        scores = cross_val_score(
            clf,
            data.X,
            data.y,
            cv=LeaveOneGroupOut(),
            params={"groups": data.groups, "trials": data.trials},
            error_score="raise",
        )
    assert scores.shape == (3,)
    # the classifier received trial ids (not subject ids) of its training windows
    assert all(len(np.unique(g)) > 2 for g in seen)
    assert set(np.concatenate(seen)) <= set(data.trials)


def _es_data(data):
    X, y, trials = data.X[:48], data.y[:48], data.trials[:48]
    return X, y, trials


@pytest.mark.parametrize("min_epochs", [1, 6])
def test_early_stopping_neither_stops_nor_restores_before_min_epochs(data, min_epochs):
    X, y, trials = _es_data(data)
    kw = {**FAST, "max_epochs": 40, "lr": 1e-7}  # the validation loss barely moves
    clf = EEGNetClassifier(**kw, early_stopping=True, patience=1, min_epochs=min_epochs)
    clf.fit(X, y, groups=trials)
    n = len(clf.history_)
    assert min_epochs <= clf.best_epoch_ < n <= clf.best_epoch_ + 1 < 40
    # judged from min_epochs on: the best epoch is the lowest loss from there
    losses = clf.history_[:, "valid_loss"]
    assert clf.best_epoch_ == min_epochs + int(np.argmin(losses[min_epochs - 1 :]))


def test_early_stopping_min_epochs_defaults_to_the_class_budget(data):
    X, y, trials = _es_data(data)
    kw = {**FAST, "max_epochs": 64, "lr": 1e-7}
    clf = EEGNetClassifier(**kw, early_stopping=True, patience=1).fit(X, y, groups=trials)
    assert clf.best_epoch_ >= 60 == EEGNetClassifier().max_epochs  # the class default
    clf = EEGNetClassifier(**{**kw, "max_epochs": 5}, early_stopping=True, patience=1)
    clf.fit(X, y, groups=trials)  # never later than max_epochs
    assert clf.best_epoch_ == 5 == len(clf.history_)


def test_early_stopping_refit_trains_every_window_for_the_best_epochs(data):
    X, y, trials = _es_data(data)
    kw = {**FAST, "max_epochs": 12, "lr": 1e-3}
    clf = EEGNetClassifier(**kw, early_stopping="refit", patience=2, min_epochs=3)
    clf.fit(X, y, groups=trials)
    best = clf.best_epoch_
    assert 3 <= best <= 12 and len(clf.history_) == best
    assert "valid_loss" not in clf.history_[-1]  # the final training has no held-out windows
    plain = EEGNetClassifier(**{**kw, "max_epochs": best}).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), plain.predict_proba(X))
    split = EEGNetClassifier(**kw, early_stopping=True, patience=2, min_epochs=3)
    split.fit(X, y, groups=trials)
    assert split.best_epoch_ == best
    assert not np.array_equal(split.predict_proba(X), clf.predict_proba(X))


class _PoisonLastStep(Callback):
    """Infinite gradients on the last batch of the last epoch: the loss of that step is still
    finite (it is computed before the update), the update leaves NaN weights."""

    def on_grad_computed(self, net, named_parameters, batch=None, **kwargs):
        if len(net.history) == net.max_epochs:
            for _, p in named_parameters:
                if p.grad is not None:
                    p.grad.fill_(float("inf"))


_DIVERGING = {
    "eegnet": lambda **kw: EEGNetClassifier(F1=4, D=1, F2=4, kernel_length=8, **kw),
    "tsstdn": lambda **kw: TSSTDNClassifier(D=1, lstm_hidden=4, Fs=4, Ft=4, sfreq=64.0, **kw),
    "sstemotionnet": lambda **kw: SSTEmotionNetClassifier(
        "emotiv14", sfreq=128.0, grid_size=4, temporal_depth=4, spectral_growth=2,
        temporal_growth=2, spectral_layers=1, temporal_layers=1, hidden_size=4, **kw),
    "gruxnet": lambda **kw: GRUXNetClassifier(
        filters=(2, 2, 4), gru_hidden=4, n_heads=2, head_units=(8,), stft_shape=(8, 8),
        sfreq=128.0, **kw),
}  # fmt: skip


@pytest.mark.parametrize("name", list(_DIVERGING))
def test_divergence_on_the_last_step_is_an_error(data, name):
    X, y = data.X[:24], data.y[:24]
    clf = _DIVERGING[name](max_epochs=2, batch_size=64, random_state=0, device="cpu",
                           callbacks=[_PoisonLastStep()])  # fmt: skip
    with pytest.raises(TrainingDivergedError, match=r"diverged on its last optimisation step"):
        clf.fit(X, y)
    clf.set_params(callbacks=None).fit(X, y)  # without the poison: a finite model


def test_divergence_on_the_last_step_escgan(monkeypatch):
    from skemotion.augment import ESCGANSampler
    from skemotion.augment._escgan import _ESCGANNet

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3, 4, 5))
    y = np.array([0] * 20 + [1] * 10)
    train_step = _ESCGANNet.train_step

    def poisoned(self, batch, **fit_params):  # the last update leaves NaN weights
        step = train_step(self, batch, **fit_params)
        if len(self.history) == self.max_epochs:
            with torch.no_grad():
                next(self.module_.parameters()).fill_(float("nan"))
        return step

    monkeypatch.setattr(_ESCGANNet, "train_step", poisoned)
    sampler = ESCGANSampler(hidden=2, max_epochs=2, batch_size=64, device="cpu", random_state=0)
    with pytest.raises(TrainingDivergedError, match="ESCGANSampler: training diverged on its last"):
        sampler.fit_resample(X, y)
