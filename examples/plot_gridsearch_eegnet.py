"""
Tuning EEGNet with GridSearchCV, subject-wise
=============================================

A deep classifier is a plain scikit-learn estimator: it sits in ``GridSearchCV``, which tunes it
with ``LeaveOneGroupOut`` over the training subjects, and the fitted model pickles with joblib.

The score of the best configuration inside the search is optimistic (it was *chosen* on those
folds), so the tuned model is evaluated on a subject the search never saw.
"""

import joblib
import numpy as np
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut

from skemotion.classifiers import EEGNetClassifier
from skemotion.datasets import make_eeg_emotion

data = make_eeg_emotion("emotiv14", n_subjects=5, n_classes=2, effect_size=2.0, random_state=0)
held_out = data.groups == 4  # never seen by the search
search = GridSearchCV(
    EEGNetClassifier(kernel_length=64, max_epochs=30, random_state=0),
    {"lr": [1e-3, 3e-3], "dropout": [0.25, 0.5]},
    cv=LeaveOneGroupOut(),
    scoring="balanced_accuracy",
)
search.fit(data.X[~held_out], data.y[~held_out], groups=data.groups[~held_out])
print("best parameters", search.best_params_)
print("selection score (optimistic)", round(search.best_score_, 3))
pred = search.predict(data.X[held_out])
print("held-out subject", round(balanced_accuracy_score(data.y[held_out], pred), 3))

joblib.dump(search.best_estimator_, "eegnet.joblib")
reloaded = joblib.load("eegnet.joblib")
print(
    "reload identical:",
    np.array_equal(reloaded.predict_proba(data.X), search.predict_proba(data.X)),
)
