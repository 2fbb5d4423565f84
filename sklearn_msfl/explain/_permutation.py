"""Attention versus permutation importance on the same fitted model."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator
from sklearn.inspection import permutation_importance

from ..metrics import main_task_labels
from ._rankings import _attention, _rank, _resolve_names, _split_pipeline


class _GroupPermutation(BaseEstimator):
    """Scores a fitted model on features rebuilt from one row index per column group.

    :func:`sklearn.inspection.permutation_importance` shuffles one column at a
    time. Given a matrix whose column ``g`` holds row indices, permuting that
    column permutes the rows of every feature of group ``g`` together: a grouped
    permutation that scores the model exactly as sklearn does, at the cost of one
    evaluation per group and repeat instead of one per feature.
    """

    def __init__(self, model, features, groups):
        self.model = model
        self.features = features
        self.groups = groups

    def fit(self, X, y=None):  # pragma: no cover - the model is fitted already
        return self

    @property
    def classes_(self):
        return self.model.classes_

    def _rebuild(self, row_indices):
        row_indices = np.asarray(row_indices, dtype=int)
        values = self.features.to_numpy() if hasattr(self.features, "columns") else self.features
        rebuilt = np.array(values, copy=True)
        for column, group in enumerate(self.groups):
            rebuilt[:, group] = values[row_indices[:, column]][:, group]
        if hasattr(self.features, "columns"):
            return pd.DataFrame(rebuilt, columns=self.features.columns)
        return rebuilt

    def predict(self, row_indices):
        return self.model.predict(self._rebuild(row_indices))

    def predict_proba(self, row_indices):
        return self.model.predict_proba(self._rebuild(row_indices))

    def score(self, row_indices, y):
        return self.model.score(self._rebuild(row_indices), y)


def compare_with_permutation(
    estimator,
    X,
    y,
    *,
    level="lld",
    n_features=20,
    feature_names=None,
    scoring="balanced_accuracy",
    n_repeats=5,
    random_state=None,
    n_jobs=None,
) -> pd.DataFrame:
    """Compare attention with permutation importance on the same fitted model.

    Permutation importance (:func:`sklearn.inspection.permutation_importance`)
    is model-agnostic: the drop in score when a feature's values are shuffled
    across utterances. Agreement between both says the attention weights are
    a faithful explanation. Permuting each of 1582 IS10 features is costly, so
    by default whole LLD families are permuted together (grouped permutation,
    one score evaluation per family and repeat) and compared with the family's
    total attention; ``level="feature"`` permutes the ``n_features`` most
    attended features one by one.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
        As in :func:`shared_features`. Pipelines are permuted on the features
        that enter the final step (the preceding steps run once).
    X : array-like, DataFrame or list of signals
        Held-out input of ``estimator``.
    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Targets; only the main task's column (the model's ``main_task_``, else
        the first) is scored when 2-D.
    level : {"lld", "functional", "feature"}, default="lld"
        Permute LLD families, functional families or single features.
    n_features : int or None, default=20
        With ``level="feature"``, how many top-attention features to permute
        (None: all). Ignored otherwise.
    feature_names : sequence of str, default=None
        As in :func:`shared_features`.
    scoring : str or callable, default="balanced_accuracy"
        Scorer on the main task; balanced accuracy is the unweighted average
        recall (UAR) of speech emotion recognition.
    n_repeats : int, default=5
        Permutations per feature or family.
    random_state : int, RandomState instance or None, default=None
        Seeds the permutations.
    n_jobs : int or None, default=None
        Parallel jobs of :func:`~sklearn.inspection.permutation_importance`.

    Returns
    -------
    pandas.DataFrame
        One row per family (or feature), sorted by descending attention, with
        columns ``family`` (or ``feature``), ``n_features``, ``attention`` (sum
        of mean attention weights), ``attention_rank``, ``permutation_mean``,
        ``permutation_std`` (score drop over repeats) and ``permutation_rank``.
        ``frame.attrs["spearman"]`` and ``frame.attrs["kendall"]`` hold the rank
        correlation between attention and permutation importance.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_msfl.explain import compare_with_permutation
    >>> class AttentiveLogit(LogisticRegression):  # attention = |coefficient|
    ...     def attention_weights(self, X):
    ...         weights = np.abs(self.coef_[0])
    ...         return np.tile(weights / weights.sum(), (len(X), 1))
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(200, 3)), np.repeat([0, 1], 100)
    >>> X[:, 0] += 2 * y
    >>> X[:, 1] += 0.5 * y
    >>> model = AttentiveLogit().fit(X, y)
    >>> names = ["F0final_sma_amean", "pcm_loudness_sma_amean", "mfcc_sma[1]_amean"]
    >>> table = compare_with_permutation(model, X, y, feature_names=names, random_state=0)
    >>> table[["family", "attention_rank", "permutation_rank"]]
         family  attention_rank  permutation_rank
    0     pitch               1                 1
    1  loudness               2                 2
    2      mfcc               3                 3
    >>> table.attrs["spearman"]
    1.0
    """
    columns = {"lld": "lld_family", "functional": "functional_family", "feature": "feature"}
    if level not in columns:
        raise ValueError(f"level must be one of {sorted(columns)}, got {level!r}.")
    model, Xt, pipeline_names = _split_pipeline(estimator, X)
    weights = _attention(model, Xt)
    names = _resolve_names(model, weights.shape[1], feature_names, pipeline_names)
    ranking = _rank(weights.mean(axis=0), names)
    position = {name: i for i, name in enumerate(names)}
    ranking["column"] = ranking["feature"].map(position)

    key = columns[level]
    if level == "feature" and n_features is not None:
        ranking = ranking.head(n_features)
    table = (
        ranking.groupby(key, sort=False)
        .agg(n_features=("column", "size"), attention=("weight", "sum"), columns=("column", list))
        .reset_index()
        .sort_values("attention", ascending=False, kind="stable")
        .reset_index(drop=True)
    )

    n_samples = weights.shape[0]
    row_indices = np.tile(np.arange(n_samples)[:, None], (1, len(table)))
    features = Xt if hasattr(Xt, "columns") else np.asarray(Xt)
    result = permutation_importance(
        _GroupPermutation(model, features, list(table["columns"])),
        row_indices,
        main_task_labels(model, y),
        scoring=scoring,
        n_repeats=n_repeats,
        random_state=random_state,
        n_jobs=n_jobs,
    )
    table = table.drop(columns="columns").rename(columns={key: "family"} if key != "feature" else {})
    table["attention_rank"] = np.arange(1, len(table) + 1)
    table["permutation_mean"] = result.importances_mean
    table["permutation_std"] = result.importances_std
    table["permutation_rank"] = (
        table["permutation_mean"].rank(ascending=False, method="first").astype(int)
    )
    if len(table) > 1 and np.ptp(table["permutation_mean"]) > 0:
        table.attrs["spearman"] = float(stats.spearmanr(table["attention"], table["permutation_mean"])[0])
        table.attrs["kendall"] = float(stats.kendalltau(table["attention"], table["permutation_mean"])[0])
    else:
        table.attrs["spearman"] = table.attrs["kendall"] = np.nan
    return table
