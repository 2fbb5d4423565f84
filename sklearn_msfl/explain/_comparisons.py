"""Comparisons of rankings: family weights, top-k overlap, rank correlations."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ._families import feature_families
from ._rankings import GROUP


def _as_tidy(rankings) -> pd.DataFrame:
    """Accept a tidy frame with a group column or a mapping group -> ranking."""
    if isinstance(rankings, pd.DataFrame):
        if GROUP not in rankings:
            raise ValueError(
                f"A ranking frame of several groups needs a {GROUP!r} column; "
                "use shared_features(..., by=...) or pass a dict {group: ranking}."
            )
        return rankings
    frames = [ranking.assign(**{GROUP: group}) for group, ranking in dict(rankings).items()]
    tidy = pd.concat(frames, ignore_index=True)
    return tidy[[GROUP] + [column for column in tidy if column != GROUP]]


def _groups(tidy: pd.DataFrame) -> dict:
    """Group label -> its ranking, in order of first appearance."""
    return {group: frame for group, frame in tidy.groupby(GROUP, sort=False)}


_LEVELS = {
    "lld": ["lld_family"],
    "functional": ["functional_family"],
    "both": ["lld_family", "functional_family"],
}


def family_weights(ranking, level="lld") -> pd.DataFrame:
    """Aggregate attention weights per feature family.

    Parameters
    ----------
    ranking : DataFrame or dict of DataFrame
        Output of :func:`shared_features` (with or without ``by``), or a mapping
        group -> ranking (e.g. ``{"MSF": msf, "de": ...}``).
    level : {"lld", "functional", "both"}, default="lld"
        Group by LLD family, functional family, or both.

    Returns
    -------
    pandas.DataFrame
        One row per family (per group), with the family column(s) and
        ``sum`` (total weight), ``mean`` (mean weight of its features),
        ``n_features``, and ``relative`` (mean weight divided by the uniform
        weight ``1 / n_features_total``: above 1 means the family gets more than
        its share of attention). Rows are sorted by descending ``mean`` within
        each group, so the first row is the most attended family regardless of
        how many features it has.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_msfl.explain import family_weights
    >>> ranking = pd.DataFrame({
    ...     "feature": ["F0final_sma_amean", "F0final_sma_range", "mfcc_sma[1]_amean",
    ...                 "mfcc_sma[2]_amean"],
    ...     "weight": [0.4, 0.3, 0.2, 0.1]})
    >>> family_weights(ranking)
      lld_family  sum  mean  n_features  relative
    0      pitch  0.7  0.35           2       1.4
    1       mfcc  0.3  0.15           2       0.6
    """
    if level not in _LEVELS:
        raise ValueError(f"level must be one of {sorted(_LEVELS)}, got {level!r}.")
    if isinstance(ranking, pd.DataFrame):
        frame = ranking
    else:
        frame = _as_tidy(ranking)
    keys = _LEVELS[level]
    if not set(keys) <= set(frame.columns):
        families = feature_families(frame["feature"]).drop(columns="feature")
        frame = pd.concat([frame.reset_index(drop=True), families], axis=1)
    grouped = [GROUP] if GROUP in frame else []
    table = (
        frame.groupby(grouped + keys, sort=False)["weight"]
        .agg(sum="sum", mean="mean", n_features="size")
        .reset_index()
    )
    totals = frame.groupby(grouped, sort=False).size() if grouped else len(frame)
    n_total = table[GROUP].map(totals) if grouped else totals
    table["relative"] = table["mean"] * n_total
    order = [*grouped, "mean"]
    if grouped:
        group_order = {group: i for i, group in enumerate(frame[GROUP].unique())}
        table = table.sort_values(
            order, ascending=[True, False], kind="stable",
            key=lambda column: column.map(group_order) if column.name == GROUP else column,
        )
    else:
        table = table.sort_values("mean", ascending=False, kind="stable")
    return table.reset_index(drop=True)


def _top(ranking: pd.DataFrame, k: int) -> set:
    return set(ranking.nsmallest(k, "rank")["feature"]) if "rank" in ranking else set(
        ranking.nlargest(k, "weight", keep="first")["feature"]
    )


def topk_overlap(rankings, k=10) -> pd.DataFrame:
    """Count the features that the top-``k`` sets of every pair of rankings share.

    Parameters
    ----------
    rankings : DataFrame or dict of DataFrame
        Tidy rankings with a ``group`` column (``shared_features(..., by=...)``,
        :func:`monolingual_rankings`) or a mapping name -> ranking.
    k : int, default=10
        Size of the top sets.

    Returns
    -------
    pandas.DataFrame
        Square, symmetric matrix of overlap counts (diagonal = ``k``), rows and
        columns named by group.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_msfl.explain import topk_overlap
    >>> a = pd.DataFrame({"feature": ["f0", "f1", "f2"], "weight": [.5, .3, .2]})
    >>> b = pd.DataFrame({"feature": ["f2", "f1", "f0"], "weight": [.6, .3, .1]})
    >>> topk_overlap({"a": a, "b": b}, k=2)
       a  b
    a  2  1
    b  1  2
    """
    tops = {group: _top(frame, k) for group, frame in _groups(_as_tidy(rankings)).items()}
    names = list(tops)
    counts = [[len(tops[row] & tops[column]) for column in names] for row in names]
    return pd.DataFrame(counts, index=names, columns=names)


def _rank_correlations(a: pd.DataFrame, b: pd.DataFrame) -> tuple[float, float]:
    joined = a[["feature", "weight"]].merge(b[["feature", "weight"]], on="feature")
    if len(joined) < 2:
        return np.nan, np.nan
    x, y = joined["weight_x"].to_numpy(), joined["weight_y"].to_numpy()
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return np.nan, np.nan
    return float(stats.spearmanr(x, y)[0]), float(stats.kendalltau(x, y)[0])


def compare_rankings(msf_ranking, per_language_rankings, ks=(5, 10, 20)) -> pd.DataFrame:
    """Compare each language's own ranking with the multilingual (MSF) ranking.

    This is the analysis of the MSFL paper: how many of a language's top-``k``
    features are also among the top-``k`` MSFs, and how similar the full
    rankings are.

    Parameters
    ----------
    msf_ranking : DataFrame
        Ranking of the multilingual model (:func:`shared_features` without ``by``).
    per_language_rankings : DataFrame or dict of DataFrame
        Tidy rankings with a ``group`` column (from ``shared_features(...,
        by=languages)`` or :func:`monolingual_rankings`) or a mapping
        language -> ranking.
    ks : sequence of int, default=(5, 10, 20)
        Sizes of the top sets.

    Returns
    -------
    pandas.DataFrame
        One row per language with columns ``group``, ``overlap_top{k}`` for each
        ``k`` (number of the language's top-``k`` features among the top-``k``
        MSFs), ``spearman`` and ``kendall`` (rank correlations of the weights of
        the features both rankings contain; NaN when a ranking is constant).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_msfl.explain import compare_rankings
    >>> msf = pd.DataFrame({"feature": ["f0", "f1", "f2", "f3"], "weight": [.4, .3, .2, .1]})
    >>> de = pd.DataFrame({"feature": ["f0", "f2", "f1", "f3"], "weight": [.5, .3, .1, .1]})
    >>> compare_rankings(msf, {"de": de}, ks=(1, 2))
      group  overlap_top1  overlap_top2  spearman   kendall
    0    de             1             1  0.632456  0.547723
    """
    rows = []
    for group, ranking in _groups(_as_tidy(per_language_rankings)).items():
        row = {GROUP: group}
        for k in ks:
            row[f"overlap_top{k}"] = len(_top(ranking, k) & _top(msf_ranking, k))
        row["spearman"], row["kendall"] = _rank_correlations(msf_ranking, ranking)
        rows.append(row)
    return pd.DataFrame(rows)
