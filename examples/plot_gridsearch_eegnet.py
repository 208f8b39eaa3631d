"""
Tuning EEGNet with GridSearchCV, subject-wise
=============================================

A deep classifier is a plain scikit-learn estimator: it sits in a ``Pipeline``, ``GridSearchCV``
tunes it with ``LeaveOneGroupOut`` over subjects, and the fitted search pickles with joblib.
"""

import joblib
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut

from skemotion.classifiers import EEGNetClassifier
from skemotion.datasets import make_eeg_emotion

data = make_eeg_emotion("emotiv14", n_subjects=4, n_classes=2, effect_size=2.0, random_state=0)
search = GridSearchCV(
    EEGNetClassifier(kernel_length=64, max_epochs=10, random_state=0),
    {"lr": [1e-3, 3e-3], "dropout": [0.25, 0.5]},
    cv=LeaveOneGroupOut(),
    scoring="balanced_accuracy",
)
search.fit(data.X, data.y, groups=data.groups)
print("best parameters", search.best_params_, "score", round(search.best_score_, 3))
joblib.dump(search.best_estimator_, "eegnet.joblib")
print("reloaded:", joblib.load("eegnet.joblib").predict(data.X[:5]))
