"""Speaker-independent evaluation of one or several estimators on the same folds.

:func:`evaluate` cross-validates every estimator over identical folds, fitting
multitask estimators (final step has ``predict_tasks``) with all task columns of
``y`` and single-task estimators (e.g. an SVM baseline) with the main column only.
It scores UAR (unweighted average recall, i.e. balanced accuracy) and WA
(weighted accuracy, i.e. accuracy) per language, on the predictions pooled over
folds and per fold, and returns an :class:`EvaluationResult` with tables,
confusion matrices, paired comparisons (corrected resampled t-test by default)
and plots.

Folds are speaker independent unless the user asks otherwise: utterance-level
(speaker-dependent) folds put the same voices in training and test sets and
inflate SER results by 10 points and more, so :func:`evaluate` refuses to make
them silently.
"""

from __future__ import annotations

import importlib
import time
import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, StratifiedKFold, check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_consistent_length
from tqdm.auto import tqdm

from ._bootstrap import BootstrapDifference
from ._paired import PairedComparison
from ._report import EvaluationResult
from ..metrics import ALL, _is_search, final_estimator, is_multitask, main_task_labels
from ..metrics import score_predictions

__all__ = ["evaluate", "BootstrapDifference", "EvaluationResult", "PairedComparison",
           "SpeakerDependentFoldsWarning"]

UTTERANCE_FOLDS = "utterance"
"""``cv`` value that asks :func:`evaluate` for utterance-level (speaker-dependent) folds."""

_WHY_SPEAKERS = (
    "utterance-level folds put utterances of the same speakers in the training and the "
    "test set, and such speaker-dependent folds inflate speech emotion recognition results "
    "by 10 points and more (EmoDB with IS10 features and an SVM: about 86% with random "
    "10-fold, 73-77% leaving speakers out)"
)


class SpeakerDependentFoldsWarning(UserWarning):
    """Warns that folds are utterance-level, so test speakers were also seen in training.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = evaluate(DummyClassifier(), np.zeros((20, 1)), np.arange(20) % 2,
    ...                  cv="utterance", verbose=False)
    >>> caught[0].category.__name__
    'SpeakerDependentFoldsWarning'
    """


# ----------------------------------------------------------------------------
# input handling
# ----------------------------------------------------------------------------
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
    """Speaker-independent folds from the speakers that ``groups`` or ``X`` give.

    Corpus and speaker (two-column ``groups``, or ``corpus`` and ``speaker``
    columns of a DataFrame ``X``) give folds within each corpus; speakers alone
    give :class:`~sklearn.model_selection.GroupKFold`. Without speakers: an error.
    """
    from ..model_selection import CorpusSpeakerKFold

    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame()
    if groups is None:
        if {"corpus", "speaker"} <= set(frame.columns):
            return CorpusSpeakerKFold(n_splits), None
        if "speaker" in frame.columns:
            return GroupKFold(n_splits), frame["speaker"]
        raise ValueError(
            "evaluate() needs each sample's speaker to make speaker-independent folds: pass "
            "groups=<speaker IDs> or groups=frame[['corpus', 'speaker']], or X with 'speaker' "
            "(and 'corpus') columns. To use utterance-level folds anyway, ask for them with "
            f"cv={UTTERANCE_FOLDS!r} or a splitter of your own; but {_WHY_SPEAKERS}."
        )
    if np.ndim(groups) == 2 or "corpus" in frame.columns:
        return CorpusSpeakerKFold(n_splits), groups
    return GroupKFold(n_splits), groups


def _uses_groups(splitter) -> bool:
    """Whether a splitter asks for ``groups`` (GroupKFold, the splitters of model_selection)."""
    try:
        return splitter._get_metadata_request().split.requests.get("groups") is True
    except AttributeError:
        return False


def _warn_speaker_dependent(what: str, stacklevel: int) -> None:
    # stacklevel: the caller of evaluate(), counted from this function
    warnings.warn(f"{what}: {_WHY_SPEAKERS}.", SpeakerDependentFoldsWarning,
                  stacklevel=stacklevel + 1)


def _splitter(cv, X, groups):
    """(splitter, groups): speaker independent unless the user asked for utterance folds."""
    if isinstance(cv, str):
        if cv != UTTERANCE_FOLDS:
            raise ValueError(f"cv={cv!r} is not known; the only string is {UTTERANCE_FOLDS!r}.")
        _warn_speaker_dependent("cv='utterance' gives utterance-level folds (StratifiedKFold(5))",
                                4)
        return StratifiedKFold(5), groups
    if cv is None or isinstance(cv, Integral):
        return _default_cv(5 if cv is None else int(cv), X, groups)
    if hasattr(cv, "split") and not _uses_groups(cv):
        _warn_speaker_dependent(f"{type(cv).__name__} ignores speakers", 4)
    return cv, groups


def _resolve_folds(cv, X, y_main, groups) -> list[tuple[np.ndarray, np.ndarray]]:
    """Materialise the folds once so that every estimator sees the same ones."""
    splitter, groups = _splitter(cv, X, groups)
    splitter = check_cv(splitter, y_main, classifier=True)
    folds = [(np.asarray(tr), np.asarray(te)) for tr, te in splitter.split(X, y_main, groups)]
    if not folds:
        raise ValueError("The cross-validator produced no folds.")
    return folds


def _searches(estimator):
    """Hyper-parameter searches in ``estimator``: itself, or steps of (nested) pipelines."""
    if _is_search(estimator):
        yield estimator
        yield from _searches(estimator.estimator)
    for _, step in getattr(estimator, "steps", []):
        yield from _searches(step)


def _check_inner_cv(estimators, y) -> None:
    """Warn about searches whose ``cv`` is an int: they tune on speaker-dependent folds."""
    for name, estimator in estimators.items():
        for search in _searches(estimator):
            if search.cv is None or isinstance(search.cv, Integral):
                kind = "unshuffled KFold" if np.ndim(y) == 2 and is_multitask(
                    search) else "StratifiedKFold"
                _warn_speaker_dependent(
                    f"{type(search).__name__} in {name!r} has cv={search.cv!r}, so scikit-learn "
                    f"tunes it on utterance-level folds ({kind}); give it a speaker-independent "
                    "cv such as CorpusSpeakerKFold(3) with X carrying 'corpus' and 'speaker' "
                    "columns",
                    3,
                )


# ----------------------------------------------------------------------------
# features extracted once
# ----------------------------------------------------------------------------
def _input_steps(estimator):
    """The steps of ``estimator`` that receive its input as it is, recursively.

    The first step of a pipeline, every transformer of a feature union, and the
    ``estimator`` of a search or another meta-estimator (bagging, calibration, ...).
    """
    steps = getattr(estimator, "steps", None)
    if steps:
        first = next((step for _, step in steps if step not in (None, "passthrough")), None)
        if first is not None:
            yield from _input_steps(first)
        return
    union = getattr(estimator, "transformer_list", None)
    if union:
        for _, step in union:
            if step not in (None, "drop", "passthrough"):
                yield from _input_steps(step)
        return
    yield estimator
    inner = getattr(estimator, "estimator", None)
    if hasattr(inner, "fit"):
        yield from _input_steps(inner)


def _extract_once(estimators, X, n_jobs, verbose):
    """Extract the features of every row for the feature steps that get ``X``; None: none."""
    from ..features import OpenSmileTransformer, extract_table  # opensmile only when needed

    steps = [step for estimator in estimators.values() for step in _input_steps(estimator)
             if isinstance(step, OpenSmileTransformer)]
    if not steps:
        return None
    return extract_table(steps, X, n_jobs=n_jobs, verbose=verbose)


# ----------------------------------------------------------------------------
# running
# ----------------------------------------------------------------------------
def _fit_predict(name, estimator, fold, X, y, y_main, train, test, keep_estimator, table):
    """Fit a clone on ``train`` and predict the main task on ``test``."""
    from ..features._feature_table import active

    model = clone(estimator)
    multitask = is_multitask(estimator)
    y_fit = y if multitask else y_main
    with active(table):
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


class _Progress:
    """One bar over all fits (estimators times folds), in seconds per fit when slow.

    Its rate is the mean over the whole run (no smoothing), so that fits finishing
    together in parallel do not make it jump, and the fits are run fold by fold
    (every estimator on fold 1, then on fold 2, ...), so that the finished ones
    mix the estimators as the remaining ones do and the ETA holds. The postfix
    names the fit running now (one at a time) or the fits done per estimator.
    """

    def __init__(self, names, n_folds: int, n_parallel: int, disable: bool):
        self.n_folds, self.n_parallel = n_folds, n_parallel
        self.done_folds = dict.fromkeys(names, 0)
        self.bar = tqdm(total=len(names) * n_folds, unit="fit", smoothing=0, disable=disable,
                        desc=f"evaluate {len(names)} x {n_folds} folds")

    def start(self, name: str, fold: int) -> None:
        if self.n_parallel == 1:
            self.bar.set_postfix_str(f"fitting {name} on fold {fold + 1}/{self.n_folds}")

    def done(self, name: str) -> None:
        self.done_folds[name] += 1
        if self.n_parallel > 1:
            self.bar.set_postfix_str(", ".join(
                f"{name} {done}/{self.n_folds}" for name, done in self.done_folds.items()
            ), refresh=False)
        self.bar.update()

    def close(self) -> None:
        self.bar.close()


def _run_all(estimators, folds, X, y, y_main, n_jobs, verbose, keep_estimators, table):
    keys = [(name, fold) for fold in range(len(folds)) for name in estimators]
    tasks = [
        delayed(_fit_predict)(name, estimators[name], fold, X, y, y_main, *folds[fold],
                              keep_estimators, table)
        for name, fold in keys
    ]
    n_parallel = min(effective_n_jobs(n_jobs), len(tasks))
    progress = _Progress(list(estimators), len(folds), n_parallel, disable=not verbose)
    records = []
    try:
        if n_parallel == 1:  # run here, so the bar names exactly the fit running
            for (name, fold), (function, args, kwargs) in zip(keys, tasks, strict=True):
                progress.start(name, fold)
                records.append(function(*args, **kwargs))
                progress.done(name)
        else:  # the bar moves as soon as any fit finishes
            parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered",
                                initializer=_import_modules,
                                initargs=(_estimator_modules(estimators),))
            for record in parallel(tasks):
                records.append(record)
                progress.done(record["estimator"])
    finally:
        progress.close()
    order = {key: position for position, key in enumerate(keys)}
    return sorted(records, key=lambda record: order[record["estimator"], record["fold"]])


def _estimator_modules(estimators) -> tuple[str, ...]:
    """The modules defining the estimators and the estimators nested in them."""
    modules = set()
    for estimator in estimators.values():
        nested = estimator.get_params(deep=True).values()
        for obj in (estimator, *nested):
            if hasattr(obj, "get_params") and not isinstance(obj, type):
                modules.add(type(obj).__module__)
    return tuple(sorted(modules))


def _import_modules(names) -> None:
    """Start a fold worker process by importing the modules all fold tasks need.

    loky measures a worker's memory after its first task and replaces a worker
    that has grown by more than 300 MB since, warning "A worker stopped while some
    jobs were given to the executor". A worker whose first fold fitted a
    torch-free model (the SVM) grew that much with its first MSFL fold (torch's
    import and first training). Imported at the start, these modules are part of
    the baseline, and the workers serve every fold. Extraction workers
    (:class:`~sklearn_msfl.features.OpenSmileTransformer` with ``n_jobs``) get no
    initializer, so joblib starts separate workers for the folds, and torch stays
    out of the extraction workers.
    """
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:  # unpickling the task reports it with its context
            pass


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


def _score_frame(records, predictions) -> pd.DataFrame:
    scores = score_predictions(predictions, ["estimator", "fold"])
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

    Audio features are extracted once, before any fold starts. The
    :class:`~sklearn_msfl.OpenSmileTransformer` steps that receive ``X`` (the
    first step of a pipeline, the estimator of a search or of another
    meta-estimator, the members of a feature union, recursively) are collected
    from all estimators; those with equal settings (feature set, config, level,
    sampling rate) share one extraction of every row of ``X``, in parallel over
    the files (the step's ``n_jobs``, else ``n_jobs`` here), through the step's
    disk ``cache``, with one progress bar. The folds then find these rows in
    memory: every transformer in this process and in the fold workers looks its
    items up by content (a file by the hash of its bytes, remembered per path
    with its size and modification time; a signal by its samples) before its
    disk cache, so that an altered copy of an item, such as augmented audio, is
    extracted from its own content. The fitted models keep their feature steps
    and work on new audio. Worker processes that a search starts itself
    (``n_jobs`` of a search while ``evaluate`` runs its folds in this process)
    do not see these rows and read the disk cache instead (or extract again
    without one): give ``n_jobs`` to ``evaluate`` rather than to the search.

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
    cv : int, "utterance", cross-validation generator or iterable, default=None
        Fold definition. ``None`` means 5 folds. With an int or ``None`` the folds
        are speaker independent, and the speakers must be known:
        :class:`~sklearn_msfl.model_selection.CorpusSpeakerKFold` (unseen
        speakers of every corpus in each fold) when the corpus is known too
        (two-column ``groups``, or a ``corpus`` column of a DataFrame ``X``),
        :class:`~sklearn.model_selection.GroupKFold` over ``groups`` (or a
        ``speaker`` column of ``X``) otherwise; without speakers it raises a
        ``ValueError``. Utterance-level folds must be asked for: ``"utterance"``
        (:class:`~sklearn.model_selection.StratifiedKFold` with 5 folds) or a
        splitter that ignores ``groups`` (e.g. ``KFold``) give them with a
        :class:`SpeakerDependentFoldsWarning`, since speaker-dependent folds
        inflate SER results by 10 points and more. An iterable of (train, test)
        index arrays is used as it is.
    n_jobs : int, default=None
        Folds (times estimators) to run in parallel with joblib; also the
        extraction processes of a feature step without ``n_jobs`` of its own.
        Fold worker processes import the modules of all estimators when they
        start (torch for MSFL), so that loky keeps each worker for all its
        folds instead of replacing it once a fold has imported torch.
    verbose : bool, default=True
        Show the extraction's progress bar (files still to extract), then one
        bar over all fits, in seconds per fit, naming the fit running now (with
        ``n_jobs``: the fits done per estimator). The fits run fold by fold
        (every estimator on the first fold, then on the second, ...), so that
        its ETA, from the mean time of the fits done, holds for models of
        different cost.
    return_estimators : bool, default=False
        Keep the fitted estimator of every fold in ``result.estimators``.

    Returns
    -------
    result : EvaluationResult
        Per-fold scores, per-sample predictions, folds and summaries.

    Warns
    -----
    SpeakerDependentFoldsWarning
        When the folds are utterance-level, or when an estimator contains a
        hyper-parameter search whose ``cv`` is an int or None: scikit-learn
        then tunes on utterance-level folds (unshuffled ``KFold`` when ``y``
        has several columns).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.svm import SVC
    >>> X, y = make_classification(n_samples=120, n_classes=3, n_informative=4,
    ...                            random_state=0)
    >>> languages = ["de", "en", "ur"] * 40
    >>> speakers = np.arange(120) % 12
    >>> result = evaluate({"chance": DummyClassifier(), "svm": SVC()}, X, y,
    ...                   groups=speakers, languages=languages, cv=3, verbose=False)
    >>> sorted(result.scores["language"].unique())
    ['all', 'de', 'en', 'ur']
    >>> result.summary().loc[("chance", "all"), "uar_mean"]  # one class per fold
    np.float64(0.3333333333333333)
    >>> bool(result.compare("svm", "chance").mean_difference > 0.2)
    True

    Without speakers, utterance-level folds must be asked for:

    >>> evaluate(SVC(), X, y, verbose=False)
    Traceback (most recent call last):
    ...
    ValueError: evaluate() needs each sample's speaker to make speaker-independent folds: ...
    """
    estimators = _as_estimator_dict(estimators)
    check_consistent_length(X, y, groups)
    y_main = main_task_labels(None, y)
    languages = _resolve_languages(languages, X, y, len(y_main))
    folds = _resolve_folds(cv, X, y_main, groups)
    _check_inner_cv(estimators, y)
    table = _extract_once(estimators, X, n_jobs, verbose)
    records = _run_all(estimators, folds, X, y, y_main, n_jobs, verbose, return_estimators,
                       table)
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


