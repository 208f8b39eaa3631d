"""ESC-GAN: the two networks, the losses, and the imbalanced-learn sampler."""

import pickle
import signal

import numpy as np
import pytest
import torch
from imblearn.pipeline import Pipeline
from imblearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_param_validation,
)
from imblearn.utils.estimator_checks import (
    parametrize_with_checks as parametrize_with_sampler_checks,
)
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut
from sklearn.neighbors import NearestCentroid
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skemotion._training import TrainingDivergedError
from skemotion.augment import ESCGANSampler
from skemotion.augment import _escgan as escgan_sampler_module
from skemotion.datasets import make_eeg_emotion
from skemotion.features import DifferentialEntropy, ElectrodeGrid
from skemotion.models import ESCGANDiscriminator, ESCGANGenerator
from skemotion.models.escgan import (
    GENERATOR_WEIGHTS,
    adversarial_loss,
    boundary_loss,
    discriminator_loss,
    diversity_loss,
    edit_class_loss,
    generator_loss,
    reconstruction_loss,
)


def _n_params(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# --- the networks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n_classes, n_gen, n_disc", [(2, 4_154_885, 13_615_107), (3, 4_159_493, 13_616_132)]
)
def test_canonical_parameter_counts(n_classes, n_gen, n_disc):
    with torch.device("meta"):  # no allocation: the count only needs the shapes
        gen = ESCGANGenerator(5, n_classes)
        disc = ESCGANDiscriminator(5, n_classes)
    assert _n_params(gen) == n_gen
    assert _n_params(disc) == n_disc
    # the layer shapes of the paper's description
    assert gen.latent_shape == (512, 3, 3)
    assert tuple(gen.embedding.weight.shape) == (n_classes, 4608)
    assert disc.n_features == 4608
    assert tuple(disc.realness[0].weight.shape) == (1024, 4608)
    assert tuple(disc.emotion[-1].weight.shape) == (n_classes, 1024)
    assert _n_params(gen.encoder) == _n_params(disc.encoder) == 2_073_600


@pytest.mark.parametrize("grid_shape", [(9, 9), (1, 1), (32, 32), (8, 8), (7, 10)])
def test_shapes_on_any_grid(grid_shape):
    torch.manual_seed(0)
    gen = ESCGANGenerator(4, 3, hidden=4, grid_shape=grid_shape)
    disc = ESCGANDiscriminator(4, 3, hidden=4, grid_shape=grid_shape)
    x = torch.randn(3, 4, *grid_shape)
    edit, z = gen(x, torch.tensor([0, 1, 2]))
    realness, logits = disc(edit)
    h2 = (grid_shape[0] - 1) // 2 + 1
    w2 = (grid_shape[1] - 1) // 2 + 1
    assert edit.shape == x.shape
    assert z.shape == (3, 16, (h2 - 1) // 2 + 1, (w2 - 1) // 2 + 1)
    assert realness.shape == (3,) and logits.shape == (3, 3)
    (realness.sum() + logits.sum() + edit.square().mean()).backward()
    grads = [p.grad for p in [*gen.parameters(), *disc.parameters()] if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_mask_zeroes_the_output_outside_the_electrodes():
    torch.manual_seed(0)
    mask = np.zeros((9, 9))
    mask[2:7, 1:8] = 1
    gen = ESCGANGenerator(5, 2, hidden=4, mask=mask).eval()
    edit, _ = gen(torch.randn(2, 5, 9, 9) + 3, torch.tensor([0, 1]))
    assert torch.all(edit[:, :, mask == 0] == 0)
    assert torch.all(edit[:, :, mask == 1] != 0)
    assert "mask" in dict(gen.named_buffers()) and _n_params(gen) == _n_params(
        ESCGANGenerator(5, 2, hidden=4)
    )


def test_the_target_class_reaches_the_decoder():
    # the decoder reads emb(t) * z: the same input edited into two classes gives two outputs
    torch.manual_seed(0)
    gen = ESCGANGenerator(5, 3, hidden=4).eval()
    x = torch.randn(1, 5, 9, 9).repeat(3, 1, 1, 1)
    edit, z = gen(x, torch.tensor([0, 1, 2]))
    torch.testing.assert_close(z[0], z[1])  # z is computed before the condition
    assert not torch.allclose(edit[0], edit[1]) and not torch.allclose(edit[1], edit[2])


@pytest.mark.parametrize(
    "cls, kwargs, match",
    [
        (ESCGANGenerator, dict(n_classes=1), "n_classes >= 2"),
        (ESCGANGenerator, dict(grid_shape=(9,)), "grid_shape"),
        (ESCGANGenerator, dict(mask=np.ones((8, 9))), "mask must have the grid shape"),
        (ESCGANDiscriminator, dict(hidden=0), "hidden >= 1"),
        (ESCGANDiscriminator, dict(dropout=1.0), "dropout"),
    ],
)
def test_invalid_configuration_is_named(cls, kwargs, match):
    args = {**dict(n_bands=5, n_classes=2, hidden=4), **kwargs}
    with pytest.raises(ValueError, match=match):
        cls(**args)


def test_wrong_input_shape_is_named():
    gen = ESCGANGenerator(5, 2, hidden=4)
    with pytest.raises(ValueError, match=r"ESCGANGenerator expects input of shape \(batch, 5"):
        gen(torch.randn(2, 4, 9, 9), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="ESCGANDiscriminator expects"):
        ESCGANDiscriminator(5, 2, hidden=4)(torch.randn(2, 5, 8, 8))


# --- the losses, each against a hand computation ------------------------------------------


def _log_sigmoid(v):
    return -np.log1p(np.exp(-v))


def _log_softmax(a):
    a = np.asarray(a, dtype=float)
    return (
        a
        - a.max(axis=1, keepdims=True)
        - np.log(np.exp(a - a.max(axis=1, keepdims=True)).sum(1, keepdims=True))
    )


def test_reconstruction_loss_by_hand():
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    rec = torch.tensor([[[[1.5, 2.0], [1.0, 4.0]]]])
    # (0.25 + 0 + 4 + 0) / 4
    assert float(reconstruction_loss(x, rec)) == pytest.approx(1.0625)
    # over the electrode pixels only: (0.25 + 4) / 2
    mask = torch.tensor([[1, 0], [1, 0]])
    assert float(reconstruction_loss(x, rec, mask)) == pytest.approx(2.125)


def test_adversarial_loss_by_hand():
    r = np.array([2.0, -1.0, 0.5])
    for target in (1.0, 0.0, 0.15):
        expected = np.mean(-target * _log_sigmoid(r) - (1 - target) * _log_sigmoid(-r))
        got = float(adversarial_loss(torch.tensor(r, dtype=torch.float32), target))
        assert got == pytest.approx(expected, rel=1e-6)
    # a confident "real" logit has a small loss against "real", a large one against "fake"
    assert float(adversarial_loss(torch.tensor([6.0]), 1.0)) < 0.01
    assert float(adversarial_loss(torch.tensor([6.0]), 0.0)) > 5.9


def test_boundary_loss_is_kl_from_uniform():
    logits = np.array([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    q = np.exp(_log_softmax(logits))
    u = 1.0 / 3
    kl = np.sum(u * (np.log(u) - np.log(q)), axis=1)
    got = float(boundary_loss(torch.tensor(logits, dtype=torch.float32)))
    assert got == pytest.approx(kl.mean(), rel=1e-6)
    assert kl[1] == pytest.approx(0.0)  # uniform prediction: on the boundary
    # two classes: logits (0, log 3) -> q = (1/4, 3/4); KL = 0.5 log(2) + 0.5 log(2/3) ...
    two = float(boundary_loss(torch.tensor([[0.0, np.log(3.0)]])))
    assert two == pytest.approx(0.5 * np.log(0.5 / 0.25) + 0.5 * np.log(0.5 / 0.75), rel=1e-6)


def test_diversity_loss_by_hand():
    edit = np.array([[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0], [4.0, 0.0, 0.0, 0.0]])
    z = np.array([[0.0, 2.0], [1.0, 1.0], [3.0, -1.0]])
    perm = np.array([2, 0, 1])
    expected = np.mean(
        [
            np.exp(-np.mean(np.abs(edit[i] - edit[j])) / (1e-6 + np.mean(np.abs(z[i] - z[j]))))
            for i, j in enumerate(perm)
        ]
    )
    got = float(
        diversity_loss(
            torch.tensor(edit, dtype=torch.float32).reshape(3, 1, 2, 2),
            torch.tensor(z, dtype=torch.float32).reshape(3, 2, 1, 1),
            perm=torch.tensor(perm),
        )
    )
    assert got == pytest.approx(expected, rel=1e-6)
    # with a mask, the edit distance averages over the electrode pixels (first column)
    mask = np.array([[True, False], [True, False]])
    e4 = edit.reshape(3, 1, 2, 2)
    expected_m = np.mean(
        [
            np.exp(
                -np.mean(np.abs(e4[i][:, mask] - e4[j][:, mask]))
                / (1e-6 + np.mean(np.abs(z[i] - z[j])))
            )
            for i, j in enumerate(perm)
        ]
    )
    got_m = diversity_loss(
        torch.tensor(e4, dtype=torch.float32),
        torch.tensor(z, dtype=torch.float32),
        perm=torch.tensor(perm),
        mask=torch.tensor(mask),
    )
    assert float(got_m) == pytest.approx(expected_m, rel=1e-6)
    # collapsed edits (all equal) give the maximum, 1
    same = torch.ones(3, 4)
    assert (
        float(diversity_loss(same, torch.tensor(z, dtype=torch.float32), torch.tensor(perm))) == 1
    )


def test_edit_class_loss_by_hand():
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    target = np.array([1, 2])
    expected = -np.mean(_log_softmax(logits)[np.arange(2), target])
    got = float(edit_class_loss(torch.tensor(logits, dtype=torch.float32), torch.tensor(target)))
    assert got == pytest.approx(expected, rel=1e-6)


def test_generator_loss_is_the_weighted_sum_of_the_terms():
    rng = np.random.default_rng(0)
    x, rec, edit = (rng.normal(size=(4, 2, 3, 3)) for _ in range(3))
    z = rng.normal(size=(4, 8, 1, 1))
    realness = rng.normal(size=4)
    logits = rng.normal(size=(4, 3))
    target = np.array([0, 2, 1, 1])
    perm = np.array([1, 2, 3, 0])
    t = {
        k: torch.tensor(v, dtype=torch.float32)
        for k, v in dict(x=x, rec=rec, edit=edit, z=z, r=realness, lg=logits).items()
    }
    weights = {"adversarial": 0.3, "diversity": 2.0}
    loss, terms = generator_loss(
        t["x"],
        t["rec"],
        t["edit"],
        t["z"],
        t["r"],
        t["lg"],
        torch.tensor(target),
        weights=weights,
        perm=torch.tensor(perm),
    )
    lq = _log_softmax(logits)
    by_hand = {
        "reconstruction": np.mean((x - rec) ** 2),
        "adversarial": -np.mean(_log_sigmoid(realness)),
        "boundary": np.mean(np.sum((1 / 3) * (np.log(1 / 3) - lq), axis=1)),
        "diversity": np.mean(
            [
                np.exp(-np.mean(np.abs(edit[i] - edit[j])) / (1e-6 + np.mean(np.abs(z[i] - z[j]))))
                for i, j in enumerate(perm)
            ]
        ),
        "class": -np.mean(lq[np.arange(4), target]),
    }
    w = {**GENERATOR_WEIGHTS, **weights}
    assert GENERATOR_WEIGHTS == {
        "reconstruction": 1.0,
        "adversarial": 0.5,
        "boundary": 2.5,
        "diversity": 1.0,
        "class": 1.0,
    }
    for k, v in by_hand.items():
        assert float(terms[k]) == pytest.approx(v, rel=1e-5), k
    assert float(loss) == pytest.approx(sum(w[k] * by_hand[k] for k in by_hand), rel=1e-5)
    with pytest.raises(ValueError, match="unknown weight name"):
        generator_loss(
            t["x"],
            t["rec"],
            t["edit"],
            t["z"],
            t["r"],
            t["lg"],
            torch.tensor(target),
            weights={"boundry": 1.0},
        )


def test_discriminator_loss_by_hand():
    rr, rl = np.array([1.0, -2.0]), np.array([[0.0, 1.0], [2.0, -1.0]])
    fr, fl = np.array([0.5, 3.0]), np.array([[1.0, 1.0], [-1.0, 0.0]])
    y, t = np.array([1, 0]), np.array([0, 1])
    T = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    real_class = -np.mean(_log_softmax(rl)[np.arange(2), y])
    # class-only step
    loss, terms = discriminator_loss(T(rr), T(rl), torch.tensor(y))
    assert float(loss) == pytest.approx(real_class, rel=1e-6) and set(terms) == {"real_class"}
    # adversarial step, smoothed fake label 0.15
    loss, terms = discriminator_loss(
        T(rr), T(rl), torch.tensor(y), T(fr), T(fl), torch.tensor(t), fake_label=0.15
    )
    real_adv = -np.mean(_log_sigmoid(rr))
    fake_adv = np.mean(-0.15 * _log_sigmoid(fr) - 0.85 * _log_sigmoid(-fr))
    fake_class = -np.mean(_log_softmax(fl)[np.arange(2), t])
    expected = 0.5 * (0.5 * real_adv + 0.5 * real_class) + 0.5 * (0.5 * fake_adv + 0.5 * fake_class)
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    assert float(terms["fake_adv"]) == pytest.approx(fake_adv, rel=1e-6)
    # without the emotion CE on edits (the sampler's default): that term drops out
    loss0, _ = discriminator_loss(
        T(rr), T(rl), torch.tensor(y), T(fr), T(fl), torch.tensor(t), fake_class_weight=0.0
    )
    expected0 = 0.25 * (real_adv + real_class + fake_adv)
    assert float(loss0) == pytest.approx(expected0, rel=1e-6)
    with pytest.raises(ValueError, match="go together"):
        discriminator_loss(T(rr), T(rl), torch.tensor(y), T(fr))


# --- the sampler -----------------------------------------------------------------------------

# the smallest real configuration: a few milliseconds per training step
TINY = dict(hidden=2, max_epochs=1, batch_size=256, device="cpu", random_state=0)
SAMPLER_EXPECTED_FAILED = {
    "check_samplers_pandas_sparse": "sparse input is not supported: the GAN works on dense maps",
}


@parametrize_with_sampler_checks(
    [ESCGANSampler(**TINY)], expected_failed_checks=lambda est: SAMPLER_EXPECTED_FAILED
)
def test_imbalanced_learn_sampler_checks(estimator, check):
    check(estimator)


def test_parameter_validation_and_column_names():
    check_param_validation("ESCGANSampler", ESCGANSampler(**TINY))
    check_dataframe_column_names_consistency("ESCGANSampler", ESCGANSampler(**TINY))


def _flatten(X):
    return X.reshape(len(X), -1)


@pytest.fixture(scope="module")
def eeg():
    """Tiny two-class EEG corpus (Emotiv montage, 1 s windows), class 1 kept at 25 %."""
    data = make_eeg_emotion(
        "emotiv14",
        n_subjects=3,
        n_classes=2,
        n_trials_per_class=2,
        n_windows_per_trial=6,
        window_seconds=1.0,
        effect_size=3.0,
        random_state=0,
    )
    rng = np.random.default_rng(0)
    ones = [
        rng.choice(np.flatnonzero((data.y == 1) & (data.groups == g)), 3, False)
        for g in np.unique(data.groups)
    ]  # 3 windows of class 1 per subject
    keep = np.sort(np.concatenate([np.flatnonzero(data.y == 0), *ones]))
    return data, keep


def _grids(data, X):
    de = DifferentialEntropy(data.sfreq).fit_transform(X)
    return ElectrodeGrid(data.ch_names).fit_transform(de)


def test_signal_windows_come_back_as_de_grids(eeg):
    data, keep = eeg
    X, y = data.X[keep], data.y[keep]
    sampler = ESCGANSampler(sfreq=data.sfreq, ch_names=data.ch_names, **TINY)
    X_res, y_res = sampler.fit_resample(X, y)
    n_new = int((y == 0).sum() - (y == 1).sum())
    assert X_res.shape == (len(y) + n_new, 5, 9, 9) and X_res.dtype == np.float32
    assert np.bincount(y_res).tolist() == [int((y == 0).sum())] * 2
    # the originals are their DE grids, in order; the edits follow, all of class 1
    np.testing.assert_allclose(X_res[: len(y)], _grids(data, X), rtol=1e-6)
    assert np.all(y_res[len(y) :] == 1)
    # edits are zero off the electrodes, and come from samples of the other class
    mask = ElectrodeGrid(data.ch_names).fit(np.zeros((1, 14, 5))).mask_
    np.testing.assert_array_equal(sampler.mask_, mask)
    assert np.all(X_res[len(y) :][:, :, ~mask] == 0)
    assert np.any(X_res[len(y) :][:, :, mask] != 0)
    src = sampler.sample_indices_
    np.testing.assert_array_equal(src[: len(y)], np.arange(len(y)))
    assert np.all(y[src[len(y) :]] == 0)
    assert sampler.n_candidates_[1] == 3 * n_new
    assert sampler.n_accepted_[1] + sampler.n_fallback_[1] >= n_new
    # a montage name works like the channel list
    by_name = ESCGANSampler(sfreq=data.sfreq, ch_names="emotiv14", **TINY).fit_resample(X, y)
    np.testing.assert_array_equal(by_name[0], X_res)


def test_grids_and_feature_vectors_keep_their_representation():
    rng = np.random.default_rng(0)
    X4 = 100 + 5 * rng.normal(size=(30, 3, 4, 5))  # far from the GAN's [0, 1] scale
    X4[:, :, 0, 0] = 0  # a pixel without electrode
    y = np.array([0] * 20 + [1] * 10)
    X4_in = X4.copy()
    sampler = ESCGANSampler(**TINY)
    X_res, y_res = sampler.fit_resample(X4, y)
    np.testing.assert_array_equal(X4, X4_in)  # the input is not modified
    assert X_res.shape == (40, 3, 4, 5) and X_res.dtype == np.float64
    np.testing.assert_array_equal(X_res[:30], X4)  # float64 originals kept exactly
    assert not sampler.mask_[0, 0] and sampler.mask_.sum() == 19
    assert np.all(X_res[30:, :, 0, 0] == 0)
    # edits are mapped back to the data's scale (the min-max scaling is undone)
    edits = X_res[30:][:, :, sampler.mask_]
    lo, hi = X4[:, :, sampler.mask_].min(axis=0), X4[:, :, sampler.mask_].max(axis=0)
    assert np.all(edits > lo - (hi - lo)) and np.all(edits < hi + (hi - lo))
    X2 = rng.normal(size=(30, 7)).astype(np.float32)
    X_res2, _ = ESCGANSampler(**TINY).fit_resample(X2, y)
    assert X_res2.shape == (40, 7) and X_res2.dtype == np.float32


@pytest.mark.parametrize(
    "X, kwargs, match",
    [
        (np.zeros((12, 4, 64)), {}, "needs the arguments sfreq and ch_names"),
        (np.zeros((12, 4, 64)), dict(sfreq=128.0), "ch_names=None"),
        (np.zeros((12, 2, 3, 3, 3)), {}, "must be feature vectors"),
        (np.full((12, 3), np.nan), {}, "ESCGANSampler: argument X or y.*NaN"),
        (np.zeros((12, 4, 64)), dict(sfreq=128.0, ch_names=["Fz", "Cz"]), "ESCGANSampler"),
    ],
)
def test_bad_input_is_named(X, kwargs, match):
    y = np.array([0] * 8 + [1] * 4)
    with pytest.raises(ValueError, match=match):
        ESCGANSampler(**TINY, **kwargs).fit_resample(X, y)


class _Recorder(ClassifierMixin, BaseEstimator):
    """Records what reaches the final step of a Pipeline."""

    def fit(self, X, y):
        self.fit_X_, self.fit_y_ = np.asarray(X).copy(), np.asarray(y).copy()
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        self.predict_X_ = np.asarray(X).copy()
        return np.full(len(X), self.classes_[0])


def test_pipeline_downstream_gets_grids_and_no_resampling_at_predict(eeg):
    data, keep = eeg
    X, y = data.X[keep], data.y[keep]
    test = np.setdiff1d(np.arange(len(data.y)), keep)
    pipe = Pipeline(
        [
            ("de", DifferentialEntropy(data.sfreq)),
            ("grid", ElectrodeGrid(data.ch_names)),
            ("escgan", ESCGANSampler(**TINY)),
            ("clf", _Recorder()),
        ]
    ).fit(X, y)
    rec = pipe.named_steps["clf"]
    n_new = int((y == 0).sum() - (y == 1).sum())
    assert rec.fit_X_.shape == (len(y) + n_new, 5, 9, 9)
    np.testing.assert_allclose(rec.fit_X_[: len(y)], _grids(data, X), rtol=1e-6)
    pipe.predict(data.X[test])
    # at predict time the grids of the test windows arrive as they are: no edit is added
    np.testing.assert_array_equal(rec.predict_X_, _grids(data, data.X[test]))


def test_grid_search_with_leave_one_subject_out(eeg):
    data, keep = eeg
    X, y, groups = data.X[keep], data.y[keep], data.groups[keep]
    pipe = Pipeline(
        [
            ("de", DifferentialEntropy(data.sfreq)),
            ("grid", ElectrodeGrid(data.ch_names)),
            ("escgan", ESCGANSampler(**TINY)),
            ("flat", FunctionTransformer(_flatten)),
            ("scale", StandardScaler()),
            ("clf", LogisticRegression(max_iter=200)),
        ]
    )
    search = GridSearchCV(
        pipe,
        {"escgan__boundary_weight": [0.0, 2.5], "clf__C": [0.1]},
        cv=LeaveOneGroupOut(),
        scoring="balanced_accuracy",
    ).fit(X, y, groups=groups)
    assert search.n_splits_ == len(np.unique(groups)) == 3
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    sampler = search.best_estimator_.named_steps["escgan"]
    assert sampler.sampling_strategy_ == {1: int((y == 0).sum() - (y == 1).sum())}
    assert search.predict(data.X[:5]).shape == (5,)


def test_fixed_random_state_gives_identical_output_and_leaves_global_rng(eeg):
    data, keep = eeg
    X, y = _grids(data, data.X[keep]), data.y[keep]
    kw = dict(TINY, max_epochs=2, batch_size=8)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = ESCGANSampler(**kw).fit_resample(X, y)
    assert torch.equal(torch.get_rng_state(), state)
    b = ESCGANSampler(**kw).fit_resample(X, y)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    c = ESCGANSampler(**{**kw, "random_state": 1}).fit_resample(X, y)
    assert not np.array_equal(a[0], c[0])


def test_acceptance_thresholds_and_fallback():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2, 3, 3)).astype(np.float32)
    y = np.array([0] * 20 + [1] * 10)
    # nothing can pass p(real) >= 1: "best" completes with rejected edits, "none" adds nothing
    best = ESCGANSampler(realness_threshold=1.0, fallback="best", **TINY)
    X_res, y_res = best.fit_resample(X, y)
    assert best.n_accepted_ == {1: 0} and best.n_fallback_ == {1: 10}
    assert np.bincount(y_res).tolist() == [20, 20]
    none = ESCGANSampler(realness_threshold=1.0, fallback="none", **TINY)
    X_none, y_none = none.fit_resample(X, y)
    assert X_none.shape == X.shape and none.n_fallback_ == {1: 0}
    # everything passes zero thresholds: no fallback, and the edits are those of "best"
    # (same training), so both selections come from the same candidates
    every = ESCGANSampler(realness_threshold=0.0, class_threshold=0.0, **TINY)
    X_all, _ = every.fit_resample(X, y)
    assert every.n_accepted_ == {1: 30} and every.n_fallback_ == {1: 0}
    assert X_all.shape == X_res.shape


def test_balanced_data_trains_nothing():
    X = np.random.default_rng(0).normal(size=(20, 4))
    y = np.array([0, 1] * 10)
    sampler = ESCGANSampler(**TINY)
    X_res, y_res = sampler.fit_resample(X, y)
    assert sampler.net_ is None and list(sampler.sampling_strategy_.values()) == [0]
    np.testing.assert_array_equal(X_res, X)
    assert X_res is not X


def test_edits_are_of_the_target_class_for_an_independent_classifier():
    # strong class effect; the minority class is grown by editing majority-class windows
    data = make_eeg_emotion(
        "emotiv14",
        n_subjects=4,
        n_classes=2,
        n_trials_per_class=2,
        n_windows_per_trial=8,
        window_seconds=1.0,
        effect_size=3.0,
        random_state=0,
    )
    grids = _grids(data, data.X)
    y = data.y
    # independent classifier: nearest class mean of the standardised electrode pixels of the
    # real grids (all windows)
    mask = np.any(grids != 0, axis=(0, 1))
    judge = Pipeline(
        [
            ("pixels", FunctionTransformer(lambda G: G[:, :, mask].reshape(len(G), -1))),
            ("scale", StandardScaler()),
            ("centroid", NearestCentroid()),
        ]
    ).fit(grids, y)
    assert judge.score(grids, y) > 0.8
    rng = np.random.default_rng(0)
    ones = np.flatnonzero(y == 1)
    keep = np.sort(np.concatenate([np.flatnonzero(y == 0), rng.choice(ones, 16, False)]))
    sampler = ESCGANSampler(
        sfreq=data.sfreq,
        ch_names=data.ch_names,
        hidden=4,
        batch_size=16,
        max_epochs=40,
        device="cpu",
        random_state=0,
    )
    X_res, y_res = sampler.fit_resample(data.X[keep], y[keep])
    n = len(keep)
    edits, sources = X_res[n:], X_res[sampler.sample_indices_[n:]]
    assert len(edits) == 48 and np.all(y_res[n:] == 1)
    target_rate = np.mean(judge.predict(edits) == 1)
    source_rate = np.mean(judge.predict(sources) == 1)
    assert target_rate > 0.7 and source_rate < 0.3


def test_divergence_is_named(monkeypatch):
    def nan_loss(*args, **kwargs):
        return torch.tensor(float("nan"), requires_grad=True), {}

    monkeypatch.setattr(escgan_sampler_module, "generator_loss", nan_loss)
    X = np.random.default_rng(0).normal(size=(30, 3))
    y = np.array([0] * 20 + [1] * 10)
    with pytest.raises(
        TrainingDivergedError,
        match="ESCGANSampler: training diverged at epoch 1, batch 1: the generator loss is nan",
    ):
        ESCGANSampler(**TINY).fit_resample(X, y)


def test_ctrl_c_stops_fit_resample(monkeypatch):
    original = escgan_sampler_module._ESCGANNet.train_step

    def interrupted(self, batch, **kwargs):
        signal.raise_signal(signal.SIGINT)
        return original(self, batch, **kwargs)

    monkeypatch.setattr(escgan_sampler_module._ESCGANNet, "train_step", interrupted)
    X = np.random.default_rng(0).normal(size=(30, 3))
    y = np.array([0] * 20 + [1] * 10)
    with pytest.raises(KeyboardInterrupt, match="ESCGANSampler: training interrupted"):
        ESCGANSampler(**{**TINY, "max_epochs": 3}).fit_resample(X, y)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("precision", ["bf16", "16-mixed"])
def test_reduced_precision_runs_on_cpu(precision):
    X = np.random.default_rng(0).normal(size=(30, 2, 3, 3)).astype(np.float32)
    y = np.array([0] * 20 + [1] * 10)
    X_res, _ = ESCGANSampler(**{**TINY, "precision": precision}).fit_resample(X, y)
    assert X_res.shape == (40, 2, 3, 3) and np.isfinite(X_res).all()


def test_pickle_and_verbosity(capsys):
    X = np.random.default_rng(0).normal(size=(30, 3))
    y = np.array([0] * 20 + [1] * 10)
    sampler = ESCGANSampler(**TINY).fit(X, y)
    assert capsys.readouterr().out == ""
    sampler.fit_resample(X, y)
    assert capsys.readouterr().out == ""
    clone = pickle.loads(pickle.dumps(sampler))
    gen = clone.net_.module_
    assert isinstance(gen, ESCGANGenerator) and gen.n_classes == 2
    ESCGANSampler(**{**TINY, "verbose": 1}).fit_resample(X, y)
    assert "edits accepted" in capsys.readouterr().out


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no cuda device")
@pytest.mark.parametrize("precision", ["32", "bf16", "16-mixed"])
def test_cuda_training(precision):
    X = np.random.default_rng(0).normal(size=(60, 5, 9, 9)).astype(np.float32)
    y = np.array([0] * 45 + [1] * 15)
    kw = dict(hidden=8, max_epochs=3, batch_size=16, random_state=0)
    sampler = ESCGANSampler(device="cuda", precision=precision, **kw)
    X_res, y_res = sampler.fit_resample(X, y)
    assert X_res.shape == (90, 5, 9, 9) and np.isfinite(X_res).all()
    assert next(sampler.net_.module_.parameters()).is_cuda
    # a GPU-fitted sampler pickles and loads
    assert pickle.loads(pickle.dumps(sampler)).sampling_strategy_ == {1: 30}
