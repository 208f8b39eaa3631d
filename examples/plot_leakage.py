"""
Why subject-wise, trial-safe evaluation matters
===============================================

Windows cut from one trial share that trial's state (electrode contact, drift, mood within the
video), so a split that puts windows of one trial on both sides measures how well a model
recognises the *trial*, not the emotion. This example scores the same DE + logistic-regression
pipeline three ways on the synthetic corpus:

- random windows (``StratifiedKFold`` with shuffling): leaky, the number many papers report;
- trial-wise (``GroupKFold`` on trials): no trial on both sides, subjects shared;
- subject-wise (``LeaveOneGroupOut`` on subjects): the subject-independent protocol.
"""

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    LeaveOneGroupOut,
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion.datasets import make_eeg_emotion
from skemotion.features import DifferentialEntropy

data = make_eeg_emotion("seed62", n_subjects=6, random_state=0)
pipe = make_pipeline(
    DifferentialEntropy(sfreq=data.sfreq, flatten=True),
    StandardScaler(),
    LogisticRegression(max_iter=2000),
)
protocols = {
    "random windows (leaky)": (StratifiedKFold(5, shuffle=True, random_state=0), None),
    "trial-wise": (StratifiedGroupKFold(5, shuffle=True, random_state=0), data.trials),
    "subject-wise (LOSO)": (LeaveOneGroupOut(), data.groups),
}
for name, (cv, groups) in protocols.items():
    scores = cross_val_score(
        pipe, data.X, data.y, groups=groups, cv=cv, scoring="balanced_accuracy"
    )
    print(f"{name:<24} balanced accuracy {scores.mean():.3f} +- {scores.std():.3f}")
print(f"{'chance':<24} balanced accuracy {1 / len(data.target_names):.3f}")
