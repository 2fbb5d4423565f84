"""Speaker-level bootstrap of the difference in pooled UAR (or WA) between two estimators.

The pooled UAR of a multi-corpus benchmark is the mean over languages of each language's
UAR on its predictions pooled over the folds. Its uncertainty comes from which speakers
the corpora happen to hold: utterances of one speaker are not independent, so the unit
resampled is the speaker. Every resample draws speakers with replacement within each
language (a stratum: every language keeps its weight in the mean) and recomputes both
estimators' pooled scores on the same speakers, so the difference is paired.

Within a language of ``n`` speakers, ``n - 1`` speakers are drawn (the with-replacement
bootstrap of McCarthy & Snowden 1985, the ``m = n - 1`` case of Rao & Wu 1988): drawing
``n`` underestimates the variance of a stratum mean by the factor ``(n - 1) / n``, which
matters for corpora of 4 speakers (SAVEE, CASIA), where it is 0.75.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

__all__ = ["BootstrapDifference", "bootstrap_difference"]

_METRICS = ("uar", "wa")


@dataclass
class BootstrapDifference:
    """Speaker-bootstrap distribution of ``score(a) - score(b)``, scores pooled over languages.

    Attributes
    ----------
    a, b : str
        The estimators; the difference is ``a - b``.
    metric : {"uar", "wa"}
        Each language's score on its predictions pooled over the folds (and over the
        prediction rows of a sample, e.g. seeds), averaged over the languages.
    difference : float
        The observed difference (all speakers once).
    low, high : float
        The percentile interval of the resampled differences at ``confidence``.
    confidence : float
        The interval's nominal coverage.
    win_share : float
        Share of resamples in which ``a`` scores strictly higher than ``b``.
    n_resamples : int
        Bootstrap resamples.
    speakers : dict of str to int
        Speakers per language (the stratum sizes).
    differences : ndarray of shape (n_resamples,)
        The resampled differences.

    Examples
    --------
    >>> import pandas as pd
    >>> predictions = pd.DataFrame({
    ...     "estimator": ["m"] * 4 + ["n"] * 4, "sample": [0, 1, 2, 3] * 2,
    ...     "language": ["de"] * 8, "y_true": ["a", "b", "a", "b"] * 2,
    ...     "y_pred": ["a", "b", "a", "b", "a", "a", "a", "a"]})
    >>> result = bootstrap_difference(predictions, "m", "n", ["s1", "s1", "s2", "s2"],
    ...                               n_resamples=200, random_state=0)
    >>> type(result).__name__, result.difference, result.win_share
    ('BootstrapDifference', 0.5, 1.0)
    """

    a: str
    b: str
    metric: str
    difference: float
    low: float
    high: float
    confidence: float
    win_share: float
    n_resamples: int
    speakers: dict
    differences: np.ndarray = field(repr=False)

    def __str__(self) -> str:
        return (
            f"{self.a} - {self.b} (pooled {self.metric.upper()}, mean over languages): "
            f"{self.difference:+.4f}, {100 * self.confidence:g}% speaker-bootstrap interval "
            f"[{self.low:+.4f}, {self.high:+.4f}]; {self.a} higher in "
            f"{100 * self.win_share:.1f}% of {self.n_resamples} resamples"
        )


def _speaker_ids(speakers, n_samples: int | None) -> np.ndarray:
    """One speaker ID per sample position, from IDs or corpus and speaker columns."""
    if isinstance(speakers, pd.DataFrame):
        values = speakers.astype(str).agg("/".join, axis=1).to_numpy()
    else:
        values = np.asarray(speakers, dtype=object)
        if values.ndim == 2:
            values = np.array(["/".join(map(str, row)) for row in values], dtype=object)
    if values.ndim != 1:
        raise ValueError(f"speakers must be 1-D or two columns, got shape {values.shape}.")
    if n_samples is not None and len(values) < n_samples:
        raise ValueError(
            f"speakers has {len(values)} entries, but the predictions reach sample position "
            f"{n_samples - 1}: give the speaker of every row of X."
        )
    return values.astype(str)


def _counts(right: np.ndarray, clusters: np.ndarray, classes: np.ndarray, n_clusters: int,
            n_classes: int) -> tuple:
    """(right, total): per speaker cluster and class, the prediction rows right and in all."""
    total = np.zeros((n_clusters, n_classes))
    correct = np.zeros((n_clusters, n_classes))
    np.add.at(total, (clusters, classes), 1.0)
    np.add.at(correct, (clusters, classes), right)
    return correct, total


def _pooled_scores(weights: np.ndarray, right: np.ndarray, total: np.ndarray,
                   strata: list[np.ndarray]) -> np.ndarray:
    """Per resample (row of ``weights``): the mean over strata of the mean class recall."""
    means = []
    for clusters in strata:
        w = weights[:, clusters]
        seen = w @ total[clusters]
        with np.errstate(invalid="ignore", divide="ignore"):
            recall = np.where(seen > 0, (w @ right[clusters]) / seen, np.nan)
        means.append(np.nanmean(recall, axis=1))
    return np.mean(means, axis=0)


def _resample_weights(strata: list[np.ndarray], n_clusters: int, n_resamples: int,
                      random_state) -> np.ndarray:
    """How often every speaker is drawn: ``n - 1`` draws within a stratum of ``n``."""
    rng = check_random_state(random_state)
    weights = np.zeros((n_resamples, n_clusters))
    for clusters in strata:
        draws = max(len(clusters) - 1, 1)
        weights[:, clusters] = rng.multinomial(draws, np.full(len(clusters), 1 / len(clusters)),
                                               size=n_resamples)
    return weights


def bootstrap_difference(predictions: pd.DataFrame, a: str, b: str, speakers, *,
                         metric: str = "uar", n_resamples: int = 1000,
                         confidence: float = 0.95, random_state=None) -> BootstrapDifference:
    """Speaker-level bootstrap of the pooled-score difference ``a - b``.

    Parameters
    ----------
    predictions : pandas.DataFrame
        Prediction rows with columns ``estimator``, ``sample`` (position in ``X``),
        ``language``, ``y_true`` and ``y_pred``, as in
        :attr:`~sklearn_msfl.evaluation.EvaluationResult.predictions`. A sample may have
        several rows (e.g. one per seed): they all count, so with the same number of rows
        per sample the pooled UAR is the mean over those rows' runs of their pooled UARs.
    a, b : str
        Estimators to compare; both must predict the same samples.
    speakers : array-like of shape (n_samples,) or (n_samples, 2), or pandas.DataFrame
        The speaker of every sample position of ``X``, or corpus and speaker columns.
    metric : {"uar", "wa"}, default="uar"
        ``"uar"``: each language's mean class recall; ``"wa"``: its accuracy.
    n_resamples : int, default=1000
        Bootstrap resamples.
    confidence : float, default=0.95
        Coverage of the percentile interval.
    random_state : int, RandomState instance or None, default=None
        Seeds the resampling.

    Returns
    -------
    result : BootstrapDifference
        The observed difference, the interval, the share of resamples that ``a`` wins and
        the resampled differences.

    Examples
    --------
    >>> import pandas as pd
    >>> predictions = pd.DataFrame({
    ...     "estimator": ["m"] * 4 + ["n"] * 4, "sample": [0, 1, 2, 3] * 2,
    ...     "language": ["de"] * 8, "y_true": ["a", "b", "a", "b"] * 2,
    ...     "y_pred": ["a", "b", "a", "a", "a", "a", "a", "a"]})
    >>> result = bootstrap_difference(predictions, "m", "n", ["s1", "s1", "s2", "s2"],
    ...                               random_state=0)
    >>> result.difference, result.speakers
    (0.25, {'de': 2})
    """
    if metric not in _METRICS:
        raise ValueError(f"Unknown metric {metric!r}; choose from {_METRICS}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}.")
    if int(n_resamples) < 1:
        raise ValueError(f"n_resamples must be a positive int, got {n_resamples!r}.")
    estimators = predictions["estimator"].to_numpy()
    for name in (a, b):
        if not (estimators == name).any():
            raise KeyError(f"Unknown estimator {name!r}; known: {list(pd.unique(estimators))}.")
    predictions = predictions[(estimators == a) | (estimators == b)]
    estimators = predictions["estimator"].to_numpy()
    rows = {name: estimators == name for name in (a, b)}
    samples = predictions["sample"].to_numpy()
    if set(samples[rows[a]]) != set(samples[rows[b]]):
        raise ValueError(f"{a!r} and {b!r} predict different samples: no paired comparison.")

    # A cluster is a speaker within a language; the languages are the strata.
    ids = _speaker_ids(speakers, int(samples.max()) + 1)
    language_codes, languages = pd.factorize(predictions["language"].astype(str), sort=True)
    speaker_codes, _ = pd.factorize(ids[samples])
    keys, clusters = np.unique(language_codes * (speaker_codes.max() + 1) + speaker_codes,
                               return_inverse=True)
    stratum_of = keys // (speaker_codes.max() + 1)
    strata = [np.flatnonzero(stratum_of == code) for code in np.unique(stratum_of)]
    y_true, y_pred = predictions["y_true"].to_numpy(), predictions["y_pred"].to_numpy()
    right = (y_true == y_pred).astype(float)
    if metric == "uar":
        classes, names = pd.factorize(y_true)
        n_classes = len(names)
    else:  # accuracy: the recall of a single class that holds every row
        classes, n_classes = np.zeros(len(y_true), dtype=int), 1
    counts = {name: _counts(right[mask], clusters[mask], classes[mask], len(keys), n_classes)
              for name, mask in rows.items()}

    weights = _resample_weights(strata, len(keys), int(n_resamples), random_state)
    ones = np.ones((1, len(keys)))
    observed = (_pooled_scores(ones, *counts[a], strata)
                - _pooled_scores(ones, *counts[b], strata))[0]
    differences = (_pooled_scores(weights, *counts[a], strata)
                   - _pooled_scores(weights, *counts[b], strata))
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(differences, [tail, 100 - tail])
    return BootstrapDifference(
        a=a, b=b, metric=metric, difference=float(observed), low=float(low), high=float(high),
        confidence=float(confidence), win_share=float(np.mean(differences > 0)),
        n_resamples=int(n_resamples),
        speakers={str(languages[code]): len(stratum)
                  for code, stratum in zip(np.unique(stratum_of), strata)},
        differences=differences,
    )
