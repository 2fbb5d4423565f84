"""Stability of rankings across models: overlap of their top sets next to its chance level."""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations
from math import comb

import numpy as np
import pandas as pd

from ._comparisons import _top
from ._rankings import GROUP


def expected_jaccard(k, n_features) -> float:
    """Expected Jaccard index of two top-``k`` sets drawn at random from ``n_features``.

    The chance level of :func:`topk_stability`: two models whose rankings were
    independent and uniformly random would share ``i`` of their top ``k`` features
    with hypergeometric probability ``C(k, i) C(d - k, k - i) / C(d, k)``, for a
    Jaccard index ``i / (2k - i)``. The sum is computed in exact rational arithmetic.

    Parameters
    ----------
    k : int
        Size of the top sets, ``1 <= k <= n_features``.
    n_features : int
        Number of features ranked, ``d``.

    Returns
    -------
    float

    Examples
    --------
    >>> from sklearn_msfl.explain import expected_jaccard
    >>> expected_jaccard(1, 4)  # the same feature first with probability 1/4
    0.25
    >>> round(expected_jaccard(10, 1582), 5)
    0.00334
    """
    if not (isinstance(k, (int, np.integer)) and isinstance(n_features, (int, np.integer))):
        raise TypeError(f"k and n_features must be ints, got {k!r} and {n_features!r}.")
    if not 1 <= k <= n_features:
        raise ValueError(f"k must be in [1, n_features={n_features}], got {k}.")
    k, d = int(k), int(n_features)
    total = sum(
        Fraction(comb(k, i) * comb(d - k, k - i), 2 * k - i) * i for i in range(1, k + 1)
    )
    return float(total / comb(d, k))


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


def _stability_rows(rankings: list, ks) -> list[dict]:
    n_features = len(rankings[0])
    rows = []
    for k in ks:
        if not 1 <= k <= n_features:
            raise ValueError(
                f"every k must be in [1, {n_features}] (the features ranked), got {k}.")
        tops = [_top(ranking, k) for ranking in rankings]
        pairs = [_jaccard(a, b) for a, b in combinations(tops, 2)]
        rows.append({
            "k": k,
            "n_models": len(tops),
            "jaccard": float(np.mean(pairs)),
            "jaccard_min": min(pairs),
            "jaccard_max": max(pairs),
            "chance": expected_jaccard(k, n_features),
            "in_all": len(set.intersection(*tops)),
            "n_features": n_features,
        })
    return rows


def topk_stability(rankings, ks=(10, 50)) -> pd.DataFrame:
    """How much the top-``k`` features of several models agree, next to chance.

    For every ``k``, the Jaccard index (shared / united features) of the top-``k``
    sets of every pair of models, summarised over the pairs, with the index two
    random top-``k`` sets would have (:func:`expected_jaccard`). Use it on models
    fitted with different seeds (how much a ranking owes to the initialisation), on
    different folds (to the training data) or on the members of an ensemble.

    Parameters
    ----------
    rankings : sequence of DataFrame
        At least two rankings from :func:`shared_features` (one per model), over
        the same features; with a ``group`` column (``by``), one result per group.
    ks : sequence of int, default=(10, 50)
        Sizes of the top sets.

    Returns
    -------
    pandas.DataFrame
        One row per ``k`` (per group), with columns ``k``, ``n_models``,
        ``jaccard`` (mean over the pairs of models), ``jaccard_min``,
        ``jaccard_max``, ``chance`` (expected Jaccard of two random top-``k``
        sets), ``in_all`` (features in the top ``k`` of every model) and
        ``n_features``.

    See Also
    --------
    pool_rankings : The pooled ranking, with each feature's share of top-k sets.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_msfl.explain import topk_stability
    >>> names = ["f0", "f1", "f2", "f3"]
    >>> seeds = [pd.DataFrame({"feature": names, "weight": w}) for w in
    ...          ([.4, .3, .2, .1], [.3, .4, .1, .2], [.4, .1, .3, .2])]
    >>> topk_stability(seeds, ks=(2,))[["k", "jaccard", "chance", "in_all"]].round(3)
       k  jaccard  chance  in_all
    0  2    0.556   0.389       1
    """
    rankings = list(rankings)
    if len(rankings) < 2:
        raise ValueError(f"topk_stability needs the rankings of at least two models, "
                         f"got {len(rankings)}.")
    if GROUP not in rankings[0]:
        return pd.DataFrame(_stability_rows(rankings, ks))
    rows = []
    for group in rankings[0][GROUP].unique():
        per_model = [ranking[ranking[GROUP] == group] for ranking in rankings]
        rows += [{GROUP: group, **row} for row in _stability_rows(per_model, ks)]
    return pd.DataFrame(rows)
