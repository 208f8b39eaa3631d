"""PickChannels: keep the channels of X of given types or names (one modality of a recording)."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from .._montages import MONTAGES
from .._validation import (
    StrOptions,
    _first_difference,
    _montage_names,
    _source,
    check_is_fitted,
)
from ._backend import is_torch
from ._base import SignalTransformerMixin, like_input

__all__ = ["PickChannels"]

_NAME = "PickChannels"

#: MNE channel types, to hint at ``types=`` when they are passed as ``picks``
_COMMON_TYPES = frozenset(
    {"eeg", "ecg", "emg", "eog", "gsr", "bio", "misc", "resp", "temperature", "stim", "seeg"}
)


def _carried_types(X) -> list[str] | None:
    """The channel types that X carries: those of ``mne.Epochs`` (stimulus channels left out,
    as the windows are read) or the ``ch_types`` of a skemotion dataset; None for an array."""
    source = _source(X)
    if source == "mne.Epochs":
        return [str(t) for t in X.get_channel_types() if t != "stim"]
    if source == "dataset" and X.get("ch_types") is not None:
        return [str(t) for t in X["ch_types"]]
    return None


def _as_items(value) -> list:
    """A scalar or a list-like parameter as a list of Python scalars."""
    if isinstance(value, str | Integral):
        return [value]
    if isinstance(value, np.ndarray):
        return value.ravel().tolist()
    return list(value)


class PickChannels(SignalTransformerMixin):
    """Keep the channels of given types or names: one modality of a multimodal X.

    The windows of a multimodal recording hold every sensor in one array (EEG next to ECG,
    EOG, EMG, GSR ...). ``PickChannels`` selects the channels of one modality at the head of
    a per-modality pipeline, so that late fusion (``StackingClassifier`` or
    ``VotingClassifier`` of per-modality pipelines) and early fusion (``FeatureUnion`` of
    per-modality feature pipelines) are plain scikit-learn. The vocabulary is MNE's
    (``mne.pick_types``, ``Epochs.pick``): channel types such as ``"eeg"``, ``"ecg"``,
    ``"emg"``, ``"eog"``, ``"gsr"``, ``"bio"``, ``"resp"``, ``"temperature"``, ``"misc"``.

    Parameters
    ----------
    picks : str, int or list of str or int, default=None
        The channels to keep, in the order given: channel names (which need ``ch_names``, or an
        X that carries them) or integer indices into X's channel axis. Exactly one of
        ``picks`` and ``types`` must be given.
    types : str or list of str, default=None
        The channel types to keep (e.g. ``"eeg"`` or ``("ecg", "emg")``), in the order of X's
        channels. Needs ``ch_types``, or an X that carries them (``mne.Epochs``, or a skemotion
        dataset with ``ch_types``). Every type must match at least one channel.
    ch_names : list of str or {"seed62", "deap32", "emotiv14"}, default=None
        Names of X's channels, in the order of its channel axis, or the name of a built-in
        montage. Used to pick by name and to name the output features. When X is
        ``mne.Epochs`` or a skemotion dataset, its own names are used and must equal
        ``ch_names`` when both are given.
    ch_types : list of str, default=None
        MNE channel type of each of X's channels (a dataset's ``ch_types``). When X carries
        its types, they are used and must equal ``ch_types`` when both are given.

    Attributes
    ----------
    picks_ : ndarray of shape (n_channels_out,), dtype intp
        Indices of the kept channels in X's channel axis, in output order.
    ch_names_out_ : list of str or None
        Names of the kept channels; None when the names of X's channels are unknown.
    ch_types_out_ : list of str or None
        Types of the kept channels; None when the types of X's channels are unknown.
    n_features_in_ : int
        ``X.shape[1]`` as passed to fit (channels of a 3-D X, time samples of a 2-D X).
    n_channels_ : int
        Number of channels seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names when a 2-D X was a DataFrame.

    See Also
    --------
    skemotion.datasets.from_mne : A dataset with ``ch_names`` and ``ch_types`` from MNE epochs.

    Notes
    -----
    ``transform`` returns ``X[:, picks_]``: a new array (never a view into X) of X's float
    dtype (float32 and float64 kept, other dtypes converted to float32, as in the other
    transformers). A torch tensor gives a new tensor on its device. A 2-D X is single-channel
    windows: its one channel is kept (``picks=0``) and the output is 2-D. X may hold windows of
    any length at ``transform``; its number of channels must be that of ``fit`` and, when X is
    ``mne.Epochs`` or a dataset, its channel names and types those seen in fit.

    :meth:`get_feature_names_out` gives the names of the kept channels (``ch_names``, or those
    of the Epochs or dataset seen in fit, or ``input_features``; ``ch<i>`` for the indices of X
    when no name is known), which the next step of a pipeline prefixes to its features.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features import PickChannels
    >>> X = np.arange(24, dtype=np.float32).reshape(2, 4, 3)  # 2 windows, 4 channels
    >>> ch_names = ["Fz", "Cz", "ECG", "hEOG"]
    >>> ch_types = ["eeg", "eeg", "ecg", "eog"]
    >>> ecg = PickChannels(types="ecg", ch_types=ch_types, ch_names=ch_names).fit(X)
    >>> ecg.picks_, ecg.ch_names_out_
    (array([2]), ['ECG'])
    >>> ecg.transform(X)
    array([[[ 6.,  7.,  8.]],
    <BLANKLINE>
           [[18., 19., 20.]]], dtype=float32)
    >>> PickChannels(["hEOG", "Fz"], ch_names=ch_names).fit(X).get_feature_names_out()
    array(['hEOG', 'Fz'], dtype=object)

    Late fusion of per-modality pipelines, in plain scikit-learn:

    >>> from sklearn.ensemble import StackingClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skemotion.features import DifferentialEntropy, HRVFeatures
    >>> eeg = make_pipeline(
    ...     PickChannels(types="eeg", ch_types=ch_types),
    ...     DifferentialEntropy(256.0, flatten=True),
    ...     LogisticRegression(),
    ... )
    >>> heart = make_pipeline(
    ...     PickChannels(types="ecg", ch_types=ch_types), HRVFeatures(256.0), LogisticRegression()
    ... )
    >>> fusion = StackingClassifier([("eeg", eeg), ("ecg", heart)])
    """

    _torch_ok = True

    _parameter_constraints: dict = {
        "picks": [None, str, Integral, list, tuple, np.ndarray],
        "types": [None, str, list, tuple, np.ndarray],
        "ch_names": [None, list, tuple, np.ndarray, StrOptions(set(MONTAGES))],
        "ch_types": [None, list, tuple, np.ndarray],
    }

    def __init__(self, picks=None, *, types=None, ch_names=None, ch_types=None):
        self.picks = picks
        self.types = types
        self.ch_names = ch_names
        self.ch_types = ch_types

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # ---------------------------------------------------------------------------- fit

    def fit(self, X, y=None):
        """Find the channels to keep.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times), \
mne.Epochs or skemotion dataset
            Signal windows; a 2-D X holds single-channel windows. Epochs and datasets carry
            their channel names and types.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._validate_params()
        selection = self._check_selection()
        carried = _carried_types(X)  # read before X becomes an array
        self._signal_meta_in = None  # a torch X carries nothing: no names of an earlier fit
        X3 = self._fit_checks(X)
        n = int(X3.shape[1])
        source = _source(X)
        names = self._channel_names(n, source)
        ch_types = self._channel_types(carried, n, source)
        if self.types is not None:
            picks = self._picks_by_type(selection, ch_types)
        elif isinstance(selection[0], str):
            picks = self._picks_by_name(selection, names, ch_types)
        else:
            picks = self._picks_by_index(selection, n)
        self.picks_ = np.asarray(picks, dtype=np.intp)
        self.ch_names_out_ = None if names is None else [names[i] for i in picks]
        self.ch_types_out_ = None if ch_types is None else [ch_types[i] for i in picks]
        self._ch_names_in = names
        self._ch_types_in = ch_types
        return self

    def _check_selection(self) -> list:
        """``picks`` or ``types`` (exactly one) as a non-empty list of the right scalars."""
        if (self.picks is None) == (self.types is None):
            if self.picks is None:
                raise ValueError(
                    f"{_NAME}: give the channels to keep, either picks= (channel names or "
                    "indices) or types= (channel types such as 'eeg'); got neither."
                )
            raise ValueError(
                f"{_NAME}: arguments picks and types are exclusive, give one of them; got "
                f"picks={self.picks!r} and types={self.types!r}."
            )
        arg = "picks" if self.types is None else "types"
        items = _as_items(getattr(self, arg))
        if not items:
            raise ValueError(f"{_NAME}: argument {arg} is empty; name at least one channel.")
        if arg == "types":
            bad = [t for t in items if not isinstance(t, str)]
            if bad:
                raise ValueError(
                    f"{_NAME}: argument types must hold channel types (str, e.g. 'eeg'); got "
                    f"{self.types!r}."
                )
            return items
        if any(isinstance(p, bool | np.bool_) for p in items):
            raise ValueError(
                f"{_NAME}: argument picks holds booleans; give channel names or indices (for "
                f"a mask: picks=np.flatnonzero(mask)); got {self.picks!r}."
            )
        if not (
            all(isinstance(p, str) for p in items) or all(isinstance(p, Integral) for p in items)
        ):
            raise ValueError(
                f"{_NAME}: argument picks must hold channel names (str) or channel indices "
                f"(int), not a mix or other values; got {self.picks!r}."
            )
        return [p if isinstance(p, str) else int(p) for p in items]

    def _channel_names(self, n: int, source) -> list[str] | None:
        """The names of X's channels: those X carries (checked against ``ch_names`` by the
        validation of X), else ``ch_names``; None when unknown."""
        meta = self._signal_meta_in
        if meta is not None and meta["ch_names"] is not None:
            names, where = list(meta["ch_names"]), f"the channel names of X ({source})"
        elif self.ch_names is None:
            return None
        else:
            names = _montage_names(self.ch_names)
            where = "argument ch_names"
            if len(names) != n:
                raise ValueError(
                    f"{_NAME}: argument ch_names holds {len(names)} names but X has {n} "
                    f"channels; give one name per channel of X."
                )
        repeated = sorted({c for c in names if names.count(c) > 1})
        if repeated:
            raise ValueError(
                f"{_NAME}: {where} hold {repeated} more than once; channel names must be unique."
            )
        return names

    def _channel_types(self, carried, n: int, source) -> list[str] | None:
        """The types of X's channels: those X carries, else ``ch_types``; None when unknown."""
        given = None
        if self.ch_types is not None:
            given = _as_items(self.ch_types)
            bad = [t for t in given if not isinstance(t, str)]
            if bad:
                raise ValueError(
                    f"{_NAME}: argument ch_types must hold MNE channel types (str, e.g. "
                    f"'eeg'); got {bad[:5]!r} among them."
                )
            if len(given) != n:
                raise ValueError(
                    f"{_NAME}: argument ch_types holds {len(given)} types but X has {n} "
                    "channels; give one type per channel of X."
                )
        if carried is None:
            return given
        if len(carried) != n:
            raise ValueError(
                f"{_NAME}: argument X ({source}) gives {len(carried)} channel types but its "
                f"windows have {n} channels."
            )
        if given is not None and given != carried:
            raise ValueError(
                f"{_NAME}: the channel types of X ({source}) differ from argument ch_types "
                f"({_first_difference(carried, given, 'types')}); drop ch_types or correct it."
            )
        return carried

    def _picks_by_type(self, wanted: list[str], ch_types) -> list[int]:
        if ch_types is None:
            raise ValueError(
                f"{_NAME}: argument types={self.types!r} needs the type of every channel of X: "
                "give ch_types= (one MNE channel type per channel, e.g. a dataset's "
                "ch_types), or fit on mne.Epochs or a skemotion dataset that carries them."
            )
        available = list(dict.fromkeys(ch_types))
        unknown = [t for t in dict.fromkeys(wanted) if t not in available]
        if unknown:
            raise ValueError(
                f"{_NAME}: argument types asks for {unknown}, which no channel of X has; the "
                f"channel types of X are {available}."
            )
        return [i for i, t in enumerate(ch_types) if t in wanted]

    def _picks_by_name(self, wanted: list[str], names, ch_types) -> list[int]:
        if names is None:
            raise ValueError(
                f"{_NAME}: argument picks holds channel names ({wanted[:5]}) but the names "
                "of X's channels are unknown: give ch_names= (one name per channel), fit on "
                "mne.Epochs or a skemotion dataset that carries them, or pick by index."
            )
        repeated = sorted({c for c in wanted if wanted.count(c) > 1})
        if repeated:
            raise ValueError(
                f"{_NAME}: argument picks names {repeated} more than once; name each channel once."
            )
        index = {c: i for i, c in enumerate(names)}
        unknown = [c for c in wanted if c not in index]
        if unknown:
            kinds = _COMMON_TYPES | set(ch_types or ())
            hint = [c for c in unknown if c in kinds]
            raise ValueError(
                f"{_NAME}: argument picks names {unknown}, which X does not have; the channels "
                f"of X are {names}" + (f" (to pick by type, use types={hint!r})." if hint else ".")
            )
        return [index[c] for c in wanted]

    def _picks_by_index(self, wanted: list[int], n: int) -> list[int]:
        bad = [i for i in wanted if not 0 <= i < n]
        if bad:
            raise ValueError(
                f"{_NAME}: argument picks holds indices {bad} out of range for X's {n} "
                f"channels (0 to {n - 1})."
            )
        repeated = sorted({i for i in wanted if wanted.count(i) > 1})
        if repeated:
            raise ValueError(
                f"{_NAME}: argument picks holds the indices {repeated} more than once; name "
                "each channel once."
            )
        return wanted

    # ---------------------------------------------------------------------- transform

    def transform(self, X):
        """Keep the picked channels.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_windows, n_channels, n_times) or \
(n_windows, n_times), mne.Epochs or skemotion dataset
            Signal windows with the channels seen in fit (any length).

        Returns
        -------
        X_out : ndarray of shape (n_windows, n_channels_out, n_times) or (n_windows, n_times)
            ``X[:, picks_]``, a new array of X's float dtype (2-D for a 2-D X). A torch tensor
            X gives a new tensor on its device.
        """
        check_is_fitted(self)
        carried = _carried_types(X)
        X3, two_d = self._validate(X, reset=False)
        if carried is not None and self._ch_types_in is not None and carried != self._ch_types_in:
            raise ValueError(
                f"{_NAME}: the channel types of X ({_source(X)}) differ from those seen in fit "
                f"({_first_difference(carried, self._ch_types_in, 'types')})."
            )
        if is_torch(X3):
            import torch

            out = X3.index_select(1, torch.as_tensor(self.picks_, device=X3.device))
        else:
            out = np.take(X3, self.picks_, axis=1)  # a new array, never a view of X
        return like_input(out, two_d)

    # ------------------------------------------------------------------------ names

    def _input_names(self, input_features) -> list[str]:
        if input_features is None and not self._fitted_2d and self._ch_names_in is not None:
            return list(self._ch_names_in)
        return super()._input_names(input_features)

    def _names_out(self, names_in: list[str]) -> list[str]:
        return names_in if self._fitted_2d else [names_in[i] for i in self.picks_]
