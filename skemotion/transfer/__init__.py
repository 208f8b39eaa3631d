"""Label-free, per-subject alignment of EEG windows for cross-subject transfer."""

from ._alignment import (
    EuclideanAlignment,
    PooledSubjectsWarning,
    SubjectStandardizer,
    euclidean_alignment,
    mean_covariance,
    subject_standardize,
)

__all__ = [
    "EuclideanAlignment",
    "PooledSubjectsWarning",
    "SubjectStandardizer",
    "euclidean_alignment",
    "mean_covariance",
    "subject_standardize",
]
