"""Attention rankings: the multilingual shared features of a fitted model, and per-language ones."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_consistent_length

from ..metrics import main_task_labels
from ._families import feature_families


GROUP = "group"
"""Name of the column that holds the group label (language, emotion, ...) in tidy rankings."""


def _column_names(X):
    columns = getattr(X, "columns", None)
    return None if columns is None else np.asarray(columns, dtype=object)


def _names_out(step, Xt, names_in):
    """Names of ``step``'s output ``Xt``: its frame's columns, else the step's own, else None."""
    names = _column_names(Xt)
    if names is None and hasattr(step, "get_feature_names_out"):
        try:
            names = step.get_feature_names_out(names_in)
        except (AttributeError, ValueError, TypeError):
            # The step cannot name its output from these input names.
            names = None
    if names is not None and len(names) != np.shape(Xt)[-1]:
        return None
    return names


def _split_pipeline(estimator, X):
    """Return the attention model, ``X`` as that model sees it, and the names of its columns.

    The names follow ``X`` through the steps one at a time: a step whose output is a
    DataFrame names its columns, any other step names them with
    ``get_feature_names_out`` of the names that reached it. A step without names (a
    FunctionTransformer that returns an array) leaves them unknown (None).
    """
    if not isinstance(estimator, Pipeline):
        return estimator, X, None
    names = _column_names(X)
    for _, step in estimator.steps[:-1]:
        if step is None or step == "passthrough":
            continue
        X = step.transform(X)
        names = _names_out(step, X, names)
    return estimator[-1], X, names


def _resolve_names(model, n_features, feature_names, pipeline_names):
    candidates = (feature_names, pipeline_names, getattr(model, "feature_names_in_", None))
    for names in candidates:
        if names is not None:
            names = [str(name) for name in names]
            if len(names) != n_features:
                raise ValueError(
                    f"{len(names)} feature names given for {n_features} attention weights."
                )
            return names
    return [f"x{i}" for i in range(n_features)]


def _attention(model, X) -> np.ndarray:
    if not hasattr(model, "attention_weights"):
        raise TypeError(
            f"{type(model).__name__} has no attention_weights(X); pass a fitted "
            "MultitaskSERClassifier or a Pipeline ending in one."
        )
    weights = np.asarray(model.attention_weights(X), dtype=float)
    if weights.ndim != 2:
        raise ValueError(f"attention_weights returned shape {weights.shape}, expected 2-D.")
    return weights


def _rank(mean_weights: np.ndarray, names) -> pd.DataFrame:
    # A stable sort breaks ties by input order, so rankings are reproducible.
    order = np.argsort(-mean_weights, kind="stable")
    ranking = pd.DataFrame(
        {
            "feature": np.asarray(names, dtype=object)[order],
            "weight": mean_weights[order],
            "rank": np.arange(1, len(order) + 1),
        }
    )
    families = feature_families(ranking["feature"]).drop(columns="feature")
    return pd.concat([ranking, families], axis=1)


class AttentionLevelWarning(UserWarning):
    """The model's attention weights do not tell every feature apart.

    :func:`shared_features` warns with it, and ranks LSTM steps instead of features,
    for a model whose ``attention_level_`` is ``"step"`` (raw patches of several
    features per step: ``embedding="shared"`` with ``patch_size > 1``).

    Examples
    --------
    >>> import warnings
    >>> from sklearn_msfl.explain import AttentionLevelWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("ranking steps", AttentionLevelWarning)
    >>> caught[0].category.__name__
    'AttentionLevelWarning'
    """


def _attention_level(model) -> str | None:
    # Models without the attribute (stand-ins, other estimators) weight features.
    return getattr(model, "attention_level_", "feature")


def _step_size(model) -> int:
    return int(model.net_.module_.patch_size)


def _rank_steps(mean_weights: np.ndarray, names, step_size: int) -> pd.DataFrame:
    """Rank LSTM steps (consecutive runs of ``step_size`` features) by their summed weight."""
    starts = range(0, len(names), step_size)
    weights = np.array([mean_weights[i : i + step_size].sum() for i in starts])
    rows = []
    for step, start in enumerate(starts):
        members = names[start : start + step_size]
        families = feature_families(members)["lld_family"].value_counts()
        rows.append({
            "feature": f"step {step} ({len(members)} features: {members[0]} .. {members[-1]})",
            "n_features": len(members),
            "lld_family": "+".join(families.index[:3]),
        })
    table = pd.DataFrame(rows)
    order = np.argsort(-weights, kind="stable")
    ranking = table.iloc[order].reset_index(drop=True)
    ranking.insert(1, "weight", weights[order])
    ranking.insert(2, "rank", np.arange(1, len(order) + 1))
    return ranking


def _rank_attention(weights, names, by=None, step_size=None) -> pd.DataFrame:
    def rank(mean_weights):
        if step_size is None:
            return _rank(mean_weights, names)
        return _rank_steps(mean_weights, names, step_size)

    if by is None:
        return rank(weights.mean(axis=0))
    by = np.asarray(by)
    if by.shape != (weights.shape[0],):
        raise ValueError(f"by has shape {by.shape}; expected one label per sample ({len(weights)}).")
    frames = []
    for group in np.unique(by):
        ranking = rank(weights[by == group].mean(axis=0))
        ranking.insert(0, GROUP, group)
        frames.append(ranking)
    return pd.concat(frames, ignore_index=True)


def shared_features(estimator, X, feature_names=None, by=None, top_k=10) -> pd.DataFrame:
    """Rank input features by their attention weight averaged over utterances.

    The features ranked first are the multilingual shared features (MSFs): those
    the attention pooling of a model trained on several languages relies on.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline, or a list of them
        A fitted :class:`~sklearn_msfl.MultitaskSERClassifier` (anything with
        ``attention_weights(X)``), or a fitted Pipeline ending in one, in which
        case ``X`` is transformed by the preceding steps first. A list of fitted
        models (seeds, folds, ensemble members) ranks every one on ``X`` and pools
        their rankings with :func:`pool_rankings`, which says how stable each rank is.
    X : array-like, DataFrame or list of signals
        Input of ``estimator`` (signals for a pipeline that extracts features).
    feature_names : sequence of str, default=None
        Names of the model's input features. When None, taken from the
        pipeline: followed through its steps from the columns of ``X`` (a
        DataFrame's columns name a step's output, else the step's
        ``get_feature_names_out``), else from the model's ``feature_names_in_``,
        else ``x0, x1, ...``. Names given here take precedence.
    by : array-like of shape (n_samples,), default=None
        Group label of each utterance (language, emotion, ...). When given,
        every group gets its own ranking from the mean over its utterances.
    top_k : int, default=10
        With a list of models: the size of the top sets whose membership
        ``top_k_share`` counts. Ignored for one model.

    Returns
    -------
    pandas.DataFrame
        One row per feature (per group), sorted by descending ``weight`` (within
        each group), with columns ``feature``, ``weight``, ``rank`` (1 = most
        attended) and the :func:`feature_families` columns ``lld``,
        ``lld_family``, ``functional``, ``functional_family``, ``is_delta``;
        with ``by``, a leading ``group`` column. Weights of one group sum to 1.
        ``attrs["attention_level"]`` says what was ranked. With a list of models,
        the pooled ranking of :func:`pool_rankings` (``weight`` is the mean over
        the models, with ``weight_sd``, ``median_rank`` and ``top_k_share``).

    Warns
    -----
    AttentionLevelWarning
        When the model weights LSTM steps, not features (``attention_level_ ==
        "step"``: raw patches of several features per step): the ranking then
        has one row per step (``feature`` names the step and its first and last
        feature, ``n_features``, its main ``lld_family`` values), never a
        ranking of tied features in column order.

    Raises
    ------
    ValueError
        When the model has no attention at all (``pooling="mean"``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_msfl.explain import shared_features
    >>> class Attention:  # stands in for a fitted MultitaskSERClassifier
    ...     def attention_weights(self, X):
    ...         return np.tile([0.2, 0.7, 0.1], (len(X), 1))
    >>> names = ["pcm_loudness_sma_amean", "F0final_sma_range", "mfcc_sma[1]_amean"]
    >>> shared_features(Attention(), np.zeros((4, 3)), names)[["feature", "weight", "rank"]]
                      feature  weight  rank
    0       F0final_sma_range     0.7     1
    1  pcm_loudness_sma_amean     0.2     2
    2       mfcc_sma[1]_amean     0.1     3
    """
    if isinstance(estimator, (list, tuple)):
        if not estimator:
            raise ValueError("estimator is an empty list; pass fitted models to rank.")
        rankings = [shared_features(model, X, feature_names, by) for model in estimator]
        return pool_rankings(rankings, top_k=top_k)
    model, Xt, pipeline_names = _split_pipeline(estimator, X)
    level = _attention_level(model)
    if level is None:
        raise ValueError(
            "this model has no attention (pooling='mean'): its weights are uniform and rank "
            "nothing. Use compare_with_permutation, or a model with pooling='attention'."
        )
    weights = _attention(model, Xt)
    names = _resolve_names(model, weights.shape[1], feature_names, pipeline_names)
    step_size = None
    if level == "step":
        step_size = _step_size(model)
        warnings.warn(
            f"the attention of this model weights LSTM steps of {step_size} features "
            "(embedding='shared' with patch_size > 1), not single features: ranking steps. "
            "For one weight per feature use embedding='per_feature' (the default) or "
            "patch_size=1.",
            AttentionLevelWarning,
            stacklevel=2,
        )
    ranking = _rank_attention(weights, names, by, step_size)
    ranking.attrs["attention_level"] = level
    return ranking


_POOLED = ["weight", "rank", "weight_sd", "median_rank", "top_k_share"]


def pool_rankings(rankings, top_k=10) -> pd.DataFrame:
    """Pool the rankings of several models and say how stable each rank is.

    Models fitted with different seeds, on different folds, or the members of an
    ensemble rank the same features differently; the pooled ranking orders the
    features by their mean weight and tells how much the models agree on each.

    Parameters
    ----------
    rankings : sequence of DataFrame
        One ranking per model, from :func:`shared_features` (all with a ``group``
        column from ``by``, or none), over the same features.
    top_k : int, default=10
        Size of every model's top set counted by ``top_k_share``.

    Returns
    -------
    pandas.DataFrame
        One row per feature (per group), sorted by descending ``weight``, with
        columns ``feature``, ``weight`` (mean over the models of their weights;
        still sums to 1), ``rank`` (of that mean), ``weight_sd`` (standard
        deviation over the models, NaN for one), ``median_rank`` (median of the
        models' ranks), ``top_k_share`` (share of the models that rank the feature
        within their top ``top_k``) and the other columns of the first ranking
        (families). ``attrs`` holds ``attention_level``, ``n_models`` and ``top_k``.

    See Also
    --------
    topk_stability : Overlap of the models' top sets, next to its chance level.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_msfl.explain import pool_rankings
    >>> seed0 = pd.DataFrame({"feature": ["f0", "f1", "f2"], "weight": [.5, .3, .2],
    ...                       "rank": [1, 2, 3]})
    >>> seed1 = pd.DataFrame({"feature": ["f1", "f0", "f2"], "weight": [.6, .3, .1],
    ...                       "rank": [1, 2, 3]})
    >>> pool_rankings([seed0, seed1], top_k=1)[["feature", "weight", "rank", "top_k_share"]]
      feature  weight  rank  top_k_share
    0      f1    0.45     1          0.5
    1      f0    0.40     2          0.5
    2      f2    0.15     3          0.0
    """
    rankings = list(rankings)
    if not rankings:
        raise ValueError("rankings is empty; pass one ranking per model.")
    if not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"top_k must be a positive int, got {top_k!r}.")
    keys = [GROUP, "feature"] if GROUP in rankings[0] else ["feature"]
    levels = {ranking.attrs.get("attention_level", "feature") for ranking in rankings}
    if len(levels) > 1:
        raise ValueError(f"the models weight different things ({sorted(map(str, levels))}).")
    rows = [set(map(tuple, ranking[keys].to_numpy())) for ranking in rankings]
    if any(row != rows[0] for row in rows[1:]):
        raise ValueError("the rankings do not rank the same features (and groups).")
    tidy = pd.concat([ranking[keys + ["weight", "rank"]] for ranking in rankings])
    pooled = tidy.groupby(keys, sort=False).agg(
        weight=("weight", "mean"),
        weight_sd=("weight", "std"),
        median_rank=("rank", "median"),
        top_k_share=("rank", lambda ranks: float(np.mean(ranks <= top_k))),
    ).reset_index()
    groups = keys[:-1]
    pooled = pooled.sort_values([*groups, "weight"], ascending=[True] * len(groups) + [False],
                                kind="stable", ignore_index=True)
    pooled["rank"] = (pooled.groupby(groups, sort=False).cumcount() + 1 if groups
                      else np.arange(1, len(pooled) + 1))
    described = rankings[0].drop(columns=["weight", "rank"])
    pooled = pooled.merge(described, on=keys, how="left")
    pooled = pooled[keys + _POOLED + [c for c in described if c not in keys]]
    pooled.attrs.update(attention_level=levels.pop(), n_models=len(rankings), top_k=top_k)
    return pooled


def _final_step(estimator):
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


def monolingual_rankings(estimator, X, y, languages, feature_names=None) -> pd.DataFrame:
    """Fit one clone of ``estimator`` per language and rank each one's features.

    Each monolingual model is trained on the main task only (the column that the
    estimator's ``main_task`` names, by default the first column of a 2-D ``y``,
    i.e. emotion), as a language task is constant within one language. Compare the result with the multilingual ranking in
    :func:`compare_rankings`.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Unfitted (or fitted: it is cloned) MSFL estimator or pipeline ending in one.
    X : array-like, DataFrame or list of signals
        Input of all languages.
    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Targets; the first column is the main task when 2-D.
    languages : array-like of shape (n_samples,)
        Language of each utterance.
    feature_names : sequence of str, default=None
        As in :func:`shared_features`.

    Returns
    -------
    pandas.DataFrame
        Tidy ranking, one block per language (in sorted order) with a leading
        ``group`` column, each ranked on its own utterances.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> from sklearn_msfl.explain import monolingual_rankings
    >>> class Attention(BaseEstimator):  # attends to the feature most correlated with y
    ...     def fit(self, X, y):
    ...         corr = np.abs([np.corrcoef(column, y)[0, 1] for column in X.T])
    ...         self.weights_ = corr / corr.sum()
    ...         return self
    ...     def attention_weights(self, X):
    ...         return np.tile(self.weights_, (len(X), 1))
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 2)), np.repeat([0, 1], 20)
    >>> languages = np.tile(["de", "en"], 20)
    >>> X[languages == "de", 0] += 3 * y[languages == "de"]
    >>> X[languages == "en", 1] += 3 * y[languages == "en"]
    >>> rankings = monolingual_rankings(Attention(), X, y, languages)
    >>> rankings.loc[rankings["rank"] == 1, ["group", "feature"]]
      group feature
    0    de      x0
    2    en      x1
    """
    languages = np.asarray(languages)
    check_consistent_length(X, y, languages)
    y_main = main_task_labels(_final_step(estimator), y)
    frames = []
    for language in np.unique(languages):
        index = np.flatnonzero(languages == language)
        X_language = _safe_indexing(X, index)
        model = clone(estimator).fit(X_language, _safe_indexing(y_main, index))
        ranking = shared_features(model, X_language, feature_names)
        ranking.insert(0, GROUP, language)
        frames.append(ranking)
    return pd.concat(frames, ignore_index=True)
