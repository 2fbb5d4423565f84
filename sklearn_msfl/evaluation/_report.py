"""The outcome of :func:`~sklearn_msfl.evaluation.evaluate`: score tables, confusion matrices, plots.

Two kinds of scores are reported, and every table says which it shows:

* **pooled** scores are computed once on the predictions of all folds together, so
  that a language is scored over every one of its classes, even when a fold tests
  only some of them (URDU speakers mostly speak a single emotion);
* **fold** scores are computed per fold; their spread (std over folds) is shown
  only where every fold tests every class of that language, since otherwise
  per-fold UARs average different numbers of classes.

Paired tests between two estimators are in ``sklearn_msfl.evaluation._paired``, the speaker
bootstrap of the pooled score's difference in ``sklearn_msfl.evaluation._bootstrap``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from ._bootstrap import BootstrapDifference, bootstrap_difference
from ._paired import PairedComparison
from ._plotting import annotated_heatmap, import_pyplot
from ..metrics import ALL, score_predictions


_METRICS = ("uar", "wa")


def _complete_folds(predictions: pd.DataFrame) -> pd.Series:
    """Per (estimator, language): how many folds test every class of that language."""
    both = predictions.assign(language=ALL)
    if not (predictions["language"] == ALL).all():
        both = pd.concat([both, predictions], ignore_index=True)
    keys = ["estimator", "language"]
    n_classes = both.groupby(keys)["y_true"].nunique()
    per_fold = both.groupby([*keys, "fold"])["y_true"].nunique().reset_index()
    per_fold = per_fold.merge(n_classes.rename("n_classes").reset_index(), on=keys)
    complete = per_fold["y_true"] == per_fold["n_classes"]
    return complete.groupby([per_fold[key] for key in keys]).sum()


@dataclass
class EvaluationResult:
    """Outcome of :func:`~sklearn_msfl.evaluation.evaluate`.

    Attributes
    ----------
    scores : DataFrame
        Tidy per-fold scores with columns ``estimator``, ``fold``, ``language``
        (``"all"`` pools the languages of a fold), ``uar`` (over the classes
        present in that fold and language), ``wa``, ``n_test``, ``fit_time`` and
        ``predict_time`` (seconds, for the whole fold).
    predictions : DataFrame
        One row per estimator and test sample: ``estimator``, ``fold``,
        ``sample`` (position in ``X``), ``language``, ``y_true``, ``y_pred``.
    labels : ndarray
        Sorted main-task classes, the order of the confusion matrices.
    folds : list of (train, test) index arrays
        The folds every estimator was evaluated on; their sizes give the
        ``n_test / n_train`` ratio of the corrected resampled t-test.
    estimators : dict of str to list, or None
        Fitted estimator of every fold, when ``return_estimators=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn_msfl.evaluation import evaluate
    >>> X, y = make_classification(n_samples=60, random_state=0)
    >>> speakers = np.arange(60) % 6
    >>> result = evaluate(DummyClassifier(), X, y, groups=speakers, cv=3, verbose=False)
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

    def _check_metric(self, metric) -> None:
        if metric not in _METRICS:
            raise ValueError(f"Unknown metric {metric!r}; choose from {_METRICS}.")

    def summary(self) -> pd.DataFrame:
        """Pooled scores and fold statistics per estimator and language.

        Returns
        -------
        summary : DataFrame
            Indexed by (``estimator``, ``language``) with columns

            * ``uar_pooled``, ``wa_pooled``: scores on the predictions of all
              folds together, so over every class of the language: the
              headline per-language scores;
            * ``uar_mean``, ``uar_std``, ``wa_mean``, ``wa_std``: mean and std
              (ddof=1) of the per-fold scores;
            * ``n_folds``: folds that test that language; ``complete_folds``:
              those of them that test every class of the language (the fold
              statistics compare like with like only where the two are equal);
            * ``fit_time``, ``predict_time``: mean seconds per fold.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.dummy import DummyClassifier
        >>> from sklearn_msfl.evaluation import evaluate
        >>> X, y = np.zeros((60, 2)), np.arange(60) % 2
        >>> speakers = np.arange(60) // 2  # every speaker says one of each class
        >>> result = evaluate(DummyClassifier(), X, y, groups=speakers, cv=3, verbose=False)
        >>> row = result.summary().loc[("DummyClassifier", "all")]
        >>> float(row["uar_pooled"]), float(row["uar_mean"]), int(row["n_folds"])
        (0.5, 0.5, 3)
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
        pooled = score_predictions(self.predictions, ["estimator"])
        pooled = pooled.set_index(["estimator", "language"])
        aggregated["uar_pooled"] = pooled["uar"]
        aggregated["wa_pooled"] = pooled["wa"]
        complete = _complete_folds(self.predictions)
        aggregated["complete_folds"] = complete.reindex(aggregated.index).fillna(0).astype(int)
        order = pd.MultiIndex.from_product(
            [self.estimator_names, self.languages], names=["estimator", "language"]
        )
        columns = ["uar_pooled", "wa_pooled", "uar_mean", "uar_std", "wa_mean", "wa_std",
                   "n_folds", "complete_folds", "fit_time", "predict_time"]  # fmt: skip
        return aggregated.reindex(order.intersection(aggregated.index, sort=False))[columns]

    def language_mean(self, metric="uar") -> pd.Series:
        """Mean over languages of each language's pooled score, per estimator.

        This is the "pooled UAR" of multi-corpus benchmarks: every language (or
        corpus, when ``languages`` names corpora) is scored on its predictions
        pooled over folds, over all of its classes, and the languages count
        equally whatever their size. Without languages it is the ``"all"`` score.

        Parameters
        ----------
        metric : {"uar", "wa"}, default="uar"

        Returns
        -------
        mean : Series
            Indexed by estimator name.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.dummy import DummyClassifier
        >>> from sklearn_msfl.evaluation import evaluate
        >>> X, y = np.zeros((8, 1)), np.array([0, 1, 0, 1, 0, 0, 0, 1])
        >>> result = evaluate(DummyClassifier(strategy="constant", constant=0), X, y,
        ...                   languages=["de"] * 4 + ["ur"] * 4, groups=np.arange(8) % 4,
        ...                   cv=2, verbose=False)
        >>> result.language_mean("wa").round(3).to_dict()
        {'DummyClassifier': 0.625}
        """
        self._check_metric(metric)
        summary = self.summary()[f"{metric}_pooled"]
        languages = [language for language in self.languages if language != ALL] or [ALL]
        table = summary.unstack("language").reindex(columns=languages)
        return table.mean(axis=1).reindex(self.estimator_names).rename(f"{metric}_language_mean")

    def to_markdown(self, metrics=_METRICS, *, percent=True, digits=1) -> str:
        """Markdown table of the pooled scores per language, with the spread over folds.

        Each cell is the score on the predictions pooled over folds (every class
        of the language); ``± std`` is the standard deviation of the per-fold
        scores, shown only where every fold tests every class of that language.
        With several languages, ``mean`` is :meth:`language_mean`. A note under
        the table says so.

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
        >>> import numpy as np
        >>> from sklearn.dummy import DummyClassifier
        >>> from sklearn_msfl.evaluation import evaluate
        >>> X, y = np.zeros((60, 2)), np.arange(60) % 2
        >>> result = evaluate({"chance": DummyClassifier()}, X, y, groups=np.arange(60) // 2,
        ...                   cv=3, verbose=False)
        >>> print(result.to_markdown())
        | estimator | metric | all        |
        |-----------|--------|------------|
        | chance    | UAR    | 50.0 ± 0.0 |
        | chance    | WA     | 50.0 ± 0.0 |
        <BLANKLINE>
        Scores on the predictions pooled over folds; ± std of the per-fold scores where every fold tests every class.
        """
        unknown = set(metrics) - set(_METRICS)
        if unknown:
            raise ValueError(f"Unknown metrics {sorted(unknown)}; choose from {_METRICS}.")
        summary = self.summary()
        scale = 100.0 if percent else 1.0
        with_mean = len(self.languages) > 2
        header = ["estimator", "metric", *self.languages] + (["mean"] if with_mean else [])
        # once per metric, not per row: every summary scores all predictions again
        means = {metric: self.language_mean(metric) for metric in metrics} if with_mean else {}
        rows = []
        for name in self.estimator_names:
            for metric in metrics:
                cells = [_pooled_cell(summary, (name, language), metric, scale, digits)
                         for language in self.languages]
                if with_mean:
                    cells.append(f"{means[metric][name] * scale:.{digits}f}")
                rows.append([name, metric.upper(), *cells])
        note = ("Scores on the predictions pooled over folds; ± std of the per-fold scores "
                "where every fold tests every class" + (" of that language" if with_mean else "")
                + "." + (" mean: the mean over languages." if with_mean else ""))
        return _markdown_table(header, rows) + "\n\n" + note

    def compare(self, a: str, b: str, *, metric="uar", language=ALL,
                t_test="corrected") -> PairedComparison:
        """Paired comparison of estimators ``a`` and ``b`` over the folds.

        Parameters
        ----------
        a, b : str
            Estimator names; the difference is ``a - b``.
        metric : {"uar", "wa"}, default="uar"
        language : str, default="all"
            Compare on one language's per-fold scores, or on the pooled ones.
        t_test : {"corrected", "plain"}, default="corrected"
            The corrected resampled t-test (Nadeau & Bengio 2003), with the
            ``n_test / n_train`` ratio of :attr:`folds`, or the plain paired
            t-test (optimistic: it treats overlapping folds as independent).
            The Wilcoxon signed-rank test is reported either way.

        Returns
        -------
        comparison : PairedComparison
            Means, mean difference, the t-test and the Wilcoxon signed-rank test.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.dummy import DummyClassifier
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklearn_msfl.evaluation import evaluate
        >>> X, y = make_classification(n_samples=100, random_state=0)
        >>> result = evaluate({"logreg": LogisticRegression(), "chance": DummyClassifier()},
        ...                   X, y, groups=np.arange(100) % 10, cv=5, verbose=False)
        >>> comparison = result.compare("logreg", "chance")
        >>> comparison.n_folds, comparison.t_test, bool(comparison.mean_difference > 0)
        (5, 'corrected', True)
        """
        self._check_metric(metric)
        self._check_name(a)
        self._check_name(b)
        self._check_language(language)
        subset = self.scores[self.scores["language"] == language]
        table = subset.pivot(index="fold", columns="estimator", values=metric)
        paired = table[[a, b]].dropna()
        comparison = PairedComparison.from_scores(
            a, b, paired.iloc[:, 0], paired.iloc[:, 1], metric=metric, language=language, t_test=t_test,
            test_train_ratio=self._test_train_ratio(),
        )
        # Counted for a and b only: a summary() would score every estimator's predictions.
        pair = self.predictions[self.predictions["estimator"].isin([a, b])]
        complete = _complete_folds(pair)
        n_folds = subset.groupby("estimator")["fold"].nunique()
        incomplete = any(complete.get((name, language), 0) < n_folds.get(name, 0)
                         for name in (a, b))
        if incomplete:
            comparison.note = " ".join(filter(None, [comparison.note, (
                f"Some folds do not test every class of {language!r}: its per-fold scores "
                "average different classes.")]))
        return comparison

    def bootstrap_difference(self, a: str, b: str, speakers, *, metric="uar",
                             n_resamples=1000, confidence=0.95,
                             random_state=None) -> BootstrapDifference:
        """Speaker-level bootstrap of the difference in :meth:`language_mean` (``a - b``).

        Unlike :meth:`compare`, which tests the mean of per-fold scores, this is about the
        pooled score itself: every resample draws speakers with replacement within each
        language (``n - 1`` of ``n``, which keeps the variance of small corpora unbiased)
        and recomputes both estimators' :meth:`language_mean` on the same speakers. It
        holds the uncertainty from which speakers were recorded, not from the training
        seeds: predictions of several seeds of a model (several rows per sample) are pooled.

        Parameters
        ----------
        a, b : str
            Estimator names; the difference is ``a - b``.
        speakers : array-like of shape (n_samples,) or (n_samples, 2), or DataFrame
            The speaker of every row of ``X`` (by position), or corpus and speaker.
        metric : {"uar", "wa"}, default="uar"
        n_resamples : int, default=1000
        confidence : float, default=0.95
            Coverage of the percentile interval.
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        result : BootstrapDifference
            The observed difference, its interval and the share of resamples ``a`` wins.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.dummy import DummyClassifier
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklearn_msfl.evaluation import evaluate
        >>> X, y = make_classification(n_samples=200, random_state=0)
        >>> speakers = np.arange(200) % 20
        >>> result = evaluate({"logreg": LogisticRegression(), "chance": DummyClassifier()},
        ...                   X, y, groups=speakers, cv=5, verbose=False)
        >>> boot = result.bootstrap_difference("logreg", "chance", speakers, random_state=0)
        >>> bool(boot.low > 0), boot.win_share
        (True, 1.0)
        """
        self._check_metric(metric)
        self._check_name(a)
        self._check_name(b)
        return bootstrap_difference(self.predictions, a, b, speakers, metric=metric,
                                    n_resamples=n_resamples, confidence=confidence,
                                    random_state=random_state)

    def _test_train_ratio(self):
        if not self.folds:
            return None
        return float(np.mean([len(test) / max(len(train), 1) for train, test in self.folds]))

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
        >>> from sklearn.model_selection import StratifiedKFold
        >>> from sklearn_msfl.evaluation import evaluate
        >>> X = [[0]] * 6
        >>> y = ["anger", "anger", "anger", "anger", "sadness", "sadness"]
        >>> folds = list(StratifiedKFold(2).split(X, y))  # your own folds: used as they are
        >>> result = evaluate({"majority": DummyClassifier()}, X, y, cv=folds, verbose=False)
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
        >>> import numpy as np
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.dummy import DummyClassifier
        >>> from sklearn_msfl.evaluation import evaluate
        >>> X, y = make_classification(n_samples=60, random_state=0)
        >>> result = evaluate({"chance": DummyClassifier()}, X, y, groups=np.arange(60) % 6,
        ...                   cv=3, verbose=False)
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
            annotated_heatmap(ax, matrix, ".2f" if normalize is not None else ".0f", "Blues",
                              vmin=0, aspect="equal", colorbar_shrink=0.8)
            ax.set_xlabel("predicted")
            ax.set_ylabel("true")
            ax.set_title(name if language in (None, ALL) else f"{name} ({language})")
        return figure

    def plot_languages(self, metric="uar", *, ax=None):
        """Bar chart of the pooled score per language, error bars one std over folds.

        The error bars are drawn only where every fold tests every class of the
        language (see :meth:`summary`).

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
        >>> import numpy as np
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.dummy import DummyClassifier
        >>> from sklearn_msfl.evaluation import evaluate
        >>> X, y = make_classification(n_samples=60, random_state=0)
        >>> result = evaluate({"chance": DummyClassifier()}, X, y, groups=np.arange(60) % 6,
        ...                   languages=["de", "en"] * 30, cv=3, verbose=False)
        >>> [tick.get_text() for tick in result.plot_languages().get_xticklabels()]
        ['de', 'en', 'all']
        """
        self._check_metric(metric)
        plt = import_pyplot()
        if ax is None:
            _, ax = plt.subplots(figsize=(1.2 + 1.5 * len(self.languages), 3.5))
        summary = self.summary()
        names, languages = self.estimator_names, self.languages
        width = 0.8 / len(names)
        positions = np.arange(len(languages))
        for i, name in enumerate(names):
            rows = summary.loc[name].reindex(languages)
            spread = rows[f"{metric}_std"].where(rows["complete_folds"] == rows["n_folds"])
            ax.bar(
                positions + (i - (len(names) - 1) / 2) * width,
                rows[f"{metric}_pooled"],
                width,
                yerr=spread.fillna(0.0),
                capsize=3,
                label=name,
            )
        ax.set_xticks(positions, languages)
        ax.set_ylabel(f"{metric.upper()} (pooled; ± std over folds)")
        ax.set_ylim(0, 1)
        ax.legend()
        return ax


# ----------------------------------------------------------------------------
# formatting helpers
# ----------------------------------------------------------------------------
def _pooled_cell(summary, key, metric, scale, digits) -> str:
    """Pooled score, with ``± std`` over folds where every fold tests every class."""
    if key not in summary.index:
        return "–"
    row = summary.loc[key]
    text = f"{row[f'{metric}_pooled'] * scale:.{digits}f}"
    std = row[f"{metric}_std"]
    if row["n_folds"] > 1 and row["complete_folds"] == row["n_folds"] and not np.isnan(std):
        text += f" ± {std * scale:.{digits}f}"
    return text


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured markdown table with padded columns (no tabulate needed)."""
    cells = [header] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row):
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(cells[0]), rule] + [line(row) for row in cells[1:]])
