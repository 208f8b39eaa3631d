"""SSL-ECG network: 1-D CNN encoder and seven binary transformation-recognition heads."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ._renamed import renamed_argument

__all__ = ["SSLECGClassifierNet", "SSLECGEncoderNet", "SSLECGNet"]


class _SameConv1d(nn.Conv1d):
    """Conv1d with TensorFlow's 'same' padding: (k - 1) // 2 zeros on the left, k // 2 on the
    right (explicit, so that even kernels need no warning-raising internal copy)."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int):
        super().__init__(in_ch, out_ch, kernel_size, padding=0, bias=True)
        self._pad = ((kernel_size - 1) // 2, kernel_size // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self._pad))


def _conv(in_ch: int, out_ch: int, kernel_size: int) -> nn.Conv1d:
    return _SameConv1d(in_ch, out_ch, kernel_size)


class SSLECGEncoderNet(nn.Module):
    """Convolutional encoder of SSL-ECG: ``(batch, n_channels, n_times) -> (batch, n_filters[-1])``.

    Three blocks of two 'same' convolutions with LeakyReLU; max-pooling (8, stride 2) after the
    first two blocks and a global max pool over time after the third, so that any window of at
    least :attr:`min_times` samples is accepted.

    Parameters
    ----------
    n_channels : int, default=1
        Input channels (one ECG lead in the original).
    n_filters : sequence of 3 int, default=(32, 64, 128)
        Filters of the three blocks; the last one is the embedding size.
    kernel_sizes : sequence of 3 int, default=(32, 16, 8)
        Kernel sizes of the three blocks.
    pool_size, pool_stride : int, default=8, 2
        Max-pooling after blocks 1 and 2.
    negative_slope : float, default=0.2
        LeakyReLU slope.

    Examples
    --------
    >>> import torch
    >>> from skemotion.models import SSLECGEncoderNet
    >>> enc = SSLECGEncoderNet()
    >>> enc(torch.zeros(2, 1, 2560)).shape, enc.min_times
    (torch.Size([2, 128]), 22)
    """

    def __init__(
        self,
        n_channels: int = 1,
        n_filters: Sequence[int] = (32, 64, 128),
        kernel_sizes: Sequence[int] = (32, 16, 8),
        pool_size: int = 8,
        pool_stride: int = 2,
        negative_slope: float = 0.2,
    ):
        super().__init__()
        if len(n_filters) != 3 or len(kernel_sizes) != 3:
            raise ValueError(
                "SSLECGEncoderNet: n_filters and kernel_sizes need 3 values each; got "
                f"{tuple(n_filters)} and {tuple(kernel_sizes)}."
            )
        self.n_channels = n_channels
        self.n_outputs = int(n_filters[-1])
        self.pool_size = pool_size
        self.pool_stride = pool_stride
        blocks = []
        in_ch = n_channels
        for i, (f, k) in enumerate(zip(n_filters, kernel_sizes)):
            layers = [
                _conv(in_ch, f, k),
                nn.LeakyReLU(negative_slope),
                _conv(f, f, k),
                nn.LeakyReLU(negative_slope),
            ]
            if i < 2:
                layers.append(nn.MaxPool1d(pool_size, stride=pool_stride))
            blocks.append(nn.Sequential(*layers))
            in_ch = f
        self.block1, self.block2, self.block3 = blocks

    @property
    def min_times(self) -> int:
        """Shortest input accepted: both max-pools must produce at least one sample."""
        t = 1
        for _ in range(2):
            t = (t - 1) * self.pool_stride + self.pool_size
        return t

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed a batch.

        Parameters
        ----------
        x : tensor of shape (batch_size, n_channels, n_times)

        Returns
        -------
        tensor of shape (batch_size, n_filters[-1])
        """
        x = self.block1(x)  # (batch, 32, (n_times - 8) // 2 + 1): 32 x 1277 for 2560
        x = self.block2(x)  # (batch, 64, ...): 64 x 635 for 2560
        x = self.block3(x)  # (batch, 128, 635)
        return x.amax(dim=-1)  # global max pool -> (batch, 128)


class SSLECGNet(nn.Module):
    """SSL-ECG from Sarkar and Etemad (2020) [Sarkar2020]_.

    A 1-D CNN encoder (:class:`SSLECGEncoderNet`, 128-d embedding) shared by seven binary heads
    that recognise which version of a window they see: the original or one of six
    transformations (noise, scaling, negation, time reversal, segment permutation, time
    warping). After self-supervised pre-training the heads are discarded and the frozen encoder
    embeds ECG windows for emotion recognition.

    The canonical configuration (the defaults, one lead, 10 s windows at 256 Hz = 2560
    samples) has 329,152 encoder and 561,223 trainable parameters in all.

    Parameters
    ----------
    n_channels : int, default=1
        Input channels.
    n_tasks : int, default=7
        Number of binary heads (original + six transformations).
    n_filters : sequence of 3 int, default=(32, 64, 128)
        Encoder filters per block; ``n_filters[-1]`` is the embedding size.
    kernel_sizes : sequence of 3 int, default=(32, 16, 8)
        Encoder kernel sizes per block.
    head_units : int, default=128
        Width of the two hidden dense layers of every head.
    dropout : float, default=0.6
        Dropout after each hidden dense layer of the heads.
    negative_slope : float, default=0.2
        LeakyReLU slope, in the encoder and the heads.
    n_chans, drop_prob : deprecated
        Old names of ``n_channels`` and ``dropout`` (removed in 0.2).

    Notes
    -----
    No batch normalisation, all layers with bias. Layer by layer for an input of
    ``(batch, 1, 2560)``: Conv1d(k=32, 32) x2, MaxPool(8, 2) -> 32 x 1277; Conv1d(k=16, 64) x2,
    MaxPool(8, 2) -> 64 x 635; Conv1d(k=8, 128) x2, global max pool -> 128. Each head: Dense
    128, LeakyReLU, Dropout 0.6, Dense 128, LeakyReLU, Dropout 0.6, Dense 1 (33,153
    parameters). The global max pool lets any window of at least ``encoder.min_times`` (22)
    samples through.

    References
    ----------
    .. [Sarkar2020] Sarkar, P., & Etemad, A. (2020). Self-supervised ECG representation
       learning for emotion recognition. IEEE Transactions on Affective Computing.
       doi:10.1109/TAFFC.2020.3014842

    Examples
    --------
    >>> import torch
    >>> from skemotion.models import SSLECGNet
    >>> net = SSLECGNet()
    >>> x = torch.zeros(2, 1, 2560)
    >>> net(x).shape, net.embed(x).shape
    (torch.Size([2, 7]), torch.Size([2, 128]))
    >>> sum(p.numel() for p in net.parameters() if p.requires_grad)
    561223
    """

    def __init__(
        self,
        n_channels: int | None = None,
        n_tasks: int = 7,
        n_filters: Sequence[int] = (32, 64, 128),
        kernel_sizes: Sequence[int] = (32, 16, 8),
        head_units: int = 128,
        dropout: float | None = None,
        negative_slope: float = 0.2,
        *,
        n_chans: int | None = None,
        drop_prob: float | None = None,
    ):
        super().__init__()
        n_channels = renamed_argument("SSLECGNet", "n_chans", "n_channels", n_chans, n_channels)
        dropout = renamed_argument("SSLECGNet", "drop_prob", "dropout", drop_prob, dropout)
        n_channels = 1 if n_channels is None else n_channels
        dropout = 0.6 if dropout is None else dropout
        self.n_channels = n_channels
        self.n_tasks = n_tasks
        self.encoder = SSLECGEncoderNet(
            n_channels, n_filters, kernel_sizes, negative_slope=negative_slope
        )
        emb = self.encoder.n_outputs
        self.heads = nn.ModuleList(
            nn.Sequential(
                nn.Linear(emb, head_units),
                nn.LeakyReLU(negative_slope),
                nn.Dropout(dropout),
                nn.Linear(head_units, head_units),
                nn.LeakyReLU(negative_slope),
                nn.Dropout(dropout),
                nn.Linear(head_units, 1),
            )
            for _ in range(n_tasks)
        )

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Encoder output (the embedding used after pre-training).

        Parameters
        ----------
        x : tensor of shape (batch_size, n_channels, n_times)
            ECG windows.

        Returns
        -------
        tensor of shape (batch_size, n_filters[-1])
        """
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the binary heads.

        Parameters
        ----------
        x : tensor of shape (batch_size, n_channels, n_times)

        Returns
        -------
        tensor of shape (batch_size, n_tasks)
            Logit of "this window is version k" for every head k.
        """
        z = self.encoder(x)  # (batch, 128)
        return torch.cat([head(z) for head in self.heads], dim=1)  # (batch, n_tasks)


class SSLECGClassifierNet(nn.Module):
    """SSL-ECG's encoder with a classification head: ``(batch, n_channels, n_times)`` to logits.

    The downstream network of Sarkar and Etemad (2020) (see :class:`SSLECGNet`): the 128-d
    embedding of the (pre-trained) :class:`SSLECGEncoderNet`, then dense layers of
    ``head_units`` units (LeakyReLU, dropout) and a linear output layer. The paper trains the
    head on the frozen encoder (``freeze_encoder=True``); with ``freeze_encoder=False`` the
    encoder is fine-tuned with the head, end to end.

    Parameters
    ----------
    encoder : SSLECGEncoderNet
        The encoder (its weights, typically pre-trained, are used as they are: pass a copy to
        keep the original).
    n_classes : int
        Number of classes.
    head_units : sequence of int, default=(512, 512)
        Hidden dense layers of the head (the paper's downstream MLP); ``()`` gives a linear
        classifier on the embedding.
    dropout : float, default=0.5
        Dropout after each hidden layer of the head.
    negative_slope : float, default=0.2
        LeakyReLU slope of the head.
    freeze_encoder : bool, default=False
        Freeze the encoder's weights (``requires_grad=False``): only the head is trained.

    Examples
    --------
    >>> import torch
    >>> from skemotion.models import SSLECGClassifierNet, SSLECGEncoderNet
    >>> net = SSLECGClassifierNet(SSLECGEncoderNet(), 4, freeze_encoder=True)
    >>> net(torch.zeros(2, 1, 2560)).shape
    torch.Size([2, 4])
    >>> sum(p.numel() for p in net.parameters() if p.requires_grad)  # the head only
    330756
    """

    #: the sub-module whose input is the window's embedding (read by subject-adversarial
    #: training, :class:`skemotion._training.SubjectAdversary`)
    embedding_module = "head"

    def __init__(
        self,
        encoder: SSLECGEncoderNet,
        n_classes: int,
        head_units: Sequence[int] = (512, 512),
        dropout: float = 0.5,
        negative_slope: float = 0.2,
        freeze_encoder: bool = False,
    ):
        super().__init__()
        self.encoder = encoder
        self.freeze_encoder = bool(freeze_encoder)
        layers, width = [], encoder.n_outputs
        for units in head_units:
            layers += [nn.Linear(width, units), nn.LeakyReLU(negative_slope), nn.Dropout(dropout)]
            width = units
        layers.append(nn.Linear(width, n_classes))
        self.head = nn.Sequential(*layers)
        if self.freeze_encoder:
            for p in self.encoder.parameters():
                p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of a batch.

        Parameters
        ----------
        x : tensor of shape (batch_size, n_channels, n_times)

        Returns
        -------
        tensor of shape (batch_size, n_classes)
        """
        return self.head(self.encoder(x))
