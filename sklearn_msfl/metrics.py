"""Speech emotion recognition metrics and scorers that understand multitask labels.

SER papers report UAR (unweighted average recall: the mean of the per-class
recalls, i.e. balanced accuracy) and WA (weighted accuracy: plain accuracy).
The scorers here take a label array with one column per task, as
:class:`~sklearn_msfl.msfl.MultitaskSERClassifier` is fitted on, and score
the main task only, so they plug into ``GridSearchCV(scoring=...)`` and
``cross_validate`` unchanged.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, recall_score

__all__ = [
    "final_estimator",
    "is_multitask",
    "main_task_labels",
    "score_predictions",
    "uar_score",
    "uar_scorer",
    "wa_score",
    "wa_scorer",
]


def final_estimator(estimator):
    """The estimator that makes the predictions: the last step of a pipeline
    (recursively), the ``best_estimator_`` of a fitted search (its ``estimator``
    before fit, so that an unfitted search is known to be multitask), else
    ``estimator``.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.linear_model import LogisticRegression
    >>> final_estimator(make_pipeline(StandardScaler(), LogisticRegression()))
    LogisticRegression()
    """
    while True:
        if hasattr(estimator, "steps"):
            estimator = estimator.steps[-1][1]
        elif hasattr(estimator, "best_estimator_"):
            estimator = estimator.best_estimator_
        elif _is_search(estimator):
            estimator = estimator.estimator
        else:
            return estimator


def _is_search(estimator) -> bool:
    # Hyperparameter searches hold the estimator they tune in ``estimator`` and
    # expose ``param_grid`` or ``param_distributions``.
    return hasattr(estimator, "estimator") and (
        hasattr(estimator, "param_grid") or hasattr(estimator, "param_distributions")
    )


def is_multitask(estimator) -> bool:
    """Whether ``estimator`` (or its final step) predicts several tasks (has ``predict_tasks``).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> is_multitask(LogisticRegression())
    False
    >>> from sklearn_msfl.msfl import MultitaskSERClassifier
    >>> is_multitask(MultitaskSERClassifier())
    True
    >>> from sklearn.model_selection import GridSearchCV
    >>> is_multitask(GridSearchCV(MultitaskSERClassifier(), {"dropout": [0.1, 0.3]}))
    True
    """
    return hasattr(final_estimator(estimator), "predict_tasks")


def main_task_labels(estimator, y) -> np.ndarray:
    """The main task's column of ``y`` as a 1-D array.

    For a fitted multitask estimator (or a pipeline/search ending in one) the
    main task is its ``main_task_``: the DataFrame column of that name, or the
    array column at its position in ``task_names_``. Otherwise it is the first
    column. A 1-D ``y`` is returned as it is.

    Parameters
    ----------
    estimator : estimator
        The (fitted) estimator whose main task is wanted.
    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Labels.

    Returns
    -------
    ndarray of shape (n_samples,)

    Examples
    --------
    >>> import pandas as pd
    >>> y = pd.DataFrame({"emotion": ["angry", "sad"], "language": ["de", "en"]})
    >>> main_task_labels(None, y)
    array(['angry', 'sad'], dtype=object)
    >>> main_task_labels(None, [1, 2, 3])
    array([1, 2, 3])
    """
    final = final_estimator(estimator)
    main_task = None
    if is_multitask(final):
        # Fitted: the resolved main task; not yet fitted: its main_task parameter.
        main_task = getattr(final, "main_task_", getattr(final, "main_task", None))
    task_names = list(getattr(final, "task_names_", []) or [])

    if isinstance(y, pd.DataFrame):
        if y.shape[1] == 0:
            raise ValueError("y is a DataFrame without columns; it needs one column per task")
        if isinstance(main_task, str) and main_task in y.columns:
            return y[main_task].to_numpy()
        position = _main_position(main_task, task_names, y.shape[1])
        return y.iloc[:, position].to_numpy()
    if isinstance(y, pd.Series):
        return y.to_numpy()
    array = np.asarray(y)
    if array.ndim == 1:
        return array
    if array.ndim != 2:
        raise ValueError(f"y must be 1-D or 2-D, got shape {array.shape}")
    if array.shape[1] == 0:
        raise ValueError("y has no columns; it needs one column per task")
    return array[:, _main_position(main_task, task_names, array.shape[1])]


def _main_position(main_task, task_names, n_columns: int) -> int:
    """Column of the main task: its position in the fitted task layout, a position given
    as an int, else 0."""
    if isinstance(main_task, numbers.Integral) and not isinstance(main_task, bool):
        return int(main_task) % n_columns if -n_columns <= main_task < n_columns else 0
    if main_task is not None and len(task_names) == n_columns and main_task in task_names:
        return task_names.index(main_task)
    return 0


def uar_score(y_true, y_pred, sample_weight=None) -> float:
    """Unweighted average recall: the mean recall over the classes present in ``y_true``.

    This is balanced accuracy, except that it is silent when ``y_pred`` holds
    classes absent from ``y_true`` (common when scoring one language whose corpus
    lacks some emotions): such classes have no recall and are left out.

    Examples
    --------
    >>> uar_score(["a", "a", "a", "b"], ["a", "a", "a", "a"])
    0.5
    >>> uar_score(["a", "a"], ["a", "c"])  # "c" is not a true class: no recall of its own
    0.5
    """
    present = np.unique(np.asarray(y_true))
    return float(recall_score(y_true, y_pred, labels=present, average="macro",
                              sample_weight=sample_weight, zero_division=0))


def wa_score(y_true, y_pred, sample_weight=None) -> float:
    """Weighted accuracy: the fraction of correct predictions (plain accuracy).

    Examples
    --------
    >>> wa_score(["a", "a", "a", "b"], ["a", "a", "a", "a"])
    0.75
    """
    return float(accuracy_score(y_true, y_pred, sample_weight=sample_weight))


def uar_scorer(estimator, X, y, sample_weight=None) -> float:
    """Scorer ``(estimator, X, y)``: UAR of the main task's predictions.

    Works with a 1-D ``y`` and with the multitask label layout used in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> X, y = np.zeros((4, 1)), np.array([[0, 5], [0, 5], [0, 6], [1, 6]])
    >>> uar_scorer(DummyClassifier().fit(X, y[:, 0]), X, y)
    0.5
    """
    return uar_score(main_task_labels(estimator, y), estimator.predict(X), sample_weight)


def wa_scorer(estimator, X, y, sample_weight=None) -> float:
    """Scorer ``(estimator, X, y)``: accuracy (WA) of the main task's predictions.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> X, y = np.zeros((4, 1)), np.array([[0, 5], [0, 5], [0, 6], [1, 6]])
    >>> wa_scorer(DummyClassifier().fit(X, y[:, 0]), X, y)
    0.75
    """
    return wa_score(main_task_labels(estimator, y), estimator.predict(X), sample_weight)


ALL = "all"
"""Language label of the scores that pool every language."""


def score_predictions(predictions: pd.DataFrame, by=("estimator", "fold")) -> pd.DataFrame:
    """UAR, WA and test size of tidy predictions, per group of ``by``, per language and overall.

    Parameters
    ----------
    predictions : DataFrame
        One row per prediction with columns ``y_true``, ``y_pred``, ``language``
        (``"all"`` when unknown) and the columns named in ``by``.
    by : sequence of str, default=("estimator", "fold")
        Columns to score separately, e.g. ``("estimator", "fold")`` for per-fold
        scores or ``("estimator",)`` for the predictions pooled over folds.

    Returns
    -------
    scores : DataFrame
        The ``by`` columns, ``language`` (``"all"`` pools the languages of a
        group), ``uar`` (over the classes present in that group's truth, see
        :func:`uar_score`), ``wa`` and ``n_test``.

    Examples
    --------
    >>> import pandas as pd
    >>> predictions = pd.DataFrame({"fold": [0, 0, 1, 1], "language": ["de", "en"] * 2,
    ...                             "y_true": ["a", "b", "a", "b"],
    ...                             "y_pred": ["a", "a", "a", "b"]})
    >>> score_predictions(predictions, by=["fold"])
       fold language  uar   wa  n_test
    0     0      all  0.5  0.5       2
    1     0       de  1.0  1.0       1
    2     0       en  0.0  0.0       1
    3     1      all  1.0  1.0       2
    4     1       de  1.0  1.0       1
    5     1       en  1.0  1.0       1
    """
    by = list(by)
    rows = []
    for key, part in predictions.groupby(by, sort=False):
        scopes = [(ALL, part)]
        if not (part["language"] == ALL).all():
            scopes += list(part.groupby("language", sort=True))
        for language, subset in scopes:
            rows.append({
                **dict(zip(by, key)),
                "language": language,
                "uar": uar_score(subset["y_true"], subset["y_pred"]),
                "wa": wa_score(subset["y_true"], subset["y_pred"]),
                "n_test": len(subset),
            })
    return pd.DataFrame(rows, columns=[*by, "language", "uar", "wa", "n_test"])
