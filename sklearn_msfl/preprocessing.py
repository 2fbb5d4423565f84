"""Corpus (or speaker) normalisation: standardise features within each group of utterances.

Acoustic functionals shift with the recording set-up, the language and the speakers of a
corpus. Standardising every corpus on its own statistics removes much of that shift, the
usual first step of cross-corpus emotion recognition (Schuller et al., 2010). A corpus that
was not seen in training is standardised on its own utterances: the test data then needs
no labels, only enough utterances of that corpus.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["GroupStandardScaler"]

UNSEEN = ("self", "global", "error")


class GroupStandardScaler(TransformerMixin, BaseEstimator):
    """Standardise features within each group (corpus normalisation).

    ``X`` is a DataFrame with one column, ``group_column``, naming each row's group
    (corpus, language or speaker); every other column is a feature. Features are
    standardised with the mean and standard deviation of their group; the group column
    is dropped from the output. Rows of a group that was not in the training data are
    standardised on that group's rows in the data being transformed (``unseen="self"``).

    Parameters
    ----------
    group_column : str or None, default="corpus"
        The column of ``X`` that holds the groups. None: all rows are one group, which
        is a plain :class:`~sklearn.preprocessing.StandardScaler` (any array-like ``X``).
    unseen : {"self", "global", "error"}, default="self"
        Rows of a group not seen in ``fit``: standardised on that group's own rows of
        the transformed data ("self": transductive, needs ``min_group_size`` rows, else
        falls back to "global" with a warning), on the statistics of all training rows
        ("global") or rejected ("error").
    min_group_size : int, default=10
        Fewest rows of an unseen group that ``unseen="self"`` standardises on their own.

    Attributes
    ----------
    groups_ : ndarray of shape (n_groups,)
        The groups seen in ``fit``, sorted.
    mean_ : ndarray of shape (n_groups, n_features)
        Feature means per group.
    scale_ : ndarray of shape (n_groups, n_features)
        Feature standard deviations per group (1 where a feature is constant).
    global_mean_, global_scale_ : ndarray of shape (n_features,)
        The same over all training rows.
    n_features_in_ : int
        Number of features (without the group column).
    feature_names_in_ : ndarray of shape (n_features,)
        Feature names, when ``X`` is a DataFrame (without the group column).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"corpus": ["a", "a", "b", "b"], "f0": [1.0, 3.0, 10.0, 30.0]})
    >>> scaler = GroupStandardScaler().fit(X)
    >>> scaler.transform(X).ravel().tolist()
    [-1.0, 1.0, -1.0, 1.0]
    >>> scaler.get_feature_names_out().tolist()
    ['f0']
    >>> new = pd.DataFrame({"corpus": ["c"] * 10, "f0": range(10)})
    >>> unseen = GroupStandardScaler(min_group_size=5).fit(X).transform(new)
    >>> print(f"{abs(unseen.mean()):.3f} {unseen.std():.3f}")
    0.000 1.000
    """

    def __init__(self, group_column="corpus", unseen="self", min_group_size=10):
        self.group_column = group_column
        self.unseen = unseen
        self.min_group_size = min_group_size

    def fit(self, X, y=None):
        """Learn the mean and standard deviation of every feature in every group.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features + 1)
            Features and the ``group_column``.
        y : None
            Ignored.

        Returns
        -------
        self : GroupStandardScaler
        """
        self._check_parameters()
        groups, values = self._groups_and_values(X, reset=True)
        self.groups_ = np.unique(groups)
        stats = [_mean_and_scale(values[groups == group]) for group in self.groups_]
        self.mean_ = np.array([mean for mean, _ in stats])
        self.scale_ = np.array([scale for _, scale in stats])
        self.global_mean_, self.global_scale_ = _mean_and_scale(values)
        return self

    def transform(self, X):
        """Standardise every row with the statistics of its group.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features + 1)
            Features and the ``group_column``.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            Standardised features, without the group column.
        """
        check_is_fitted(self)
        groups, values = self._groups_and_values(X, reset=False)
        output = np.empty_like(values)
        index = {group: i for i, group in enumerate(self.groups_)}
        for group in np.unique(groups):
            rows = groups == group
            if group in index:
                mean, scale = self.mean_[index[group]], self.scale_[index[group]]
            else:
                mean, scale = self._unseen_statistics(group, values[rows])
            output[rows] = (values[rows] - mean) / scale
        return output

    def get_feature_names_out(self, input_features=None):
        """Names of the output features: the input features without the group column.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Names of the input columns (the group column among them or not), e.g. the
            output names of the step before in a pipeline. When None, the names seen in
            ``fit`` (``x0, x1, ...`` for an array).

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        seen = getattr(self, "feature_names_in_", None)
        if input_features is None:
            if seen is not None:
                return seen.copy()
            return np.array([f"x{i}" for i in range(self.n_features_in_)], dtype=object)
        names = np.asarray(
            [str(name) for name in input_features if name != self.group_column], dtype=object
        )
        if len(names) != self.n_features_in_ or (seen is not None and list(names) != list(seen)):
            raise ValueError(
                f"input_features do not match the {self.n_features_in_} features seen in fit"
            )
        return names

    def _check_parameters(self) -> None:
        if self.unseen not in UNSEEN:
            raise ValueError(f"unseen must be one of {UNSEEN}, got {self.unseen!r}")
        if not isinstance(self.min_group_size, (int, np.integer)) or self.min_group_size < 2:
            raise ValueError(f"min_group_size must be an int >= 2, got {self.min_group_size!r}")

    def _groups_and_values(self, X, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        """The group of every row and the validated feature values of ``X``."""
        if self.group_column is None:
            values = validate_data(self, X, reset=reset, dtype=np.float64)
            return np.zeros(len(values), dtype=int), values
        if not isinstance(X, pd.DataFrame) or self.group_column not in X.columns:
            raise ValueError(
                f"{type(self).__name__} needs X as a DataFrame with a {self.group_column!r} "
                "column naming each row's group (or group_column=None for one group)"
            )
        groups = X[self.group_column].astype(str).to_numpy()
        features = X.drop(columns=self.group_column)
        return groups, validate_data(self, features, reset=reset, dtype=np.float64)

    def _unseen_statistics(self, group, values: np.ndarray):
        if self.unseen == "error":
            raise ValueError(
                f"Group {group!r} was not seen in fit (seen: {self.groups_.tolist()}); "
                "use unseen='self' or 'global' to standardise it anyway"
            )
        if self.unseen == "self" and len(values) >= self.min_group_size:
            return _mean_and_scale(values)
        if self.unseen == "self":
            warnings.warn(
                f"Group {group!r} was not seen in fit and has only {len(values)} rows "
                f"(< min_group_size={self.min_group_size}): standardised with the "
                "statistics of all training rows instead",
                UserWarning,
                stacklevel=3,
            )
        return self.global_mean_, self.global_scale_


def _mean_and_scale(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = values.mean(axis=0)
    scale = values.std(axis=0)
    # A constant feature carries nothing; keep it at zero instead of dividing by zero.
    scale[~(scale > 1e-12 * np.maximum(1.0, np.abs(mean)))] = 1.0
    return mean, scale

