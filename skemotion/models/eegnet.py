"""EEGNet from Lawhern et al (2018) [Lawhern2018]_."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["EEGNet"]


class _MaxNorm:
    """Mixin: while training, renormalise each output unit's weights to an L2 norm <= max_norm."""

    def __init__(self, *args, max_norm: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_norm = max_norm

    def forward(self, x):
        if self.training:
            with torch.no_grad():
                self.weight.data = torch.renorm(self.weight.data, p=2, dim=0, maxnorm=self.max_norm)
        return super().forward(x)


class _MaxNormConv2d(_MaxNorm, nn.Conv2d):
    pass


class _MaxNormLinear(_MaxNorm, nn.Linear):
    pass


def _same_pad(kernel: int) -> nn.ZeroPad2d:
    """Zero padding on the time axis giving 'same' output length for any kernel length."""
    return nn.ZeroPad2d(((kernel - 1) // 2, kernel // 2, 0, 0))


class EEGNet(nn.Module):
    """EEGNet from Lawhern et al (2018) [Lawhern2018]_.

    A compact CNN: a temporal convolution (frequency filters), a depthwise spatial convolution
    per filter (spatial filters, max-norm 1), a separable convolution, and a linear classifier
    (max-norm 0.25). EEGNet-8,2 is ``F1=8, D=2, F2=16``.

    The pooling sizes adapt to short windows (``min(4, T)`` then ``min(8, T')``) so the network
    accepts any window length down to one sample instead of pooling to zero length; for
    ``n_times >= 32`` the architecture is exactly the paper's.

    Parameters
    ----------
    n_channels : int
        Number of EEG channels C.
    n_times : int
        Window length T in samples.
    n_classes : int
        Number of classes.
    F1 : int
        Number of temporal filters.
    D : int
        Depth multiplier (spatial filters per temporal filter).
    F2 : int
        Number of pointwise filters (``F1 * D`` in the paper).
    kernel_length : int
        Length of the temporal kernel (half the sampling rate in the paper: 64 at 128 Hz).
    dropout : float
        Dropout rate (0.5 within-subject, 0.25 cross-subject in the paper).

    References
    ----------
    .. [Lawhern2018] Lawhern, V. J., Solon, A. J., Waytowich, N. R., Gordon, S. M., Hung, C. P.,
       & Lance, B. J. (2018). EEGNet: a compact convolutional neural network for EEG-based
       brain-computer interfaces. Journal of Neural Engineering, 15(5), 056013.

    Examples
    --------
    >>> import torch
    >>> from skemotion.models import EEGNet
    >>> net = EEGNet(n_channels=14, n_times=256, n_classes=3)
    >>> net(torch.zeros(2, 14, 256)).shape
    torch.Size([2, 3])
    >>> sum(p.numel() for p in net.parameters() if p.requires_grad)
    1715
    """

    #: the sub-module whose input is the window's embedding (read by subject-adversarial
    #: training, :class:`skemotion._training.SubjectAdversary`)
    embedding_module = "classifier"

    def __init__(
        self,
        n_channels: int,
        n_times: int,
        n_classes: int,
        *,
        F1: int = 8,
        D: int = 2,
        F2: int = 16,
        kernel_length: int = 64,
        dropout: float = 0.25,
    ):
        super().__init__()
        if n_channels < 1 or n_times < 1 or n_classes < 2:
            raise ValueError(
                "EEGNet needs n_channels >= 1, n_times >= 1 and n_classes >= 2; got "
                f"n_channels={n_channels}, n_times={n_times}, n_classes={n_classes}."
            )
        self.n_channels, self.n_times, self.n_classes = n_channels, n_times, n_classes
        pool1 = min(4, n_times)
        t1 = n_times // pool1
        pool2 = min(8, t1)
        t2 = t1 // pool2
        self.temporal = nn.Sequential(
            # (B, 1, C, T) -> (B, F1, C, T)
            _same_pad(kernel_length),
            nn.Conv2d(1, F1, (1, kernel_length), bias=False),
            nn.BatchNorm2d(F1),
        )
        self.spatial = nn.Sequential(
            # (B, F1, C, T) -> (B, F1*D, 1, T)
            _MaxNormConv2d(F1, F1 * D, (n_channels, 1), groups=F1, bias=False, max_norm=1.0),
            nn.BatchNorm2d(F1 * D),
            nn.ELU(),
            nn.AvgPool2d((1, pool1)),  # (B, F1*D, 1, T // 4)
            nn.Dropout(dropout),
        )
        self.separable = nn.Sequential(
            _same_pad(16),
            nn.Conv2d(F1 * D, F1 * D, (1, 16), groups=F1 * D, bias=False),
            nn.Conv2d(F1 * D, F2, 1, bias=False),  # (B, F2, 1, T // 4)
            nn.BatchNorm2d(F2),
            nn.ELU(),
            nn.AvgPool2d((1, pool2)),  # (B, F2, 1, T // 32)
            nn.Dropout(dropout),
        )
        self.classifier = _MaxNormLinear(F2 * t2, n_classes, max_norm=0.25)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a batch of windows to class logits.

        Parameters
        ----------
        x : tensor of shape (batch_size, n_chans, n_times)
            EEG windows.

        Returns
        -------
        tensor of shape (batch_size, n_classes)
            Logits (no softmax).
        """
        x = x.unsqueeze(1)  # (B, 1, C, T)
        x = self.temporal(x)
        x = self.spatial(x)
        x = self.separable(x)
        return self.classifier(x.flatten(1))
