"""Paired comparison of two estimators on the same folds: corrected and plain t-tests, Wilcoxon."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..metrics import ALL


T_TESTS = ("corrected", "plain")
"""Paired t-tests: Nadeau & Bengio's corrected resampled t-test, and the plain one."""
# Below this many paired folds the two-sided Wilcoxon test cannot reach p < 0.05
# (its floor is 2 / 2**n: 0.0625 for 5 folds), and the t-tests have little power.
_FEW_FOLDS = 6


@dataclass
class PairedComparison:
    """Paired comparison of two estimators over the same folds.

    ``mean_difference`` is ``mean_a - mean_b``. ``t_statistic`` and ``t_pvalue``
    (two-sided) come from the t-test named by ``t_test``:

    * ``"corrected"`` (the default): the corrected resampled t-test of Nadeau and
      Bengio (2003, *Machine Learning* 52), whose variance of the mean difference
      is ``(1 / n_folds + n_test / n_train) * var`` instead of ``var / n_folds``.
      Cross-validation folds share most of their training data, so their scores
      are correlated and the plain t-test is optimistic;
    * ``"plain"``: :func:`scipy.stats.ttest_rel`, which treats the folds as
      independent.

    ``wilcoxon_*`` come from :func:`scipy.stats.wilcoxon` over the per-fold
    differences. ``note`` warns when there are too few folds for the tests to be
    meaningful.

    Examples
    --------
    >>> comparison = PairedComparison.from_scores(
    ...     "msfl", "svm", [0.6, 0.7, 0.65], [0.5, 0.6, 0.6])
    >>> round(comparison.mean_difference, 3)
    0.083
    >>> comparison.t_test, round(comparison.t_pvalue, 3), comparison.wilcoxon_pvalue
    ('corrected', 0.087, 0.25)
    >>> plain = PairedComparison.from_scores(
    ...     "msfl", "svm", [0.6, 0.7, 0.65], [0.5, 0.6, 0.6], t_test="plain")
    >>> round(plain.t_pvalue, 3)
    0.038
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
    t_test: str = "corrected"
    test_train_ratio: float = np.nan

    @classmethod
    def from_scores(cls, a, b, scores_a, scores_b, *, metric="uar", language=ALL,
                    t_test="corrected", test_train_ratio=None):
        """Compare two paired sequences of per-fold scores.

        Parameters
        ----------
        a, b : str
            Names of the two estimators.
        scores_a, scores_b : array-like of shape (n_folds,)
            Their scores on the same folds.
        metric : str, default="uar"
        language : str, default="all"
        t_test : {"corrected", "plain"}, default="corrected"
            The t-test reported (see the class description).
        test_train_ratio : float, default=None
            ``n_test / n_train`` of the folds, for the corrected t-test. None
            assumes k-fold cross-validation, where it is ``1 / (n_folds - 1)``.

        Returns
        -------
        comparison : PairedComparison

        Examples
        --------
        >>> c = PairedComparison.from_scores("a", "b", [0.7, 0.8], [0.6, 0.6])
        >>> c.n_folds, round(c.mean_difference, 2), c.note[:12]
        (2, 0.15, 'Only 2 folds')
        """
        if t_test not in T_TESTS:
            raise ValueError(f"Unknown t_test {t_test!r}; choose from {T_TESTS}.")
        scores_a = np.asarray(scores_a, dtype=float)
        scores_b = np.asarray(scores_b, dtype=float)
        if scores_a.shape != scores_b.shape or scores_a.ndim != 1:
            raise ValueError("Paired scores need two 1-D sequences of equal length.")
        diff = scores_a - scores_b
        n = len(diff)
        if test_train_ratio is None:
            test_train_ratio = 1.0 / (n - 1) if n > 1 else np.nan
        ratio = test_train_ratio if t_test == "corrected" else 0.0
        t_stat, t_p = _t_test(diff, ratio)
        w_stat, w_p = _wilcoxon(diff)
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
            t_test=t_test,
            test_train_ratio=float(test_train_ratio),
        )

    def __str__(self) -> str:
        name = "corrected resampled t-test" if self.t_test == "corrected" else "paired t-test"
        text = (
            f"{self.a} - {self.b} ({self.metric.upper()}, {self.language}): "
            f"{self.mean_difference:+.4f} over {self.n_folds} folds "
            f"({self.mean_a:.4f} vs {self.mean_b:.4f}); {name} p={self.t_pvalue:.4g}, "
            f"Wilcoxon signed-rank p={self.wilcoxon_pvalue:.4g}"
        )
        return f"{text}. {self.note}" if self.note else text


def _t_test(diff: np.ndarray, test_train_ratio: float) -> tuple[float, float]:
    """(t, two-sided p) of the mean difference, its variance inflated by ``test_train_ratio``.

    ``test_train_ratio=0`` is the plain paired t-test. Identical scores give p = 1;
    constant non-zero differences have no spread, so t would be infinite and p = 0
    would read as certainty from as few as two folds: not defined (NaN).
    """
    n = len(diff)
    if n < 2:
        return np.nan, np.nan
    if np.allclose(diff, 0.0):
        return 0.0, 1.0
    if np.allclose(diff, diff[0]):
        return np.nan, np.nan
    variance = (1.0 / n + test_train_ratio) * diff.var(ddof=1)
    t = float(diff.mean() / np.sqrt(variance))
    return t, float(2 * stats.t.sf(abs(t), df=n - 1))


def _wilcoxon(diff: np.ndarray) -> tuple[float, float]:
    if len(diff) < 2:
        return np.nan, np.nan
    if np.allclose(diff, 0.0):
        return 0.0, 1.0
    result = stats.wilcoxon(diff)
    return float(result.statistic), float(result.pvalue)


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
