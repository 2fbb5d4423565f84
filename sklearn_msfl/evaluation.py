"""Speaker-independent evaluation of one or several estimators on the same folds.

:func:`evaluate` cross-validates every estimator over identical folds, fitting
multitask estimators (final step has ``predict_tasks``) with all task columns of
``y`` and single-task estimators (e.g. an SVM baseline) with the main column only.
It scores UAR (unweighted average recall, i.e. balanced accuracy) and WA
(weighted accuracy, i.e. accuracy) per fold, per language and overall, and returns
an :class:`EvaluationResult` with tables, confusion matrices, paired comparisons
and plots.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats
from sklearn.base import clone
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import recall_score
from sklearn.model_selection import GroupKFold, check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_consistent_length
from tqdm.auto import tqdm

from ._plotting import import_pyplot
from .metrics import final_estimator, is_multitask

__all__ = ["evaluate", "EvaluationResult", "PairedComparison"]

ALL = "all"
"""Language label of the rows that pool every language of a fold."""

_METRICS = ("uar", "wa")
# Below this many paired folds the two-sided Wilcoxon test cannot reach p < 0.05
# (its floor is 2 / 2**n: 0.0625 for 5 folds), and the t-test has little power.
_FEW_FOLDS = 6


# ----------------------------------------------------------------------------
# scoring helpers
# ----------------------------------------------------------------------------
def _uar_score(y_true, y_pred) -> float:
    """Unweighted average recall over the classes present in ``y_true``.

    Equal to :func:`~sklearn_msfl.metrics.uar_score` (balanced accuracy), but
    silent when ``y_pred`` holds classes absent from ``y_true``, which is common
    when scoring one language whose corpus lacks some emotions.
    """
    present = np.unique(np.asarray(y_true))
    return float(recall_score(y_true, y_pred, labels=present, average="macro", zero_division=0))


def _wa_score(y_true, y_pred) -> float:
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def _check_main_task(model, name: str) -> None:
    """A fitted multitask model must predict the first column of ``y``, which is scored."""
    final = final_estimator(model)
    task_names = list(getattr(final, "task_names_", None) or [])
    main_task = getattr(final, "main_task_", None)
    if task_names and main_task is not None and main_task != task_names[0]:
        raise ValueError(
            f"Estimator {name!r} predicts the task {main_task!r}, but evaluate() scores the "
            f"first column of y ({task_names[0]!r}): put the main task first in y."
        )


# ----------------------------------------------------------------------------
# input handling
# ----------------------------------------------------------------------------
def _estimator_name(estimator) -> str:
    return type(final_estimator(estimator)).__name__


def _as_estimator_dict(estimators) -> dict:
    if not isinstance(estimators, dict):
        estimators = {_estimator_name(estimators): estimators}
    if not estimators:
        raise ValueError("`estimators` is empty: pass one estimator or a dict name -> estimator.")
    for name, estimator in estimators.items():
        if not isinstance(name, str) or name == "":
            raise TypeError(f"Estimator names must be non-empty strings, got {name!r}.")
        if not (hasattr(estimator, "fit") and hasattr(estimator, "predict")):
            raise TypeError(f"Estimator {name!r} has no fit/predict: {estimator!r}.")
    return dict(estimators)


def _main_labels(y) -> np.ndarray:
    """The main task (first column of a 2-D ``y``) as a 1-D array."""
    if isinstance(y, pd.DataFrame):
        if y.shape[1] == 0:
            raise ValueError("`y` is a DataFrame without columns; it needs one column per task.")
        return y.iloc[:, 0].to_numpy()
    y = np.asarray(y)
    if y.ndim == 2:
        if y.shape[1] == 0:
            raise ValueError("`y` has no columns; it needs one column per task.")
        return y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"`y` must be 1-D or 2-D, got shape {y.shape}.")
    return y


def _resolve_languages(languages, X, y, n_samples: int):
    """Explicit ``languages``, else a ``language`` column of ``y``, else of ``X``."""
    if languages is None:
        for frame in (y, X):
            if isinstance(frame, pd.DataFrame) and "language" in frame.columns:
                languages = frame["language"]
                break
        else:
            return None
    languages = np.asarray(languages, dtype=object)
    if languages.ndim != 1 or len(languages) != n_samples:
        raise ValueError(
            f"`languages` must hold one language per sample ({n_samples}), "
            f"got shape {languages.shape}."
        )
    if any(language == ALL for language in languages):
        raise ValueError(f"{ALL!r} is reserved for the pooled rows; rename that language.")
    return languages


def _default_cv(n_splits: int, X, groups):
    """Speaker-independent folds whenever speakers are known, else stratified ones.

    Corpus and speaker (two-column ``groups``, or ``corpus`` and ``speaker``
    columns of a DataFrame ``X``) give folds within each corpus; speakers alone
    give :class:`~sklearn.model_selection.GroupKFold`.
    """
    from .model_selection import CorpusSpeakerKFold

    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame()
    if groups is None:
        if {"corpus", "speaker"} <= set(frame.columns):
            return CorpusSpeakerKFold(n_splits), None
        if "speaker" in frame.columns:
            return GroupKFold(n_splits), frame["speaker"]
        return None, None
    if np.ndim(groups) == 2 or "corpus" in frame.columns:
        return CorpusSpeakerKFold(n_splits), groups
    return GroupKFold(n_splits), groups


def _resolve_folds(cv, X, y_main, groups) -> list[tuple[np.ndarray, np.ndarray]]:
    """Materialise the folds once so that every estimator sees the same ones."""
    splitter = None
    if cv is None or isinstance(cv, Integral):
        splitter, groups = _default_cv(5 if cv is None else int(cv), X, groups)
    if splitter is None:
        splitter = check_cv(cv, y_main, classifier=True)
    folds = [(np.asarray(tr), np.asarray(te)) for tr, te in splitter.split(X, y_main, groups)]
    if not folds:
        raise ValueError("The cross-validator produced no folds.")
    return folds


# ----------------------------------------------------------------------------
# running
# ----------------------------------------------------------------------------
def _fit_predict(name, estimator, fold, X, y, y_main, train, test, keep_estimator):
    """Fit a clone on ``train`` and predict the main task on ``test``."""
    model = clone(estimator)
    multitask = is_multitask(estimator)
    y_fit = y if multitask else y_main
    start = time.perf_counter()
    model.fit(_safe_indexing(X, train), _safe_indexing(y_fit, train))
    fit_time = time.perf_counter() - start
    if multitask:
        _check_main_task(model, name)
    start = time.perf_counter()
    y_pred = np.asarray(model.predict(_safe_indexing(X, test)))
    predict_time = time.perf_counter() - start
    return {
        "estimator": name,
        "fold": fold,
        "y_pred": y_pred.ravel(),
        "fit_time": fit_time,
        "predict_time": predict_time,
        "model": model if keep_estimator else None,
    }


def _run_all(estimators, folds, X, y, y_main, n_jobs, verbose, keep_estimators):
    tasks = [
        delayed(_fit_predict)(name, est, fold, X, y, y_main, train, test, keep_estimators)
        for name, est in estimators.items()
        for fold, (train, test) in enumerate(folds)
    ]
    runs = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
    records = []
    with tqdm(total=len(tasks), desc="evaluate", disable=not verbose) as progress:
        for record in runs:
            progress.set_postfix_str(f"{record['estimator']} fold {record['fold']}")
            progress.update()
            records.append(record)
    return records


def _prediction_frame(records, folds, y_main, languages) -> pd.DataFrame:
    frames = []
    for record in records:
        test = folds[record["fold"]][1]
        frames.append(
            pd.DataFrame(
                {
                    "estimator": record["estimator"],
                    "fold": record["fold"],
                    "sample": test,
                    "language": ALL if languages is None else languages[test],
                    "y_true": y_main[test],
                    "y_pred": record["y_pred"],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _score_rows(predictions: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """UAR, WA and test size for every group of ``keys``, pooled over languages too."""
    rows = []
    for key, part in predictions.groupby(keys, sort=False):
        scopes = [(ALL, part)]
        if not (part["language"] == ALL).all():
            scopes += list(part.groupby("language", sort=True))
        for language, subset in scopes:
            rows.append(
                dict(
                    zip(keys, key),
                    language=language,
                    uar=_uar_score(subset["y_true"], subset["y_pred"]),
                    wa=_wa_score(subset["y_true"], subset["y_pred"]),
                    n_test=len(subset),
                )
            )
    return pd.DataFrame(rows)


def _score_frame(records, predictions) -> pd.DataFrame:
    scores = _score_rows(predictions, ["estimator", "fold"])
    times = pd.DataFrame(
        [{k: r[k] for k in ("estimator", "fold", "fit_time", "predict_time")} for r in records]
    )
    return scores.merge(times, on=["estimator", "fold"], how="left")


def evaluate(
    estimators,
    X,
    y,
    *,
    groups=None,
    languages=None,
    cv=None,
    n_jobs=None,
    verbose=True,
    return_estimators=False,
) -> EvaluationResult:
    """Cross-validate estimators on identical folds; score UAR and WA per language.

    Every estimator is cloned and fitted once per fold. Multitask estimators (whose
    final step has ``predict_tasks``) are fitted with all task columns of ``y``;
    single-task estimators with its first (main) column only, so that a baseline
    such as an SVM and MSFL are compared on the same folds in one call.

    Parameters
    ----------
    estimators : estimator or dict of str to estimator
        The models to compare. A single estimator is named after its (final
        step's) class.
    X : array-like or DataFrame of shape (n_samples, ...)
        Features, or the corpus DataFrame when the estimators are pipelines
        that extract features themselves.
    y : array-like of shape (n_samples,) or DataFrame of shape (n_samples, n_tasks)
        Labels. A 2-D ``y`` holds one column per task, the first being the main
        task (emotion) that is predicted and scored.
    groups : array-like of shape (n_samples,) or (n_samples, 2), default=None
        Speaker of each sample, or ``df[["corpus", "speaker"]]``, passed to
        ``cv.split``. See ``cv`` for the default folds.
    languages : array-like of shape (n_samples,), default=None
        Language of each sample for per-language scores. Defaults to a
        ``language`` column of ``y``, else of ``X``; without one, only the pooled
        (``"all"``) scores are reported.
    cv : int, cross-validation generator or iterable, default=None
        Fold definition as in :func:`sklearn.model_selection.cross_validate`.
        ``None`` means 5 folds. With an int or ``None``, folds are speaker
        independent whenever speakers are known:
        :class:`~sklearn_msfl.model_selection.CorpusSpeakerKFold` (unseen
        speakers of every corpus in each fold) when the corpus is known too
        (two-column ``groups``, or a ``corpus`` column of a DataFrame ``X``),
        :class:`~sklearn.model_selection.GroupKFold` over ``groups`` (or a
        ``speaker`` column of ``X``) otherwise, and
        :class:`~sklearn.model_selection.StratifiedKFold` without speakers.
    n_jobs : int, default=None
        Folds (times estimators) to run in parallel with joblib.
    verbose : bool, default=True
        Show a progress bar over estimators x folds.
    return_estimators : bool, default=False
        Keep the fitted estimator of every fold in ``result.estimators``.

    Returns
    -------
    result : EvaluationResult
        Per-fold scores, per-sample predictions, folds and summaries.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.svm import SVC
    >>> X, y = make_classification(n_samples=120, n_classes=3, n_informative=4,
    ...                            random_state=0)
    >>> languages = ["de", "en", "ur"] * 40
    >>> result = evaluate({"chance": DummyClassifier(), "svm": SVC()}, X, y,
    ...                   languages=languages, cv=3, verbose=False)
    >>> sorted(result.scores["language"].unique())
    ['all', 'de', 'en', 'ur']
    >>> result.summary().loc[("chance", "all"), "uar_mean"]
    np.float64(0.3333333333333333)
    >>> bool(result.compare("svm", "chance").mean_difference > 0.2)
    True
    """
    estimators = _as_estimator_dict(estimators)
    check_consistent_length(X, y, groups)
    y_main = _main_labels(y)
    languages = _resolve_languages(languages, X, y, len(y_main))
    folds = _resolve_folds(cv, X, y_main, groups)
    records = _run_all(estimators, folds, X, y, y_main, n_jobs, verbose, return_estimators)
    predictions = _prediction_frame(records, folds, y_main, languages)
    kept = None
    if return_estimators:
        kept = {name: [None] * len(folds) for name in estimators}
        for record in records:
            kept[record["estimator"]][record["fold"]] = record["model"]
    return EvaluationResult(
        scores=_score_frame(records, predictions),
        predictions=predictions,
        labels=np.unique(y_main),
        folds=folds,
        estimators=kept,
    )


# ----------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------
@dataclass
class PairedComparison:
    """Paired comparison of two estimators over the same folds.

    ``mean_difference`` is ``mean_a - mean_b``; the p-values are two-sided, from
    :func:`scipy.stats.ttest_rel` and :func:`scipy.stats.wilcoxon` over the
    per-fold scores. ``note`` warns when there are too few folds for the tests
    to be meaningful.

    Examples
    --------
    >>> comparison = PairedComparison.from_scores(
    ...     "msfl", "svm", [0.6, 0.7, 0.65], [0.5, 0.6, 0.6])
    >>> round(comparison.mean_difference, 3)
    0.083
    >>> comparison.n_folds, comparison.wilcoxon_pvalue
    (3, 0.25)
    """

    a: str
    b: str
    metric: str
    language: str
    n_folds: int
    mean_a: float
    mean_b: float
    mean_difference: float
    std_difference: float
    t_statistic: float
    t_pvalue: float
    wilcoxon_statistic: float
    wilcoxon_pvalue: float
    note: str = ""

    @classmethod
    def from_scores(cls, a, b, scores_a, scores_b, *, metric="uar", language=ALL):
        """Compare two paired sequences of per-fold scores."""
        scores_a = np.asarray(scores_a, dtype=float)
        scores_b = np.asarray(scores_b, dtype=float)
        if scores_a.shape != scores_b.shape or scores_a.ndim != 1:
            raise ValueError("Paired scores need two 1-D sequences of equal length.")
        diff = scores_a - scores_b
        t_stat, t_p, w_stat, w_p = _paired_tests(diff)
        n = len(diff)
        return cls(
            a=a,
            b=b,
            metric=metric,
            language=language,
            n_folds=n,
            mean_a=float(scores_a.mean()) if n else np.nan,
            mean_b=float(scores_b.mean()) if n else np.nan,
            mean_difference=float(diff.mean()) if n else np.nan,
            std_difference=float(diff.std(ddof=1)) if n > 1 else np.nan,
            t_statistic=t_stat,
            t_pvalue=t_p,
            wilcoxon_statistic=w_stat,
            wilcoxon_pvalue=w_p,
            note=_few_folds_note(n),
        )

    def __str__(self) -> str:
        text = (
            f"{self.a} - {self.b} ({self.metric.upper()}, {self.language}): "
            f"{self.mean_difference:+.4f} over {self.n_folds} folds "
            f"({self.mean_a:.4f} vs {self.mean_b:.4f}); paired t-test p={self.t_pvalue:.4g}, "
            f"Wilcoxon signed-rank p={self.wilcoxon_pvalue:.4g}"
        )
        return f"{text}. {self.note}" if self.note else text


def _paired_tests(diff: np.ndarray) -> tuple[float, float, float, float]:
    """(t, p_t, W, p_W) for paired differences; identical scores give p = 1."""
    if len(diff) < 2:
        return (np.nan,) * 4
    if np.allclose(diff, 0.0):
        return 0.0, 1.0, 0.0, 1.0
    wilcoxon = stats.wilcoxon(diff)
    if np.allclose(diff, diff[0]):
        # Constant non-zero differences have no spread: the t statistic is infinite and
        # its p = 0 would read as certainty from as few as two folds. Not defined: NaN.
        return np.nan, np.nan, float(wilcoxon.statistic), float(wilcoxon.pvalue)
    t_test = stats.ttest_rel(diff, np.zeros_like(diff))
    return (
        float(t_test.statistic),
        float(t_test.pvalue),
        float(wilcoxon.statistic),
        float(wilcoxon.pvalue),
    )


def _few_folds_note(n: int) -> str:
    if n < 2:
        return f"Only {n} fold(s): no paired test possible."
    if n < _FEW_FOLDS:
        floor = 2.0 / 2**n
        return (
            f"Only {n} folds: the tests have little power (the smallest attainable "
            f"two-sided Wilcoxon p-value is {floor:.3g})."
        )
    return ""


@dataclass
class EvaluationResult:
    """Outcome of :func:`evaluate`.

    Attributes
    ----------
    scores : DataFrame
        Tidy per-fold scores with columns ``estimator``, ``fold``, ``language``
        (``"all"`` pools the languages of a fold), ``uar``, ``wa``, ``n_test``,
        ``fit_time`` and ``predict_time`` (seconds, for the whole fold).
    predictions : DataFrame
        One row per estimator and test sample: ``estimator``, ``fold``,
        ``sample`` (position in ``X``), ``language``, ``y_true``, ``y_pred``.
    labels : ndarray
        Sorted main-task classes, the order of the confusion matrices.
    folds : list of (train, test) index arrays
        The folds every estimator was evaluated on.
    estimators : dict of str to list, or None
        Fitted estimator of every fold, when ``return_estimators=True``.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.dummy import DummyClassifier
    >>> X, y = make_classification(n_samples=60, random_state=0)
    >>> result = evaluate(DummyClassifier(), X, y, cv=3, verbose=False)
    >>> result.estimator_names
    ['DummyClassifier']
    >>> result.scores.columns.tolist()
    ['estimator', 'fold', 'language', 'uar', 'wa', 'n_test', 'fit_time', 'predict_time']
    """

    scores: pd.DataFrame
    predictions: pd.DataFrame
    labels: np.ndarray
    folds: list = field(repr=False)
    estimators: dict | None = field(default=None, repr=False)

    @property
    def estimator_names(self) -> list[str]:
        """Estimator names in the order they were given."""
        return list(dict.fromkeys(self.scores["estimator"]))

    @property
    def languages(self) -> list[str]:
        """Languages in sorted order, followed by ``"all"``."""
        found = sorted(set(self.scores["language"]) - {ALL})
        return found + [ALL]

    def _check_name(self, name: str) -> None:
        if name not in self.estimator_names:
            raise KeyError(f"Unknown estimator {name!r}; known: {self.estimator_names}.")

    def _check_language(self, language) -> None:
        if language is not None and language not in self.languages:
            raise KeyError(f"Unknown language {language!r}; known: {self.languages}.")

    def summary(self) -> pd.DataFrame:
        """Mean and std (ddof=1) over folds, and pooled scores, per estimator and language.

        Returns
        -------
        summary : DataFrame
            Indexed by (``estimator``, ``language``) with columns ``uar_mean``,
            ``uar_std``, ``wa_mean``, ``wa_std``, ``uar_pooled`` and ``wa_pooled``
            (computed on the predictions of all folds together), ``n_folds``,
            ``fit_time`` and ``predict_time`` (mean seconds per fold).

        Examples
        --------
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.dummy import DummyClassifier
        >>> X, y = make_classification(n_samples=60, random_state=0)
        >>> result = evaluate(DummyClassifier(), X, y, cv=3, verbose=False)
        >>> row = result.summary().loc[("DummyClassifier", "all")]
        >>> float(row["uar_mean"]), int(row["n_folds"])
        (0.5, 3)
        """
        aggregated = self.scores.groupby(["estimator", "language"], sort=False).agg(
            uar_mean=("uar", "mean"),
            uar_std=("uar", "std"),
            wa_mean=("wa", "mean"),
            wa_std=("wa", "std"),
            n_folds=("fold", "nunique"),
            fit_time=("fit_time", "mean"),
            predict_time=("predict_time", "mean"),
        )
        pooled = _score_rows(self.predictions, ["estimator"]).set_index(["estimator", "language"])
        aggregated["uar_pooled"] = pooled["uar"]
        aggregated["wa_pooled"] = pooled["wa"]
        order = pd.MultiIndex.from_product(
            [self.estimator_names, self.languages], names=["estimator", "language"]
        )
        columns = ["uar_mean", "uar_std", "wa_mean", "wa_std", "uar_pooled", "wa_pooled",
                   "n_folds", "fit_time", "predict_time"]  # fmt: skip
        return aggregated.reindex(order.intersection(aggregated.index, sort=False))[columns]

    def to_markdown(self, metrics=_METRICS, *, percent=True, digits=1) -> str:
        """Markdown table of mean ± std over folds, one column per language and overall.

        Parameters
        ----------
        metrics : sequence of {"uar", "wa"}, default=("uar", "wa")
            Rows per estimator.
        percent : bool, default=True
            Show scores in percent.
        digits : int, default=1
            Decimals shown.

        Returns
        -------
        table : str

        Examples
        --------
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.dummy import DummyClassifier
        >>> X, y = make_classification(n_samples=60, random_state=0)
        >>> result = evaluate({"chance": DummyClassifier()}, X, y, cv=3, verbose=False)
        >>> print(result.to_markdown())
        | estimator | metric | all        |
        |-----------|--------|------------|
        | chance    | UAR    | 50.0 ± 0.0 |
        | chance    | WA     | 50.0 ± 0.0 |
        """
        unknown = set(metrics) - set(_METRICS)
        if unknown:
            raise ValueError(f"Unknown metrics {sorted(unknown)}; choose from {_METRICS}.")
        summary = self.summary()
        scale = 100.0 if percent else 1.0
        header = ["estimator", "metric", *self.languages]
        rows = []
        for name in self.estimator_names:
            for metric in metrics:
                cells = [
                    _mean_std_cell(summary, (name, language), metric, scale, digits)
                    for language in self.languages
                ]
                rows.append([name, metric.upper(), *cells])
        return _markdown_table(header, rows)

    def compare(self, a: str, b: str, *, metric="uar", language=ALL) -> PairedComparison:
        """Paired comparison of estimators ``a`` and ``b`` over the folds.

        Parameters
        ----------
        a, b : str
            Estimator names; the difference is ``a - b``.
        metric : {"uar", "wa"}, default="uar"
        language : str, default="all"
            Compare on one language's scores, or on the pooled ones.

        Returns
        -------
        comparison : PairedComparison
            Means, mean difference, paired t-test and Wilcoxon signed-rank test.

        Examples
        --------
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.dummy import DummyClassifier
        >>> from sklearn.linear_model import LogisticRegression
        >>> X, y = make_classification(n_samples=100, random_state=0)
        >>> result = evaluate({"logreg": LogisticRegression(), "chance": DummyClassifier()},
        ...                   X, y, cv=5, verbose=False)
        >>> comparison = result.compare("logreg", "chance")
        >>> comparison.n_folds, bool(comparison.mean_difference > 0)
        (5, True)
        """
        if metric not in _METRICS:
            raise ValueError(f"Unknown metric {metric!r}; choose from {_METRICS}.")
        self._check_name(a)
        self._check_name(b)
        self._check_language(language)
        subset = self.scores[self.scores["language"] == language]
        table = subset.pivot(index="fold", columns="estimator", values=metric)
        paired = table[[a, b]].dropna()
        return PairedComparison.from_scores(
            a, b, paired[a], paired[b], metric=metric, language=language
        )

    def confusion_matrix(self, name: str, language=None, *, normalize=None) -> pd.DataFrame:
        """Confusion matrix pooled over folds, rows true and columns predicted labels.

        Parameters
        ----------
        name : str
            Estimator name.
        language : str, default=None
            Restrict to one language's test samples (``None`` or ``"all"``: all).
            Labels that occur neither as truth nor as prediction are dropped.
        normalize : {"true", "pred", "all"}, default=None
            As in :func:`sklearn.metrics.confusion_matrix`.

        Returns
        -------
        matrix : DataFrame
            Index ``true``, columns ``predicted``, both labelled with the classes.

        Examples
        --------
        >>> from sklearn.dummy import DummyClassifier
        >>> X = [[0]] * 6
        >>> y = ["anger", "anger", "anger", "anger", "sadness", "sadness"]
        >>> result = evaluate({"majority": DummyClassifier()}, X, y, cv=2, verbose=False)
        >>> result.confusion_matrix("majority")  # doctest: +NORMALIZE_WHITESPACE
        predicted  anger  sadness
        true
        anger          4        0
        sadness        2        0
        """
        self._check_name(name)
        self._check_language(language)
        rows = self.predictions[self.predictions["estimator"] == name]
        if language not in (None, ALL):
            rows = rows[rows["language"] == language]
        occurring = set(rows["y_true"]) | set(rows["y_pred"])
        labels = [label for label in self.labels if label in occurring]
        matrix = sk_confusion_matrix(
            rows["y_true"], rows["y_pred"], labels=labels, normalize=normalize
        )
        return pd.DataFrame(
            matrix,
            index=pd.Index(labels, name="true"),
            columns=pd.Index(labels, name="predicted"),
        )

    def plot_confusion_matrices(self, language=None, *, normalize="true"):
        """One confusion-matrix heat map per estimator, side by side.

        Parameters
        ----------
        language : str, default=None
            Restrict to one language (``None``: all samples).
        normalize : {"true", "pred", "all"} or None, default="true"
            Row-normalised by default, so the diagonal shows per-class recall.

        Returns
        -------
        figure : matplotlib.figure.Figure

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.dummy import DummyClassifier
        >>> X, y = make_classification(n_samples=60, random_state=0)
        >>> result = evaluate({"chance": DummyClassifier()}, X, y, cv=3, verbose=False)
        >>> len(result.plot_confusion_matrices().axes)
        2
        """
        plt = import_pyplot()
        names = self.estimator_names
        figure, axes = plt.subplots(
            1, len(names), figsize=(4.2 * len(names), 4.0), squeeze=False, layout="constrained"
        )
        for ax, name in zip(axes[0], names):
            matrix = self.confusion_matrix(name, language, normalize=normalize)
            image = ax.imshow(matrix.to_numpy(), cmap="Blues", vmin=0)
            _annotate_matrix(ax, matrix, normalize is not None)
            ax.set_title(name if language in (None, ALL) else f"{name} ({language})")
            figure.colorbar(image, ax=ax, shrink=0.8)
        return figure

    def plot_languages(self, metric="uar", *, ax=None):
        """Bar chart of the mean score per language, error bars one std over folds.

        Parameters
        ----------
        metric : {"uar", "wa"}, default="uar"
        ax : matplotlib Axes, default=None
            Axes to draw into; a new figure when ``None``.

        Returns
        -------
        ax : matplotlib.axes.Axes

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.dummy import DummyClassifier
        >>> X, y = make_classification(n_samples=60, random_state=0)
        >>> result = evaluate({"chance": DummyClassifier()}, X, y,
        ...                   languages=["de", "en"] * 30, cv=3, verbose=False)
        >>> [tick.get_text() for tick in result.plot_languages().get_xticklabels()]
        ['de', 'en', 'all']
        """
        if metric not in _METRICS:
            raise ValueError(f"Unknown metric {metric!r}; choose from {_METRICS}.")
        plt = import_pyplot()
        if ax is None:
            _, ax = plt.subplots(figsize=(1.2 + 1.5 * len(self.languages), 3.5))
        summary = self.summary()
        names, languages = self.estimator_names, self.languages
        width = 0.8 / len(names)
        positions = np.arange(len(languages))
        for i, name in enumerate(names):
            rows = summary.loc[name].reindex(languages)
            ax.bar(
                positions + (i - (len(names) - 1) / 2) * width,
                rows[f"{metric}_mean"],
                width,
                yerr=rows[f"{metric}_std"].fillna(0.0),
                capsize=3,
                label=name,
            )
        ax.set_xticks(positions, languages)
        ax.set_ylabel(f"{metric.upper()} (mean ± std over folds)")
        ax.set_ylim(0, 1)
        ax.legend()
        return ax


# ----------------------------------------------------------------------------
# formatting helpers
# ----------------------------------------------------------------------------
def _mean_std_cell(summary, key, metric, scale, digits) -> str:
    if key not in summary.index:
        return "–"
    mean = summary.at[key, f"{metric}_mean"] * scale
    std = summary.at[key, f"{metric}_std"] * scale
    if np.isnan(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured markdown table with padded columns (no tabulate needed)."""
    cells = [header] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row):
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(cells[0]), rule] + [line(row) for row in cells[1:]])


def _annotate_matrix(ax, matrix: pd.DataFrame, fractions: bool) -> None:
    values = matrix.to_numpy()
    threshold = values.max() / 2 if values.size else 0
    for (i, j), value in np.ndenumerate(values):
        text = f"{value:.2f}" if fractions else f"{int(value)}"
        color = "white" if value > threshold else "black"
        ax.text(j, i, text, ha="center", va="center", color=color, fontsize=8)
    labels = [str(label) for label in matrix.columns]
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), [str(label) for label in matrix.index])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")

