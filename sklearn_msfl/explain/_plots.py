"""Plots of rankings: top features, family weights, top-k overlap (needs matplotlib)."""

from __future__ import annotations

import numpy as np

from ..evaluation._plotting import annotated_heatmap as _annotated_matrix, import_pyplot
from ._comparisons import _LEVELS, _as_tidy, family_weights, topk_overlap
from ._families import FUNCTIONAL_FAMILIES, LLD_FAMILIES, feature_families
from ._rankings import GROUP


def _family_colors(families):
    plt = import_pyplot()
    palette = plt.get_cmap("tab10")
    return {family: palette(i % 10) for i, family in enumerate(LLD_FAMILIES) if family in families}


def plot_shared_features(ranking, k=20, *, ax=None, title=None):
    """Bar chart of the ``k`` most attended features, coloured by LLD family.

    Parameters
    ----------
    ranking : DataFrame
        One ranking from :func:`shared_features` (select one group of a tidy
        ranking first).
    k : int, default=20
        Number of features to show.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure when None.
    title : str, default=None
        Axes title; "Top-k multilingual shared features" when None.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from sklearn_msfl.explain import plot_shared_features
    >>> ranking = pd.DataFrame({"feature": ["F0final_sma_range", "mfcc_sma[1]_amean"],
    ...                         "weight": [0.7, 0.3], "rank": [1, 2]})
    >>> ax = plot_shared_features(ranking, k=2)
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['F0final_sma_range', 'mfcc_sma[1]_amean']
    """
    plt = import_pyplot()
    if GROUP in ranking and ranking[GROUP].nunique() > 1:
        raise ValueError("Select one group of a tidy ranking: ranking[ranking.group == g].")
    top = ranking.sort_values("weight", ascending=False, kind="stable").head(k)
    families = feature_families(top["feature"])["lld_family"].to_numpy()
    colors = _family_colors(set(families))
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.3 * len(top) + 1.5), layout="constrained")
    positions = np.arange(len(top))[::-1]
    ax.barh(positions, top["weight"], color=[colors[family] for family in families])
    ax.set_yticks(positions, top["feature"])
    ax.set_xlabel("mean attention weight")
    ax.set_title(title or f"Top-{len(top)} multilingual shared features")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[family]) for family in colors]
    ax.legend(handles, list(colors), title="LLD family", fontsize="small",
              loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return ax


def plot_family_weights(rankings, level="lld", value="relative", *, ax=None):
    """Heat map of family weights, one row per group (language, MSF, ...).

    Parameters
    ----------
    rankings : DataFrame or dict of DataFrame
        Tidy rankings with a ``group`` column or a mapping name -> ranking, e.g.
        ``{"MSF": msf, **per_language}``.
    level : {"lld", "functional"}, default="lld"
        Family level of the columns.
    value : {"relative", "mean", "sum"}, default="relative"
        Column of :func:`family_weights` to show; ``relative`` (mean weight over
        uniform weight) compares families of different sizes.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from sklearn_msfl.explain import plot_family_weights
    >>> ranking = pd.DataFrame({"feature": ["F0final_sma_range", "mfcc_sma[1]_amean"],
    ...                         "weight": [0.7, 0.3]})
    >>> ax = plot_family_weights({"MSF": ranking, "de": ranking})
    >>> [label.get_text() for label in ax.get_xticklabels()]
    ['pitch', 'mfcc']
    """
    if level not in ("lld", "functional"):
        raise ValueError(f"level must be 'lld' or 'functional', got {level!r}.")
    plt = import_pyplot()
    tidy = _as_tidy(rankings)
    table = family_weights(tidy, level=level)
    column = _LEVELS[level][0]
    matrix = table.pivot(index=GROUP, columns=column, values=value)
    order = LLD_FAMILIES if level == "lld" else FUNCTIONAL_FAMILIES
    matrix = matrix.reindex(index=list(tidy[GROUP].unique()),
                            columns=[family for family in order if family in matrix.columns])
    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 * matrix.shape[1] + 2.5, 0.5 * matrix.shape[0] + 2),
                             layout="constrained")
    _annotated_matrix(ax, matrix, ".2f" if value != "sum" else ".3f", "viridis",
                      f"{value} attention weight")
    ax.set_title("Attention per " + ("LLD family" if level == "lld" else "functional family"))
    return ax


def plot_topk_overlap(rankings, k=10, *, ax=None):
    """Heat map of how many top-``k`` features every pair of rankings shares.

    Parameters
    ----------
    rankings : DataFrame or dict of DataFrame
        Tidy rankings with a ``group`` column or a mapping name -> ranking.
    k : int, default=10
        Size of the top sets.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from sklearn_msfl.explain import plot_topk_overlap
    >>> a = pd.DataFrame({"feature": ["f0", "f1", "f2"], "weight": [.5, .3, .2]})
    >>> b = pd.DataFrame({"feature": ["f2", "f1", "f0"], "weight": [.6, .3, .1]})
    >>> ax = plot_topk_overlap({"a": a, "b": b}, k=2)
    >>> ax.get_title()
    'Shared top-2 features'
    """
    plt = import_pyplot()
    matrix = topk_overlap(rankings, k=k)
    if ax is None:
        size = 0.7 * len(matrix) + 2.5
        _, ax = plt.subplots(figsize=(size + 1, size), layout="constrained")
    _annotated_matrix(ax, matrix, ".0f", "Blues", "shared features")
    ax.set_title(f"Shared top-{k} features")
    return ax
