"""ESC-GAN: the two networks, the losses, and the imbalanced-learn sampler."""

import numpy as np
import pytest
import torch

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
    with pytest.raises(ValueError, match="go together"):
        discriminator_loss(T(rr), T(rl), torch.tensor(y), T(fr))
