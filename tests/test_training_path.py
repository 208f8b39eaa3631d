"""One path from estimator to trained net: the shared training parameters of every estimator
trained by ``skemotion._training.fit_net`` (classifiers, SSL-ECG, ESC-GAN), renamed parameters
kept for one release, and a failed fit that leaves the estimator unfitted."""

import inspect
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Callback

from skemotion._training import TRAINING_CONSTRAINTS, TrainingDivergedError
from skemotion.augment import ESCGANSampler, Mixup
from skemotion.classifiers import (
    DeepClassifierBase,
    EEGNetClassifier,
    GRUXNetClassifier,
    TSSTDNClassifier,
)
from skemotion.models import TSSTDN, GRUXNet, SSLECGNet
from skemotion.ssl import SSLECGEncoder

torch.set_num_threads(1)

SSL = dict(n_filters=(4, 8, 8), head_units=8, max_epochs=2, batch_size=8, device="cpu")
GAN = dict(hidden=2, max_epochs=3, batch_size=8, device="cpu", random_state=0)
EEGNET = dict(F1=2, D=1, F2=2, kernel_length=8, max_epochs=2, batch_size=8, device="cpu")


def _ecg(n=16, T=256, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 1, T)).astype(np.float32)


def _maps(n=24, seed=0):
    X = np.random.default_rng(seed).normal(size=(n, 5, 9, 9)).astype(np.float32)
    return X, np.array([0] * (n * 2 // 3) + [1] * (n - n * 2 // 3))


def _eeg(n=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4, 64)).astype(np.float32), np.arange(n) % 2


class _Rates(Callback):
    """Learning rate of every optimizer of the net at the start of each epoch (class-level log:
    the estimators deep-copy their callbacks)."""

    log: dict = {}

    def on_train_begin(self, net, **kwargs):
        type(self).log = {}

    def on_epoch_begin(self, net, **kwargs):
        for attr in net._optimizers:
            opt = getattr(net, attr + "_")
            type(self).log.setdefault(attr, []).append(opt.param_groups[0]["lr"])
            type(self).log.setdefault(attr + ":type", []).append(type(opt).__name__)
            type(self).log.setdefault(attr + ":wd", []).append(opt.param_groups[0]["weight_decay"])


# --- the shared training parameters ----------------------------------------------------------
@pytest.mark.parametrize("cls", [EEGNetClassifier, SSLECGEncoder, ESCGANSampler])
def test_every_trained_estimator_takes_the_shared_training_parameters(cls):
    params = inspect.signature(cls.__init__).parameters
    missing = set(TRAINING_CONSTRAINTS) - set(params)
    assert not missing, f"{cls.__name__} lacks the shared training parameters {missing}"


def _cosine(lr, epochs):
    e = np.arange(epochs)
    return lr * (1 + np.cos(np.pi * e / epochs)) / 2


def test_escgan_optimizer_weight_decay_and_cosine_schedule_reach_both_networks():
    X, y = _maps()
    sampler = ESCGANSampler(
        lr=0.01,
        optimizer="sgd",
        weight_decay=0.1,
        lr_schedule="cosine",
        callbacks=[("rates", _Rates())],
        **GAN,
    )
    sampler.fit_resample(X, y)
    log = _Rates.log
    for attr in ("optimizer", "discriminator_optimizer"):
        np.testing.assert_allclose(log[attr], _cosine(0.01, 3), rtol=1e-12)
        assert log[attr + ":type"] == ["SGD"] * 3
        assert log[attr + ":wd"] == [0.1] * 3


def test_sslecg_step_schedule_and_cosine_follow_their_closed_forms():
    X = _ecg()  # 16 windows, batches of 8: 2 optimiser steps per epoch
    enc = SSLECGEncoder(
        lr=0.01, lr_gamma=0.5, lr_step_size=3, callbacks=[("rates", _Rates())], **SSL
    ).set_params(max_epochs=3)
    enc.fit(X)
    steps_done = 2 * np.arange(3)  # at the start of epochs 0, 1, 2
    np.testing.assert_allclose(_Rates.log["optimizer"], 0.01 * 0.5 ** (steps_done // 3))
    enc.set_params(lr_schedule="cosine", optimizer="adamw").fit(X)
    np.testing.assert_allclose(_Rates.log["optimizer"], _cosine(0.01, 3), rtol=1e-12)
    assert _Rates.log["optimizer:type"] == ["AdamW"] * 3
    enc.set_params(lr_schedule=None).fit(X)
    assert _Rates.log["optimizer"] == [0.01] * 3


def test_a_subclass_without_a_shared_parameter_gets_a_clear_error():
    class NoSchedule(DeepClassifierBase):  # a subclass written without lr_schedule
        def __init__(self, *, lr=0.01, max_epochs=1, batch_size=8, optimizer="adam",
                     weight_decay=0.0, early_stopping=False, device="cpu", precision="32",
                     num_workers=0, random_state=0, callbacks=None, verbose=0):  # fmt: skip
            self.lr, self.max_epochs, self.batch_size = lr, max_epochs, batch_size
            self.optimizer, self.weight_decay = optimizer, weight_decay
            self.early_stopping, self.device, self.precision = early_stopping, device, precision
            self.num_workers, self.random_state = num_workers, random_state
            self.callbacks, self.verbose = callbacks, verbose

        def _build_module(self, input_shape, n_classes):
            return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(n_classes))

    X, y = _eeg()
    match = "NoSchedule does not declare the shared training parameter 'lr_schedule'"
    with pytest.raises(TypeError, match=match):
        NoSchedule().fit(X, y)


# --- renamed parameters ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "old, new",
    [
        (dict(l2=1e-2), dict(weight_decay=1e-2)),
        (dict(drop_prob=0.1), dict(dropout=0.1)),
        (dict(lr_decay=0.5, lr_decay_steps=1), dict(lr_gamma=0.5, lr_step_size=1)),
    ],
)
def test_sslecg_old_names_warn_and_train_as_the_new_ones(old, new):
    X = _ecg()
    want = SSLECGEncoder(random_state=0, **new, **SSL).fit(X).transform(X)
    with pytest.warns(FutureWarning, match="renamed .* will be removed in 0.2"):
        got = SSLECGEncoder(random_state=0, **old, **SSL).fit(X).transform(X)
    np.testing.assert_array_equal(got, want)
    # and the old name is not ignored: another value trains another encoder
    other = {k: v * 0.5 if isinstance(v, float) else v + 1 for k, v in new.items()}
    assert not np.array_equal(
        SSLECGEncoder(random_state=0, **other, **SSL).fit(X).transform(X), want
    )


def test_sslecg_old_and_new_name_together_is_an_error():
    with pytest.raises(ValueError, match="arguments l2 .deprecated. and weight_decay"):
        SSLECGEncoder(l2=0.1, weight_decay=0.2, **SSL).fit(_ecg())


def test_tsstdn_d_is_the_old_name_of_lstm_hidden():
    X, y = _eeg()
    kw = dict(D=1, Fs=4, Ft=4, sfreq=64.0, max_epochs=1, batch_size=8, device="cpu",
              random_state=0)  # fmt: skip
    want = TSSTDNClassifier(lstm_hidden=3, **kw).fit(X, y)
    with pytest.warns(FutureWarning, match="'d' was renamed 'lstm_hidden'"):
        got = TSSTDNClassifier(d=3, **kw).fit(X, y)
    assert got.net_.module_.lstm.hidden_size == 3
    np.testing.assert_array_equal(got.predict_proba(X), want.predict_proba(X))


def test_network_old_argument_names_warn():
    with pytest.warns(FutureWarning, match="'n_chans' was renamed 'n_channels'"):
        net = GRUXNet(n_chans=2, n_freqs=16, n_frames=16, n_classes=2, filters=(2, 2, 2))
    assert net.n_channels == 2
    with pytest.warns(FutureWarning, match="'drop_prob' was renamed 'dropout'"):
        net = SSLECGNet(n_filters=(4, 8, 8), head_units=8, drop_prob=0.25)
    assert net.heads[0][2].p == 0.25
    with pytest.warns(FutureWarning, match="'d' was renamed 'lstm_hidden'"):
        assert TSSTDN(4, 64, 2, d=5, Fs=4, Ft=4, n_fft=32).lstm.hidden_size == 5
    with pytest.raises(TypeError, match="pass n_channels only"):
        GRUXNet(2, 16, 16, 2, n_chans=2)
    with pytest.raises(TypeError, match="missing required argument"):
        GRUXNet(n_freqs=16, n_frames=16, n_classes=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GRUXNet(2, 16, 16, 2, filters=(2, 2, 2))  # the new names do not warn


# --- a failed fit leaves the estimator unfitted ----------------------------------------------
class _Boom(Callback):
    def on_epoch_end(self, net, **kwargs):
        raise RuntimeError("boom")


def _refit_fails(est, fit):
    fit(est)
    check_is_fitted(est)
    est.set_params(callbacks=[("boom", _Boom())])
    with pytest.raises(RuntimeError, match="boom"):
        fit(est)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    assert not [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]


def test_failed_fit_leaves_the_classifier_unfitted():
    X, y = _eeg()
    clf = EEGNetClassifier(**EEGNET)
    _refit_fails(clf, lambda e: e.fit(X, y))
    with pytest.raises(NotFittedError):
        clf.predict(X)
    # a diverging fit too
    clf.set_params(callbacks=None).fit(X, y)
    with pytest.raises(TrainingDivergedError):
        clf.set_params(lr=1e30).fit(X * 1e20, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_failed_fit_leaves_sslecg_and_escgan_unfitted():
    X = _ecg()
    _refit_fails(SSLECGEncoder(**SSL), lambda e: e.fit(X))
    Xm, ym = _maps()
    _refit_fails(ESCGANSampler(**GAN), lambda e: e.fit_resample(Xm, ym))


# --- cross-parameter checks: one hook, before any data is looked at -------------------------
@pytest.mark.parametrize(
    "clf, match",
    [
        (GRUXNetClassifier(fmin=10.0, fmax=5.0), "GRUXNetClassifier: argument fmax"),
        (GRUXNetClassifier(stft_shape=(4, 4)), "GRUXNetClassifier: argument stft_shape"),
        (TSSTDNClassifier(noise_snr_db=(5.0, 1.0)), "TSSTDNClassifier: argument noise_snr_db"),
        (EEGNetClassifier(augment=[Mixup(), Mixup()]), "EEGNetClassifier: argument augment"),
    ],
)
def test_cross_parameter_checks_run_before_the_data_is_read(clf, match):
    not_windows = np.full((3, 2, 5), np.nan)  # would fail every data check
    with pytest.raises(ValueError, match=match):
        clf.fit(not_windows, [0, 1, 0])
