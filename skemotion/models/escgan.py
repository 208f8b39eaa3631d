"""ESC-GAN from Zhang, Zhong and Liu (2024) [Zhang2024]_: generator, discriminator, losses.

ESC-GAN augments an under-represented emotion by *editing* real samples of other classes into
it, instead of generating samples from noise. Samples are differential-entropy maps
``(n_bands, H, W)`` (5 bands on the 9x9 electrode grid in the paper). The generator is a
conditional encoder-decoder: the encoder's bottleneck ``z`` is multiplied by an embedding of
the target class and decoded back to a map; the discriminator judges real vs edited and
recognises the emotion. The losses below are pure functions of tensors, so that each term can
be checked by hand; :class:`skemotion.augment.ESCGANSampler` trains the two networks with them.

References
----------
.. [Zhang2024] Zhang, Z., Zhong, S., & Liu, Y. (2024). Beyond mimicking under-represented
   emotions: deep data augmentation with emotional subspace constraints for EEG-based emotion
   recognition. Proceedings of the AAAI Conference on Artificial Intelligence, 38(9),
   10252-10260.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "ESCGANDiscriminator",
    "ESCGANGenerator",
    "adversarial_loss",
    "boundary_loss",
    "discriminator_loss",
    "diversity_loss",
    "edit_class_loss",
    "generator_loss",
    "reconstruction_loss",
    "GENERATOR_WEIGHTS",
]

#: Weights of the generator's terms in the original training script (the boundary term is
#: ``5 * 0.5 * KL`` there, the adversarial term ``0.5 * BCE``; the class term is the poster's
#: additional CE on the edits).
GENERATOR_WEIGHTS = {
    "reconstruction": 1.0,
    "adversarial": 0.5,
    "boundary": 2.5,
    "diversity": 1.0,
    "class": 1.0,
}


def _down(size: int) -> int:
    """Output length of a 3-tap, stride-2, padding-1 convolution."""
    return (size - 1) // 2 + 1


def _check_config(name, n_bands, n_classes, grid_shape, hidden):
    shape = tuple(int(s) for s in grid_shape) if isinstance(grid_shape, Sequence) else ()
    if (
        n_bands < 1
        or n_classes < 2
        or hidden < 1
        or len(shape) != 2
        or min(shape) < 1
        or tuple(grid_shape) != shape
    ):
        raise ValueError(
            f"{name} needs n_bands >= 1, n_classes >= 2, hidden >= 1 and grid_shape a pair of "
            f"positive integers; got n_bands={n_bands}, n_classes={n_classes}, hidden={hidden}, "
            f"grid_shape={grid_shape!r}."
        )
    return shape


def _encoder(n_bands: int, hidden: int, slope: float) -> nn.Sequential:
    """The 4-block encoder shared by both networks: (B, n_bands, H, W) -> (B, 4h, H'', W'')."""

    def block(in_ch, out_ch, stride):
        return nn.Sequential(
            nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1),
            nn.BatchNorm2d(out_ch),
            nn.LeakyReLU(slope),
        )

    return nn.Sequential(
        block(n_bands, hidden, 1),  # (B, h, H, W)
        block(hidden, 2 * hidden, 2),  # (B, 2h, H', W'), H' = ceil(H / 2)
        block(2 * hidden, 2 * hidden, 1),  # (B, 2h, H', W')
        block(2 * hidden, 4 * hidden, 2),  # (B, 4h, H'', W''), H'' = ceil(H' / 2)
    )


def _check_input(name, x, n_bands, grid_shape):
    if x.dim() != 4 or x.shape[1] != n_bands or tuple(x.shape[2:]) != grid_shape:
        raise ValueError(
            f"{name} expects input of shape (batch, {n_bands}, {grid_shape[0]}, "
            f"{grid_shape[1]}); got {tuple(x.shape)}."
        )


class ESCGANGenerator(nn.Module):
    """Conditional encoder-decoder generator of ESC-GAN [Zhang2024]_.

    ``G(x, t)`` edits the maps ``x`` into class ``t``:

    - encoder: four blocks ``Conv3x3(pad 1) + BN + LeakyReLU``, ``n_bands -> h`` (stride 1),
      ``h -> 2h`` (stride 2), ``2h -> 2h`` (stride 1), ``2h -> 4h`` (stride 2), giving
      ``z`` of shape ``(4h, 3, 3)`` on a 9x9 grid;
    - condition: ``Embedding(n_classes, 4h * 3 * 3)`` reshaped like ``z``;
      the decoder reads ``emb(t) * z``;
    - decoder: ``ConvTranspose3x3(pad 1)`` ``4h -> 2h`` (stride 2), ``2h -> 2h`` (stride 1),
      ``2h -> h`` (stride 2), each with BN and LeakyReLU, then ``h -> n_bands`` (stride 1) with
      LeakyReLU and no BN; the output is multiplied by the electrode mask.

    Canonical configuration (``hidden=128``, 5 bands, 9x9): 4,154,885 parameters for 2 classes,
    4,159,493 for 3. Any grid size works (the transposed convolutions' output padding restores
    the encoder's sizes); a 1x1 grid makes the network a per-sample multilayer perceptron.

    Parameters
    ----------
    n_bands : int
        Input maps per sample (frequency bands).
    n_classes : int
        Number of classes (rows of the class embedding).
    grid_shape : tuple of (int, int), default=(9, 9)
        ``(H, W)`` of the maps.
    hidden : int, default=128
        Width ``h`` of the first block (the bottleneck has ``4h`` channels).
    mask : array-like or Tensor of shape (H, W), default=None
        Electrode mask multiplied into the output (1 on electrodes, 0 elsewhere); None means
        all ones. Kept as a buffer (not a parameter).
    negative_slope : float, default=0.01
        LeakyReLU slope (PyTorch's default, as in the original).

    Notes
    -----
    The original code computes ``emb(t) * z`` but then decodes ``z``, so that the target class
    never reaches the decoder; this module decodes the conditioned bottleneck as the paper
    describes.

    References
    ----------
    .. [Zhang2024] Zhang, Z., Zhong, S., & Liu, Y. (2024). Beyond mimicking under-represented
       emotions: deep data augmentation with emotional subspace constraints for EEG-based
       emotion recognition. Proceedings of the AAAI Conference on Artificial Intelligence,
       38(9), 10252-10260.

    Examples
    --------
    >>> import torch
    >>> from skemotion.models import ESCGANGenerator
    >>> gen = ESCGANGenerator(5, 2, hidden=8)
    >>> edit, z = gen(torch.randn(4, 5, 9, 9), torch.tensor([0, 1, 1, 0]))
    >>> tuple(edit.shape), tuple(z.shape)
    ((4, 5, 9, 9), (4, 32, 3, 3))
    """

    def __init__(
        self,
        n_bands: int,
        n_classes: int,
        *,
        grid_shape: tuple[int, int] = (9, 9),
        hidden: int = 128,
        mask=None,
        negative_slope: float = 0.01,
    ):
        super().__init__()
        shape = _check_config("ESCGANGenerator", n_bands, n_classes, grid_shape, hidden)
        self.n_bands, self.n_classes, self.grid_shape, self.hidden = (
            n_bands,
            n_classes,
            shape,
            hidden,
        )
        h1, w1 = shape
        h2, w2 = _down(h1), _down(w1)
        h3, w3 = _down(h2), _down(w2)
        self.latent_shape = (4 * hidden, h3, w3)
        self.encoder = _encoder(n_bands, hidden, negative_slope)
        self.embedding = nn.Embedding(n_classes, math.prod(self.latent_shape))

        def up(in_ch, out_ch, stride, out_size, in_size, norm=True):
            pad = (out_size[0] - (2 * in_size[0] - 1), out_size[1] - (2 * in_size[1] - 1))
            layer = nn.ConvTranspose2d(
                in_ch,
                out_ch,
                3,
                stride=stride,
                padding=1,
                output_padding=pad if stride == 2 else 0,
            )
            layers = [layer, nn.BatchNorm2d(out_ch)] if norm else [layer]
            return nn.Sequential(*layers, nn.LeakyReLU(negative_slope))

        self.decoder = nn.Sequential(
            up(4 * hidden, 2 * hidden, 2, (h2, w2), (h3, w3)),  # (B, 2h, H', W')
            up(2 * hidden, 2 * hidden, 1, (h2, w2), (h2, w2)),  # (B, 2h, H', W')
            up(2 * hidden, hidden, 2, (h1, w1), (h2, w2)),  # (B, h, H, W)
            up(hidden, n_bands, 1, (h1, w1), (h1, w1), norm=False),  # (B, n_bands, H, W)
        )
        m = torch.ones(shape) if mask is None else torch.as_tensor(mask, dtype=torch.float32)
        if tuple(m.shape) != shape:
            raise ValueError(
                f"ESCGANGenerator: mask must have the grid shape {shape}; got {tuple(m.shape)}."
            )
        self.register_buffer("mask", m.reshape(1, 1, *shape).to(torch.float32))

    def forward(self, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Edit ``x`` of shape ``(batch, n_bands, H, W)`` into the classes ``target`` (batch,).

        Parameters
        ----------
        x : Tensor of shape (batch, n_bands, H, W)
            Maps to edit.
        target : Tensor of int64 of shape (batch,)
            Class each sample is edited into.

        Returns
        -------
        edit : Tensor of shape (batch, n_bands, H, W)
            The edited maps (zero outside the mask).
        z : Tensor of shape (batch, 4 * hidden, H'', W'')
            The encoder's bottleneck before conditioning (used by the diversity loss).
        """
        _check_input("ESCGANGenerator", x, self.n_bands, self.grid_shape)
        z = self.encoder(x)  # (B, 4h, H'', W'')
        cond = self.embedding(target).view(-1, *self.latent_shape)  # (B, 4h, H'', W'')
        edit = self.decoder(cond * z)  # (B, n_bands, H, W)
        return edit * self.mask.to(edit.dtype), z


class ESCGANDiscriminator(nn.Module):
    """Discriminator of ESC-GAN [Zhang2024]_: a real/fake head and an emotion head.

    The generator's 4-block encoder (Kaiming-normal convolution weights), flattened
    (``4h * 3 * 3 = 4608`` features on a 9x9 grid with ``hidden=128``), feeds two heads, each
    ``Linear(-> head_hidden) + LeakyReLU + Dropout, Linear(head_hidden -> head_hidden) +
    LeakyReLU + Dropout, Linear`` to 1 output (real/fake logit) and to ``n_classes`` (emotion
    logits). ``head_hidden`` defaults to ``8 * hidden`` (1024).

    Canonical configuration (``hidden=128``, 5 bands, 9x9): 13,615,107 parameters for 2
    classes, 13,616,132 for 3.

    Parameters
    ----------
    n_bands : int
        Input maps per sample.
    n_classes : int
        Number of classes of the emotion head.
    grid_shape : tuple of (int, int), default=(9, 9)
        ``(H, W)`` of the maps.
    hidden : int, default=128
        Width of the encoder's first block.
    head_hidden : int or None, default=None
        Width of the heads' hidden layers; None means ``8 * hidden``.
    dropout : float, default=0.3
        Dropout rate in the heads.
    negative_slope : float, default=0.01
        LeakyReLU slope.

    References
    ----------
    .. [Zhang2024] Zhang, Z., Zhong, S., & Liu, Y. (2024). Beyond mimicking under-represented
       emotions: deep data augmentation with emotional subspace constraints for EEG-based
       emotion recognition. Proceedings of the AAAI Conference on Artificial Intelligence,
       38(9), 10252-10260.

    Examples
    --------
    >>> import torch
    >>> from skemotion.models import ESCGANDiscriminator
    >>> disc = ESCGANDiscriminator(5, 3, hidden=8).eval()
    >>> realness, logits = disc(torch.randn(4, 5, 9, 9))
    >>> tuple(realness.shape), tuple(logits.shape)
    ((4,), (4, 3))
    """

    def __init__(
        self,
        n_bands: int,
        n_classes: int,
        *,
        grid_shape: tuple[int, int] = (9, 9),
        hidden: int = 128,
        head_hidden: int | None = None,
        dropout: float = 0.3,
        negative_slope: float = 0.01,
    ):
        super().__init__()
        shape = _check_config("ESCGANDiscriminator", n_bands, n_classes, grid_shape, hidden)
        head_hidden = 8 * hidden if head_hidden is None else head_hidden
        if head_hidden < 1 or not 0 <= dropout < 1:
            raise ValueError(
                "ESCGANDiscriminator needs head_hidden >= 1 and 0 <= dropout < 1; got "
                f"head_hidden={head_hidden}, dropout={dropout}."
            )
        self.n_bands, self.n_classes, self.grid_shape, self.hidden = (
            n_bands,
            n_classes,
            shape,
            hidden,
        )
        self.encoder = _encoder(n_bands, hidden, negative_slope)
        for m in self.encoder.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
        n_features = 4 * hidden * _down(_down(shape[0])) * _down(_down(shape[1]))
        self.n_features = n_features

        def head(n_out):
            return nn.Sequential(
                nn.Linear(n_features, head_hidden),
                nn.LeakyReLU(negative_slope),
                nn.Dropout(dropout),
                nn.Linear(head_hidden, head_hidden),
                nn.LeakyReLU(negative_slope),
                nn.Dropout(dropout),
                nn.Linear(head_hidden, n_out),
            )

        self.realness = head(1)
        self.emotion = head(n_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Judge maps ``x`` of shape ``(batch, n_bands, H, W)``.

        Parameters
        ----------
        x : Tensor of shape (batch, n_bands, H, W)
            Maps to judge.

        Returns
        -------
        realness : Tensor of shape (batch,)
            Real/fake logit (positive: judged real).
        logits : Tensor of shape (batch, n_classes)
            Emotion logits.
        """
        _check_input("ESCGANDiscriminator", x, self.n_bands, self.grid_shape)
        feats = self.encoder(x).flatten(1)  # (B, 4h * H'' * W'')
        return self.realness(feats).squeeze(1), self.emotion(feats)


# --------------------------------------------------------------------------- losses


def _masked_mean(v: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Per-sample mean of ``v`` (batch, n_bands, H, W) over the bands and the mask's pixels."""
    if mask is None:
        return v.flatten(1).mean(dim=1)
    m = mask.to(v.dtype).reshape(1, 1, *v.shape[2:])
    return (v * m).flatten(1).sum(dim=1) / (v.shape[1] * m.sum()).clamp_min(1)


def reconstruction_loss(
    x: torch.Tensor, x_rec: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean squared error between ``x`` and its edit into its own class, ``G(x, y)``.

    Parameters
    ----------
    x, x_rec : Tensor of shape (batch, n_bands, H, W)
    mask : Tensor of shape (H, W), default=None
        Electrode pixels: the mean runs over them only (None: over the whole grid, as in the
        original, where the interpolated maps fill most of it). With 14 electrodes on a 9x9
        grid, a mean over the grid would shrink the term's weight more than five-fold.

    Returns
    -------
    Tensor (scalar)
        ``mean((x - x_rec) ** 2)`` over the batch, the bands and the (masked) pixels.

    Examples
    --------
    >>> import torch
    >>> from skemotion.models.escgan import reconstruction_loss
    >>> x, rec = torch.zeros(1, 1, 1, 2), torch.tensor([[[[1.0, 3.0]]]])
    >>> float(reconstruction_loss(x, rec))
    5.0
    >>> float(reconstruction_loss(x, rec, mask=torch.tensor([[1, 0]])))  # first pixel only
    1.0
    """
    return _masked_mean((x_rec.float() - x.float()).square(), mask).mean()


def adversarial_loss(realness: torch.Tensor, target: float) -> torch.Tensor:
    """Binary cross-entropy of real/fake logits against a constant label.

    Parameters
    ----------
    realness : Tensor of shape (batch,)
        Real/fake logits of the discriminator.
    target : float
        1.0 for "real", 0.0 for "fake", or a smoothed label in between.

    Returns
    -------
    Tensor (scalar)
        ``mean(-target * log(sigmoid(r)) - (1 - target) * log(1 - sigmoid(r)))``.

    Examples
    --------
    >>> import torch
    >>> from skemotion.models.escgan import adversarial_loss
    >>> round(float(adversarial_loss(torch.zeros(3), 1.0)), 4)  # log(2)
    0.6931
    """
    r = realness.float()
    return F.binary_cross_entropy_with_logits(r, torch.full_like(r, float(target)))


def boundary_loss(logits: torch.Tensor) -> torch.Tensor:
    """Boundary-aware term: ``KL(uniform || softmax(logits))``, averaged over the batch.

    Zero when the emotion head cannot tell the classes apart (the sample sits on the decision
    boundary); it keeps edits near the boundary, where they inform a classifier most.

    Parameters
    ----------
    logits : Tensor of shape (batch, n_classes)

    Returns
    -------
    Tensor (scalar)
        ``mean_i sum_k (1/K) * (log(1/K) - log softmax(logits_i)_k)``.

    Examples
    --------
    >>> import torch
    >>> from skemotion.models.escgan import boundary_loss
    >>> float(boundary_loss(torch.tensor([[2.0, 2.0]])))
    0.0
    """
    logq = F.log_softmax(logits.float(), dim=1)
    k = logq.shape[1]
    return (-math.log(k) - logq.mean(dim=1)).mean()


def diversity_loss(
    edit: torch.Tensor,
    z: torch.Tensor,
    perm: torch.Tensor | None = None,
    eps: float = 1e-6,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Diversity-aware term: edits of different inputs must differ as much as their latents.

    For a pairing ``j = perm[i]`` of the batch,
    ``mean_i exp(-mean|edit_i - edit_j| / (eps + mean|z_i - z_j|))``, each inner mean over
    all of a sample's entries (the edit's electrode pixels with ``mask``). It approaches 1
    when distinct inputs collapse onto one edit.

    Parameters
    ----------
    edit : Tensor of shape (batch, ...)
        Edited samples.
    z : Tensor of shape (batch, ...)
        Their latent codes (the generator's bottleneck).
    perm : Tensor of shape (batch,), default=None
        The pairing (a permutation of ``range(batch)``); None draws one with
        ``torch.randperm`` (from torch's global generator).
    eps : float, default=1e-6
        Added to the latent distance.
    mask : Tensor of shape (H, W), default=None
        Electrode pixels of 4-D edits (see :func:`reconstruction_loss`); None: all entries.

    Returns
    -------
    Tensor (scalar)

    Examples
    --------
    >>> import torch
    >>> from skemotion.models.escgan import diversity_loss
    >>> edit = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    >>> z = torch.tensor([[0.0], [1.0]])
    >>> round(float(diversity_loss(edit, z, perm=torch.tensor([1, 0]))), 4)  # exp(-1)
    0.3679
    """
    n = edit.shape[0]
    if perm is None:
        perm = torch.randperm(n, device=edit.device)
    e, zz = edit.float(), z.float().flatten(1)
    d_edit = (
        _masked_mean((e - e[perm]).abs(), mask)
        if mask is not None
        else ((e - e[perm]).abs().flatten(1).mean(dim=1))
    )
    d_z = (zz - zz[perm]).abs().mean(dim=1)
    return torch.exp(-d_edit / (eps + d_z)).mean()


def edit_class_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the emotion head on edits against their target classes.

    Parameters
    ----------
    logits : Tensor of shape (batch, n_classes)
    target : Tensor of shape (batch,), integer class indices

    Returns
    -------
    Tensor (scalar)
        ``mean_i -log softmax(logits_i)[target_i]``.

    Examples
    --------
    >>> import torch
    >>> from skemotion.models.escgan import edit_class_loss
    >>> round(float(edit_class_loss(torch.zeros(1, 4), torch.tensor([2]))), 4)  # log(4)
    1.3863
    """
    return F.cross_entropy(logits.float(), target)


def generator_loss(
    x: torch.Tensor,
    x_rec: torch.Tensor,
    edit: torch.Tensor,
    z: torch.Tensor,
    edit_realness: torch.Tensor,
    edit_logits: torch.Tensor,
    target: torch.Tensor,
    *,
    weights: Mapping[str, float] | None = None,
    perm: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The generator's objective: weighted sum of the five ESC-GAN terms.

    ``w_rec * reconstruction(x, G(x, y)) + w_adv * adversarial(D_rf(G(x, t)), real)
    + w_boundary * KL(U || D_cls(G(x, t))) + w_div * diversity(G(x, t), z)
    + w_cls * CE(D_cls(G(x, t)), t)``.

    Parameters
    ----------
    x : Tensor of shape (batch, n_bands, H, W)
        Real samples.
    x_rec : Tensor of shape (batch, n_bands, H, W)
        ``G(x, y)``: the samples edited into their own class.
    edit, z : Tensor
        ``G(x, t)`` and its bottleneck.
    edit_realness, edit_logits : Tensor of shape (batch,) and (batch, n_classes)
        The discriminator's outputs on ``edit``.
    target : Tensor of shape (batch,)
        Target classes ``t`` (``t != y``).
    weights : mapping, default=None
        Keys ``"reconstruction"``, ``"adversarial"``, ``"boundary"``, ``"diversity"``,
        ``"class"``; missing keys take :data:`GENERATOR_WEIGHTS` (the original's values).
    perm : Tensor of shape (batch,), default=None
        Pairing of the diversity term (see :func:`diversity_loss`).
    mask : Tensor of shape (H, W), default=None
        Electrode pixels over which the reconstruction and diversity terms average (see
        :func:`reconstruction_loss`); None: the whole grid.

    Returns
    -------
    loss : Tensor (scalar)
    terms : dict of str to Tensor
        The unweighted terms, detached.

    Examples
    --------
    >>> import torch
    >>> from skemotion.models.escgan import generator_loss
    >>> x = torch.zeros(2, 1, 1, 1)
    >>> loss, terms = generator_loss(
    ...     x, x, x + 1, torch.ones(2, 1), torch.zeros(2), torch.zeros(2, 2),
    ...     torch.tensor([1, 0]), weights={"diversity": 0.0})
    >>> sorted(terms)
    ['adversarial', 'boundary', 'class', 'diversity', 'reconstruction']
    """
    w = {**GENERATOR_WEIGHTS, **(weights or {})}
    unknown = set(w) - set(GENERATOR_WEIGHTS)
    if unknown:
        raise ValueError(
            f"generator_loss: unknown weight name(s) {sorted(unknown)}; expected "
            f"{sorted(GENERATOR_WEIGHTS)}."
        )
    terms = {
        "reconstruction": reconstruction_loss(x, x_rec, mask),
        "adversarial": adversarial_loss(edit_realness, 1.0),
        "boundary": boundary_loss(edit_logits),
        "diversity": diversity_loss(edit, z, perm, mask=mask),
        "class": edit_class_loss(edit_logits, target),
    }
    loss = sum(w[k] * terms[k] for k in GENERATOR_WEIGHTS)
    return loss, {k: v.detach() for k, v in terms.items()}


def discriminator_loss(
    real_realness: torch.Tensor,
    real_logits: torch.Tensor,
    y: torch.Tensor,
    fake_realness: torch.Tensor | None = None,
    fake_logits: torch.Tensor | None = None,
    target: torch.Tensor | None = None,
    *,
    fake_label: float = 0.15,
    fake_class_weight: float = 1.0,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The discriminator's objective.

    Without the edits (``fake_realness`` None): the emotion CE on real samples. With them
    (the adversarial steps, every ``n``-th batch in the original):
    ``0.5 * (0.5 * BCE(D_rf(x), 1) + 0.5 * CE(D_cls(x), y))
    + 0.5 * (0.5 * BCE(D_rf(G(x, t)), fake_label)
    + 0.5 * fake_class_weight * CE(D_cls(G(x, t)), t))``.

    Parameters
    ----------
    real_realness, real_logits : Tensor of shape (batch,) and (batch, n_classes)
        The discriminator's outputs on real samples.
    y : Tensor of shape (batch,)
        Their classes.
    fake_realness, fake_logits : Tensor, default=None
        Its outputs on the (detached) edits; both or neither.
    target : Tensor of shape (batch,), default=None
        The edits' target classes.
    fake_label : float, default=0.15
        Label of edits in the real/fake BCE: 0 is "fake"; the original's one-sided smoothing
        puts it at 0.15 (written 0.85 there, where 1 means fake).
    fake_class_weight : float, default=1.0
        Factor of the emotion CE on edits (1 in the original, which trains the emotion head
        to recognise an edit's target class; 0 keeps the head a classifier of real samples).

    Returns
    -------
    loss : Tensor (scalar)
    terms : dict of str to Tensor
        ``"real_class"`` always; ``"real_adv"``, ``"fake_adv"``, ``"fake_class"`` on
        adversarial steps (unweighted, detached).

    Examples
    --------
    >>> import torch
    >>> from skemotion.models.escgan import discriminator_loss
    >>> loss, terms = discriminator_loss(torch.zeros(2), torch.zeros(2, 2), torch.tensor([0, 1]))
    >>> round(float(loss), 4)  # log(2)
    0.6931
    """
    real_class = F.cross_entropy(real_logits.float(), y)
    if fake_realness is None:
        if fake_logits is not None or target is not None:
            raise ValueError(
                "discriminator_loss: fake_realness, fake_logits and target go together."
            )
        return real_class, {"real_class": real_class.detach()}
    if fake_logits is None or target is None:
        raise ValueError("discriminator_loss: fake_realness, fake_logits and target go together.")
    terms = {
        "real_adv": adversarial_loss(real_realness, 1.0),
        "real_class": real_class,
        "fake_adv": adversarial_loss(fake_realness, fake_label),
        "fake_class": F.cross_entropy(fake_logits.float(), target),
    }
    loss = 0.25 * (
        terms["real_adv"]
        + terms["real_class"]
        + terms["fake_adv"]
        + fake_class_weight * terms["fake_class"]
    )
    return loss, {k: v.detach() for k, v in terms.items()}
