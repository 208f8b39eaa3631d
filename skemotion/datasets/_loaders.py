"""Registry of the dataset loaders (used by ``skemotion benchmark --dataset NAME``) and
discovery of the subjects present in a local copy."""

from __future__ import annotations

from ._amigos import list_amigos_files, load_amigos
from ._deap import list_deap_files, load_deap
from ._dreamer import load_dreamer
from ._gameemo import list_gameemo_files, load_gameemo
from ._loading import DatasetFormatError
from ._seed import list_seed_files, list_seed_iv_files, load_seed, load_seed_iv
from ._wesad import list_wesad_files, load_wesad

LOADERS = {
    "deap": load_deap,
    "seed": load_seed,
    "seed_iv": load_seed_iv,
    "amigos": load_amigos,
    "dreamer": load_dreamer,
    "gameemo": load_gameemo,
    "wesad": load_wesad,
}


def list_subjects(dataset: str, path) -> list[int]:
    """Subject ids present in a local copy of ``dataset``, from file names only.

    Nothing is loaded (except for DREAMER, whose single file is read to count its subjects).

    Parameters
    ----------
    dataset : {"deap", "seed", "seed_iv", "amigos", "dreamer", "gameemo", "wesad"}
        Dataset name, as in :data:`LOADERS`.
    path : str or path-like
        The folder you would pass to the loader.

    Returns
    -------
    subjects : list of int
        Sorted ids, usable as ``subjects=`` of the loader.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from skemotion.datasets import list_subjects
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("s01.dat", "s03.dat"):
    ...     (folder / name).touch()
    >>> list_subjects("deap", folder)
    [1, 3]
    """
    if dataset not in LOADERS:
        raise ValueError(
            f"list_subjects: dataset must be one of {sorted(LOADERS)}; got {dataset!r}."
        )
    if dataset == "deap":
        return sorted(list_deap_files(path))
    if dataset == "seed":
        return sorted(list_seed_files(path))
    if dataset == "seed_iv":
        return sorted({s for s, _ in list_seed_iv_files(path)})
    if dataset == "amigos":
        return sorted(list_amigos_files(path))
    if dataset == "gameemo":
        return sorted({s for s, _ in list_gameemo_files(path)})
    if dataset == "wesad":
        return sorted(list_wesad_files(path))
    from ._checks import check_path
    from ._dreamer import _find_file, _read

    data, _, _ = _read(_find_file(check_path(path, "list_subjects")))
    return list(range(1, data.shape[1] + 1))


__all__ = ["LOADERS", "DatasetFormatError", "list_subjects"]
