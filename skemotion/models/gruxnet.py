"""GRU-XNet: per-channel CNNs on STFT images, a BiGRU and multi-head self-attention.

A modification of CBSAtt (Zhou et al. 2025) [Zhou2025]_ that replaces its BiLSTM by a BiGRU and
is trained on several EEG datasets at once.
"""

from __future__ import annotations

import numbers

import torch
from torch import nn
from torch.nn import functional as F

from ._renamed import check_required, renamed_argument

__all__ = ["GRUXNet"]


class _SelfAttention(nn.Module):
    """Multi-head self-attention with separate Q, K, V and output projections.

    ``LayerNorm(x + Dropout(W_o(Attention(W_q x, W_k x, W_v x))))``, with dropout also on the
    attention weights.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float):
        super().__init__()
        self.n_heads = n_heads
        self.dropout = dropout
        self.q = nn.Linear(d_model, d_model)
        self.k = nn.Linear(d_model, d_model)
        self.v = nn.Linear(d_model, d_model)
        self.o = nn.Linear(d_model, d_model)
        self.out_dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, d = x.shape  # (batch, steps, d_model)
        h = self.n_heads

        def split(t):  # (B, S, D) -> (B, heads, S, D / heads)
            return t.view(b, s, h, d // h).transpose(1, 2)

        att = F.scaled_dot_product_attention(
            split(self.q(x)),
            split(self.k(x)),
            split(self.v(x)),
            dropout_p=self.dropout if self.training else 0.0,
        )  # (B, heads, S, D / heads)
        att = att.transpose(1, 2).reshape(b, s, d)
        return self.norm(x + self.out_dropout(self.o(att)))


class GRUXNet(nn.Module):
    """GRU-XNet, CBSAtt (Zhou et al. 2025) [Zhou2025]_ with a BiGRU, "dynamic" variant.

    Input: one STFT magnitude image per EEG channel, ``(batch_size, n_channels, n_freqs,
    n_frames)`` (129 x 126 in the original, see
    :func:`skemotion.features.functional.stft_spectrogram` with ``output_shape``).

    1. Channel-independent CNN: every channel has its own CNN (own weights) of three blocks
       ``Conv 3x3 (pad 1) -> BatchNorm -> ReLU -> MaxPool 2x2`` with ``filters`` (32, 64, 128)
       filters, then dropout. The C CNNs run as one grouped convolution (``groups=n_channels``):
       channel c owns the output maps ``c * filters[i] ... (c + 1) * filters[i] - 1`` of every
       layer, and each BatchNorm normalises every (channel, filter) map on its own, so the
       features of channel c depend on channel c's image only.
    2. "Dynamic" sequence: the frame axis stays the sequence. After the three poolings a channel
       gives ``(filters[-1], n_freqs // 8, n_frames // 8)``; every step concatenates, over the
       channels, the ``filters[-1] * n_freqs // 8`` values of that step:
       ``(batch_size, n_frames // 8, n_channels * filters[-1] * n_freqs // 8)``.
    3. Bidirectional GRU, ``gru_layers`` layers of ``gru_hidden`` units, dropout between layers.
    4. Multi-head self-attention (``n_heads`` heads, separate Q/K/V/O projections, dropout on
       the weights and the output), residual connection and LayerNorm; mean over the steps.
    5. Head: ``Linear(2 * gru_hidden, 256) -> ReLU -> Dropout -> Linear(256, 128) -> ReLU ->
       Dropout -> Linear(128, n_classes)``.

    **Canonical configuration and cost.** ``GRUXNet(62, 129, 126, 2)`` (the original's 62
    channels, 129 x 126 grid, 2 classes, ``feature_pooling=None``) has **104,049,922**
    trainable parameters (93,120 per channel CNN; 97.6 M in the first GRU layer's input
    weights, whose input has 62 * 128 * 16 = 126,976 features per step); 54,070,402 with 32
    channels, 24,082,690 with 14.
    ``feature_pooling=k`` averages each CNN's frequency axis down to ``k`` bins before the GRU
    (input ``n_channels * filters[-1] * k``): with ``k=1`` the 62-channel network has 12.6 M
    parameters (6.5 M in the GRU), every channel CNN unchanged; the CNN's compute is the
    same in both, only the GRU shrinks.

    Parameters
    ----------
    n_channels : int
        Number of EEG channels C (missing channels of a dataset are zero images).
    n_freqs : int
        Frequency bins of the input images (>= 8).
    n_frames : int
        Frames of the input images (>= 8); ``n_frames // 8`` is the GRU sequence length.
    n_classes : int
        Number of classes.
    filters : tuple of 3 int, default=(32, 64, 128)
        Filters of the three convolution blocks of every channel CNN.
    gru_hidden : int, default=128
        Hidden units per direction of the BiGRU (the attention and head see twice this).
    gru_layers : int, default=2
        Stacked BiGRU layers.
    n_heads : int, default=4
        Attention heads; must divide ``2 * gru_hidden``.
    head_units : tuple of int, default=(256, 128)
        Hidden layers of the classification head.
    dropout : float, default=0.5
        Dropout after the CNNs, between GRU layers, in the attention and in the head.
    n_chans : int, deprecated
        Old name of ``n_channels`` (removed in 0.2).
    feature_pooling : int or None, default=None
        None keeps the ``n_freqs // 8`` frequency bins of every CNN output (the original);
        an int k averages them down to k bins (adaptive average pooling) before the GRU.

    Attributes
    ----------
    n_steps : int
        GRU sequence length ``n_frames // 8``.
    n_gru_inputs : int
        Features per GRU step.

    References
    ----------
    .. [Zhou2025] Zhou, ... (2025). CBSAtt: a CNN-BiLSTM network with multi-head
       self-attention for EEG emotion recognition. Signal, Image and Video Processing,
       19(14). doi:10.1007/s11760-025-04708-1. GRU-XNet public code:
       github.com/Overproness/GRU-XNet_EEG_Emotion_Recognition.

    Examples
    --------
    >>> import torch
    >>> from skemotion.models import GRUXNet
    >>> net = GRUXNet(4, 16, 24, 2, filters=(4, 4, 8), gru_hidden=8, n_heads=2,
    ...               head_units=(8,), feature_pooling=1)
    >>> net(torch.randn(3, 4, 16, 24)).shape
    torch.Size([3, 2])
    >>> with torch.device("meta"):
    ...     canonical = GRUXNet(62, 129, 126, 2)
    >>> sum(p.numel() for p in canonical.parameters())
    104049922
    """

    #: the sub-module whose input is the window's embedding (read by subject-adversarial
    #: training, :class:`skemotion._training.SubjectAdversary`)
    embedding_module = "head"

    def __init__(
        self,
        n_channels: int | None = None,
        n_freqs: int | None = None,
        n_frames: int | None = None,
        n_classes: int | None = None,
        *,
        n_chans: int | None = None,
        filters: tuple[int, int, int] = (32, 64, 128),
        gru_hidden: int = 128,
        gru_layers: int = 2,
        n_heads: int = 4,
        head_units: tuple[int, ...] = (256, 128),
        dropout: float = 0.5,
        feature_pooling: int | None = None,
    ):
        super().__init__()
        n_channels = renamed_argument("GRUXNet", "n_chans", "n_channels", n_chans, n_channels)
        check_required(
            "GRUXNet", n_channels=n_channels, n_freqs=n_freqs, n_frames=n_frames,
            n_classes=n_classes,
        )  # fmt: skip
        _check_args(
            n_channels, n_freqs, n_frames, n_classes, filters, gru_hidden, gru_layers, n_heads,
            head_units, dropout, feature_pooling,
        )  # fmt: skip
        self.n_channels, self.n_freqs, self.n_frames = n_channels, n_freqs, n_frames
        self.n_classes = n_classes
        self.filters = tuple(int(f) for f in filters)
        self.feature_pooling = feature_pooling
        blocks = []
        c_in = 1
        for f in self.filters:
            blocks += [
                # (B, C * c_in, H, W) -> (B, C * f, H, W): channel c's maps only see channel c's
                nn.Conv2d(n_channels * c_in, n_channels * f, 3, padding=1, groups=n_channels),
                nn.BatchNorm2d(n_channels * f),  # one (channel, filter) map per BN channel
                nn.ReLU(),
                nn.MaxPool2d(2),  # (B, C * f, H // 2, W // 2)
            ]
            c_in = f
        self.cnn = nn.Sequential(*blocks)
        self.cnn_dropout = nn.Dropout(dropout)
        self.n_steps = n_frames // 8
        n_bins = n_freqs // 8 if feature_pooling is None else int(feature_pooling)
        self.n_gru_inputs = n_channels * self.filters[-1] * n_bins
        self.gru = nn.GRU(
            self.n_gru_inputs,
            gru_hidden,
            num_layers=gru_layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if gru_layers > 1 else 0.0,
        )
        self.attention = _SelfAttention(2 * gru_hidden, n_heads, dropout)
        head = []
        width = 2 * gru_hidden
        for units in head_units:
            head += [nn.Linear(width, units), nn.ReLU(), nn.Dropout(dropout)]
            width = units
        head.append(nn.Linear(width, n_classes))
        self.head = nn.Sequential(*head)

    def _cnn(self, x: torch.Tensor) -> torch.Tensor:
        # the grouped convolutions run faster in channels-last layout (a CPU training step: 1.4x)
        return self.cnn(x.contiguous(memory_format=torch.channels_last))

    def channel_features(self, x: torch.Tensor) -> torch.Tensor:
        """Per-channel CNN features (before the frequency pooling and the dropout).

        Parameters
        ----------
        x : Tensor of shape (batch_size, n_channels, n_freqs, n_frames)

        Returns
        -------
        Tensor of shape (batch_size, n_channels, filters[-1], n_freqs // 8, n_frames // 8)
        """
        b = x.shape[0]
        z = self._cnn(x)  # (B, C * F3, n_freqs // 8, n_frames // 8)
        return z.view(b, self.n_channels, self.filters[-1], *z.shape[-2:])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a batch of per-channel spectrogram images to class logits.

        Parameters
        ----------
        x : tensor of shape (batch_size, n_channels, n_freqs, n_frames)
            Spectrogram images (a missing channel is an all-zero image).

        Returns
        -------
        tensor of shape (batch_size, n_classes)
            Logits (no softmax).
        """
        b = x.shape[0]
        z = self._cnn(x)  # (B, C * F3, n_freqs // 8, S)
        if self.feature_pooling is not None:
            z = F.adaptive_avg_pool2d(z, (self.feature_pooling, None))  # (B, C * F3, k, S)
        z = self.cnn_dropout(z)
        # dynamic variant: steps along the frame axis, features ordered (channel, filter, bin)
        z = z.permute(0, 3, 1, 2).reshape(b, self.n_steps, self.n_gru_inputs)  # (B, S, D)
        seq, _ = self.gru(z)  # (B, S, 2 * gru_hidden)
        seq = self.attention(seq)
        return self.head(seq.mean(dim=1))  # (B, n_classes)


def _is_int(v, low):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= low


def _check_args(
    n_channels, n_freqs, n_frames, n_classes, filters, gru_hidden, gru_layers, n_heads, head_units,
    dropout, feature_pooling,
):  # fmt: skip
    checks = [
        ("n_channels", n_channels, _is_int(n_channels, 1), "an integer >= 1"),
        ("n_freqs", n_freqs, _is_int(n_freqs, 8), "an integer >= 8 (three 2x2 poolings)"),
        ("n_frames", n_frames, _is_int(n_frames, 8), "an integer >= 8 (three 2x2 poolings)"),
        ("n_classes", n_classes, _is_int(n_classes, 2), "an integer >= 2"),
        (
            "filters",
            filters,
            isinstance(filters, tuple | list)
            and len(filters) == 3
            and all(_is_int(f, 1) for f in filters),
            "three integers >= 1",
        ),
        ("gru_hidden", gru_hidden, _is_int(gru_hidden, 1), "an integer >= 1"),
        ("gru_layers", gru_layers, _is_int(gru_layers, 1), "an integer >= 1"),
        (
            "n_heads",
            n_heads,
            _is_int(n_heads, 1) and _is_int(gru_hidden, 1) and (2 * gru_hidden) % n_heads == 0,
            f"an integer >= 1 dividing 2 * gru_hidden = {2 * gru_hidden}"
            if _is_int(gru_hidden, 1)
            else "an integer >= 1",
        ),
        (
            "head_units",
            head_units,
            isinstance(head_units, tuple | list) and all(_is_int(u, 1) for u in head_units),
            "a tuple of integers >= 1",
        ),
        (
            "dropout",
            dropout,
            isinstance(dropout, numbers.Real)
            and not isinstance(dropout, bool)
            and 0 <= dropout < 1,
            "a number in [0, 1)",
        ),
        (
            "feature_pooling",
            feature_pooling,
            feature_pooling is None or _is_int(feature_pooling, 1),
            "None or an integer >= 1",
        ),
    ]
    for name, value, ok, what in checks:
        if not ok:
            raise ValueError(f"GRUXNet: argument {name} must be {what}; got {value!r}.")
    if feature_pooling is not None and feature_pooling > n_freqs // 8:
        raise ValueError(
            f"GRUXNet: argument feature_pooling must be at most n_freqs // 8 = {n_freqs // 8} "
            f"(the CNN output's frequency bins); got {feature_pooling!r}."
        )
