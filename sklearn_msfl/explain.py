"""Explain MSFL models: which acoustic features are shared across languages.

The attention weights of :class:`~sklearn_msfl.MultitaskSERClassifier` say how much
each input feature contributes to the pooled representation that all tasks share.
Averaged over utterances and ranked, they are the *multilingual shared features*
(MSFs) of the MSFL paper. This module ranks them, groups openSMILE feature names
into families a person can read (pitch, loudness, MFCC, ... x mean, range, ...),
compares per-language rankings with the multilingual one, checks attention
against a model-agnostic importance, and plots the results.

matplotlib is only needed for the ``plot_*`` functions (``pip install
sklearn-msfl[plots]``).
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, clone
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_consistent_length

from ._plotting import annotated_heatmap as _annotated_matrix
from ._plotting import import_pyplot

__all__ = [
    "LLD_FAMILIES",
    "FUNCTIONAL_FAMILIES",
    "AttentionLevelWarning",
    "FeatureFamily",
    "feature_family",
    "feature_families",
    "shared_features",
    "family_weights",
    "topk_overlap",
    "compare_rankings",
    "monolingual_rankings",
    "compare_with_permutation",
    "plot_shared_features",
    "plot_family_weights",
    "plot_topk_overlap",
]

#: LLD families in display order; every openSMILE name of IS09, IS10, ComParE_2016,
#: eGeMAPSv02 and emobase maps to one of them except ``"other"``.
LLD_FAMILIES = (
    "pitch",
    "loudness",
    "voice_quality",
    "formants",
    "mfcc",
    "spectral",
    "zero_crossing",
    "temporal",
    "other",
)

#: Functional families in display order.
FUNCTIONAL_FAMILIES = (
    "mean",
    "dispersion",
    "percentile",
    "range",
    "extremes",
    "slope",
    "moments",
    "peaks",
    "timing",
    "segments",
    "lpc",
    "other",
)

# The LLD part of a functional name ends at the smoothing marker (_sma, _sma3,
# _sma3nz), optionally followed by the delta marker and a band index:
# "mfcc_sma_de[3]_amean", "F0semitoneFrom27.5Hz_sma3nz_pctlrange0-2".
_NAME = re.compile(
    r"^(?P<lld>.+?)_sma(?:3nz|3)?(?P<delta>_de)?(?P<index>\[\d+\])?_(?P<functional>.+)$"
)

# First match wins, so the specific patterns (F1..F3 before F0, voice quality
# before generic spectral) come first. eGeMAPS' formant amplitudes relative to
# the F0 harmonic ("F3amplitudeLogRelF0") are harmonic differences like H1-A3,
# so they count as voice quality; formants are the frequencies and bandwidths. Patterns are matched against the LLD
# descriptor with openSMILE's "pcm_"/"pcm_fftMag_" prefixes removed.
_LLD_RULES = (
    ("voice_quality", r"jitter|shimmer|HNR|voiceProb|voicing|H1-H2|H1-A3|amplitudeLogRelF0"),
    ("formants", r"^F[1-5](frequency|bandwidth)"),
    ("pitch", r"^F0"),
    ("mfcc", r"mfcc"),
    ("loudness", r"loudness|intensity|energy|lengthL1norm|SoundLevel"),
    ("zero_crossing", r"zcr"),
    (
        "spectral",
        r"spectral|fband|audSpec_Rfilt|MelFreqBand|lspFreq|alphaRatio|hammarberg"
        r"|^slope|Sharpness",
    ),
)

_FUNCTIONAL_RULES = (
    ("lpc", r"^lp(c\d+|gain)$"),
    ("mean", r"^(a|q|rq|posa)mean$|^flatness$"),
    ("dispersion", r"^stddev(Norm)?$"),
    ("percentile", r"^(quartile\d|percentile[\d.]+)$"),
    ("range", r"^(range|iqr\d-\d|pctlrange\d-\d)$"),
    ("extremes", r"^(max|min)(Pos)?$"),
    ("slope", r"^(lin|q)reg|RisingSlope$|FallingSlope$"),
    ("moments", r"^(skewness|kurtosis)$"),
    ("peaks", r"[pP]eak|^minRangeRel$"),
    ("timing", r"^(up|down)leveltime\d+$|^(rise|fall|leftc|rightc)time$|^centroid$"),
    ("segments", r"[sS]egLen|^nnz$|^duration$|^numOnsets$|Segment"),
)

# eGeMAPS and IS10 also have a few turn-level descriptors without a functional.
_SPECIAL = {
    "loudnessPeaksPerSec": ("loudnessPeaks", "temporal", "peaks"),
    "VoicedSegmentsPerSec": ("voicedSegments", "temporal", "segments"),
    "MeanVoicedSegmentLengthSec": ("voicedSegmentLength", "temporal", "segments"),
    "StddevVoicedSegmentLengthSec": ("voicedSegmentLength", "temporal", "segments"),
    "MeanUnvoicedSegmentLength": ("unvoicedSegmentLength", "temporal", "segments"),
    "StddevUnvoicedSegmentLength": ("unvoicedSegmentLength", "temporal", "segments"),
    "equivalentSoundLevel_dBp": ("equivalentSoundLevel", "loudness", "mean"),
    "F0final__Turn_numOnsets": ("voicedOnsets", "temporal", "segments"),
    "F0final__Turn_duration": ("turnDuration", "temporal", "segments"),
}


class FeatureFamily(NamedTuple):
    """Families of one openSMILE functional, as returned by :func:`feature_family`.

    Attributes
    ----------
    lld : str
        The low-level descriptor, without openSMILE's prefixes and smoothing
        suffixes, band index kept (``"mfcc[3]"``, ``"F0final"``).
    lld_family : str
        One of :data:`LLD_FAMILIES`.
    functional : str
        The functional applied to the LLD contour (``"amean"``, ``"iqr1-3"``).
    functional_family : str
        One of :data:`FUNCTIONAL_FAMILIES`.
    is_delta : bool
        Whether the functional is of the LLD's first-order delta.

    Examples
    --------
    >>> from sklearn_msfl.explain import feature_family
    >>> family = feature_family("mfcc_sma_de[3]_amean")
    >>> family.lld_family, family.functional_family, family.is_delta
    ('mfcc', 'mean', True)
    """

    lld: str
    lld_family: str
    functional: str
    functional_family: str
    is_delta: bool


def _first_match(rules, text):
    for family, pattern in rules:
        if re.search(pattern, text):
            return family
    return "other"


@lru_cache(maxsize=16384)
def feature_family(name: str) -> FeatureFamily:
    """Return the LLD and functional families of one openSMILE feature name.

    Names follow openSMILE's ``<lld>_sma[_de][[i]]_<functional>`` pattern (IS09,
    IS10, ComParE_2016, eGeMAPSv02, emobase); names that do not are given the
    family ``"other"``.

    Parameters
    ----------
    name : str
        A feature name, e.g. ``"F0final_sma_de_iqr1-3"``.

    Returns
    -------
    FeatureFamily
        Named tuple ``(lld, lld_family, functional, functional_family, is_delta)``.

    Examples
    --------
    >>> from sklearn_msfl.explain import feature_family
    >>> feature_family("F0final_sma_de_iqr1-3")
    FeatureFamily(lld='F0final', lld_family='pitch', functional='iqr1-3', functional_family='range', is_delta=True)
    >>> feature_family("mfcc_sma[3]_amean").lld_family
    'mfcc'
    >>> feature_family("x7").lld_family
    'other'
    """
    if name in _SPECIAL:
        lld, lld_family, functional_family = _SPECIAL[name]
        return FeatureFamily(lld, lld_family, name, functional_family, False)
    match = _NAME.match(name)
    if match is None:
        return FeatureFamily(name, "other", "", "other", False)
    lld = re.sub(r"^pcm_(fftMag_)?", "", match["lld"])
    functional = match["functional"]
    is_delta = match["delta"] is not None
    # ComParE's F0 segment functionals read "F0final_sma_ff0_de_meanSegLen".
    segment = re.match(r"^ff0_(de_)?(.+)$", functional)
    if segment:
        is_delta = is_delta or segment[1] is not None
        functional = segment[2]
    return FeatureFamily(
        lld=lld + (match["index"] or ""),
        lld_family=_first_match(_LLD_RULES, lld),
        functional=functional,
        functional_family=_first_match(_FUNCTIONAL_RULES, functional),
        is_delta=is_delta,
    )


def feature_families(names) -> pd.DataFrame:
    """Group feature names into LLD and functional families.

    Parameters
    ----------
    names : iterable of str
        openSMILE feature names, e.g. ``OpenSmileTransformer().get_feature_names_out()``.

    Returns
    -------
    pandas.DataFrame
        One row per name, in input order, with columns ``feature``, ``lld``,
        ``lld_family``, ``functional``, ``functional_family`` and ``is_delta``
        (see :class:`FeatureFamily`).

    Examples
    --------
    >>> from sklearn_msfl.explain import feature_families
    >>> names = ["pcm_loudness_sma_amean", "jitterLocal_sma_de_stddev",
    ...          "pcm_fftMag_spectralFlux_sma_quartile1"]
    >>> feature_families(names)[["lld_family", "functional_family", "is_delta"]]
          lld_family functional_family  is_delta
    0       loudness              mean     False
    1  voice_quality        dispersion      True
    2       spectral        percentile     False
    """
    names = [str(name) for name in names]
    rows = [feature_family(name) for name in names]
    frame = pd.DataFrame(rows, columns=list(FeatureFamily._fields))
    frame.insert(0, "feature", names)
    frame["is_delta"] = frame["is_delta"].astype(bool)
    return frame


# ----------------------------------------------------------------------------
# rankings
# ----------------------------------------------------------------------------
GROUP = "group"
"""Name of the column that holds the group label (language, emotion, ...) in tidy rankings."""


def _split_pipeline(estimator, X):
    """Return the attention model, ``X`` as that model sees it, and the pipeline's names."""
    if not isinstance(estimator, Pipeline):
        return estimator, X, None
    head = estimator[:-1]
    Xt = head.transform(X)
    try:
        names = head.get_feature_names_out()
    except (AttributeError, ValueError, TypeError):
        # A preceding step without get_feature_names_out: fall back to the model's.
        names = None
    return estimator[-1], Xt, names


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
    """The model's attention weights do not tell every feature apart."""


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


def shared_features(estimator, X, feature_names=None, by=None) -> pd.DataFrame:
    """Rank input features by their attention weight averaged over utterances.

    The features ranked first are the multilingual shared features (MSFs): those
    the attention pooling of a model trained on several languages relies on.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
        A fitted :class:`~sklearn_msfl.MultitaskSERClassifier` (anything with
        ``attention_weights(X)``), or a fitted Pipeline ending in one, in which
        case ``X`` is transformed by the preceding steps first.
    X : array-like, DataFrame or list of signals
        Input of ``estimator`` (signals for a pipeline that extracts features).
    feature_names : sequence of str, default=None
        Names of the model's input features. When None, taken from the
        pipeline's ``pipeline[:-1].get_feature_names_out()``, else from the
        model's ``feature_names_in_``, else ``x0, x1, ...``. Names given here
        take precedence.
    by : array-like of shape (n_samples,), default=None
        Group label of each utterance (language, emotion, ...). When given,
        every group gets its own ranking from the mean over its utterances.

    Returns
    -------
    pandas.DataFrame
        One row per feature (per group), sorted by descending ``weight`` (within
        each group), with columns ``feature``, ``weight``, ``rank`` (1 = most
        attended) and the :func:`feature_families` columns ``lld``,
        ``lld_family``, ``functional``, ``functional_family``, ``is_delta``;
        with ``by``, a leading ``group`` column. Weights of one group sum to 1.
        ``attrs["attention_level"]`` says what was ranked.

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


# ----------------------------------------------------------------------------
# comparisons of rankings
# ----------------------------------------------------------------------------
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


def _main_column(y, main_task=None, task_names=None):
    """The main-task labels of ``y``: ``y`` itself when 1-D, else the ``main_task`` column.

    ``main_task`` is a column name or position (None: the first column), as the
    estimator's ``main_task`` parameter or fitted ``main_task_`` attribute.
    """
    if isinstance(y, pd.DataFrame):
        if isinstance(main_task, str) and main_task in y.columns:
            return y[main_task]
        position = main_task if isinstance(main_task, int) else 0
        return y.iloc[:, position]
    array = np.asarray(y)
    if array.ndim < 2:
        return y
    if isinstance(main_task, str) and task_names is not None and main_task in task_names:
        return array[:, list(task_names).index(main_task)]
    return array[:, main_task if isinstance(main_task, int) else 0]


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
    y_main = _main_column(y, getattr(_final_step(estimator), "main_task", None))
    frames = []
    for language in np.unique(languages):
        index = np.flatnonzero(languages == language)
        X_language = _safe_indexing(X, index)
        model = clone(estimator).fit(X_language, _safe_indexing(y_main, index))
        ranking = shared_features(model, X_language, feature_names)
        ranking.insert(0, GROUP, language)
        frames.append(ranking)
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------
# attention versus permutation importance
# ----------------------------------------------------------------------------
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
        np.asarray(
            _main_column(y, getattr(model, "main_task_", None), getattr(model, "task_names_", None))
        ),
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


# ----------------------------------------------------------------------------
# plots
# ----------------------------------------------------------------------------
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
