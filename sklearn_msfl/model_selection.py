"""Speaker-independent cross-validation for multi-corpus speech emotion recognition.

The splitters work as ``cv=`` anywhere in scikit-learn (``cross_validate``, ``GridSearchCV``,
``cross_val_predict``, ...). They need each sample's speaker and, for
:class:`CorpusSpeakerKFold` and :class:`LeaveOneCorpusOut`, each sample's corpus. Those reach
``split(X, y, groups)`` in one of these ways, tried in this order:

1. ``groups`` is a two-column frame ``df[["corpus", "speaker"]]`` (or an array of shape
   ``(n_samples, 2)`` holding corpus then speaker): the recommended way with a feature array
   ``X``, e.g. ``cross_validate(model, X, y, groups=df[["corpus", "speaker"]], cv=cv)``.
2. ``groups`` holds the speaker IDs (1-D) and the corpus comes from the ``corpus`` argument
   of the splitter's constructor (one label per sample of the ``X`` given to ``split``) or,
   when ``X`` is a DataFrame, from its ``corpus`` column.
3. ``groups`` is None and ``X`` is the corpus frame of :mod:`sklearn_msfl.corpora`: its
   ``corpus`` and ``speaker`` columns are used. This also holds inside nested cross-validation,
   where scikit-learn does not pass ``groups`` to the inner search.

Speakers are identified by the pair (corpus, speaker) where the corpus is known, so speaker IDs
only need to be unique within a corpus.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state
from sklearn.utils.validation import _num_samples

from ._groups import (
    _HOW_TO_PASS,
    _check_n_splits,
    _corpus_and_speaker,
    _speaker_codes,
    _split_by_codes,
)

__all__ = ["CorpusSpeakerKFold", "LeaveOneCorpusOut", "LeaveOneSpeakerOut"]

class CorpusSpeakerKFold(BaseCrossValidator):
    """Speaker-independent K-fold within each corpus.

    Every corpus's speakers are divided into ``n_splits`` disjoint sets, so that each fold tests
    unseen speakers of *every* corpus and no speaker is in both the training and the test set.
    Speakers go, largest first, to the fold that holds the fewest utterances of their corpus
    (ties: fewest utterances over all corpora), which keeps the folds balanced even when
    speakers are very unbalanced (URDU). Plain ``GroupKFold`` on a pooled frame can instead
    leave a corpus out of some test folds.

    A corpus with fewer speakers than ``n_splits`` (at least 2, e.g. the 4 speakers of SAVEE
    or CASIA with ``n_splits=5``) gets ``n_speakers`` folds of its own: leave one speaker out
    within that corpus, each speaker tested exactly once, in the folds that hold the fewest
    utterances once the larger corpora are placed. The remaining folds test no speaker of
    that corpus, so its per-fold scores come from fewer folds; score it on the predictions
    pooled over folds (:meth:`~sklearn_msfl.evaluation.EvaluationResult.summary`).

    The corpus and speaker of each sample reach :meth:`split` as described in
    :mod:`sklearn_msfl.model_selection`: ``groups=df[["corpus", "speaker"]]``; or speaker IDs
    as ``groups`` with ``corpus`` given here or as a column of a DataFrame ``X``; or
    ``groups=None`` with the corpus frame as ``X``.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2. A corpus with fewer speakers (but at least 2) gets
        one fold per speaker; all corpora together need at least ``n_splits`` speakers.
    shuffle : bool, default=False
        Whether to randomise the order of speakers with equal utterance counts and which folds
        the speakers of each corpus share, instead of a deterministic order.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling when ``shuffle=True``; must stay None otherwise.
    corpus : array-like of shape (n_samples,), default=None
        Corpus label of each sample of the ``X`` given to :meth:`split`, for when ``groups`` is
        a 1-D array of speaker IDs and ``X`` is not a DataFrame with a ``corpus`` column.

    See Also
    --------
    LeaveOneSpeakerOut : One fold per speaker.
    LeaveOneCorpusOut : Train on some corpora, test on an unseen one.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_msfl.model_selection import CorpusSpeakerKFold
    >>> frame = pd.DataFrame({
    ...     "corpus": ["emodb"] * 5 + ["urdu"] * 5,
    ...     "speaker": ["d1", "d1", "d2", "d3", "d3", "u1", "u1", "u1", "u2", "u3"],
    ... })
    >>> cv = CorpusSpeakerKFold(n_splits=2)
    >>> for train, test in cv.split(frame):  # X is the corpus frame
    ...     print(sorted(set(frame.speaker[test])))
    ['d1', 'd2', 'u2', 'u3']
    ['d3', 'u1']

    With a feature array, pass the two label columns as ``groups``:

    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.model_selection import cross_validate
    >>> X, y = np.zeros((10, 3)), np.tile([0, 1], 5)
    >>> scores = cross_validate(DummyClassifier(), X, y, cv=cv,
    ...                         groups=frame[["corpus", "speaker"]])
    >>> len(scores["test_score"])
    2

    or the speakers as ``groups`` and the corpus labels to the splitter:

    >>> cv = CorpusSpeakerKFold(n_splits=2, corpus=frame["corpus"])
    >>> [len(test) for _, test in cv.split(X, y, groups=frame["speaker"])]
    [5, 5]
    """

    # Ask for ``groups`` also when scikit-learn's metadata routing is enabled.
    __metadata_request__split = {"groups": True}

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None, corpus=None):
        _check_n_splits(n_splits)
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
        if not shuffle and random_state is not None:
            raise ValueError(
                "Setting a random_state has no effect since shuffle is False. Leave "
                "random_state to its default (None), or set shuffle=True."
            )
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state
        self.corpus = corpus

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of folds, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored, present for API compatibility.

        Returns
        -------
        n_splits : int
            The number of folds.

        Examples
        --------
        >>> from sklearn_msfl.model_selection import CorpusSpeakerKFold
        >>> CorpusSpeakerKFold(n_splits=3).get_n_splits()
        3
        """
        return self.n_splits

    def split(self, X, y=None, groups=None):
        """Generate train and test indices, every test set holding speakers of every corpus.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The samples; a DataFrame may carry ``corpus`` and ``speaker`` columns.
        y : array-like of shape (n_samples,), default=None
            Ignored, present for API compatibility.
        groups : array-like of shape (n_samples,) or (n_samples, 2), default=None
            Speaker IDs, or a frame with ``corpus`` and ``speaker`` columns.

        Yields
        ------
        train : ndarray
            Training indices of the fold.
        test : ndarray
            Test indices of the fold.

        Raises
        ------
        ValueError
            If a corpus has a single speaker, all corpora together have fewer speakers than
            ``n_splits``, or corpus or speaker labels are missing.

        Examples
        --------
        >>> from sklearn_msfl.model_selection import CorpusSpeakerKFold
        >>> groups = [["a", "s1"], ["a", "s2"], ["b", "s1"], ["b", "s2"]]
        >>> [test.tolist() for _, test in CorpusSpeakerKFold(2).split(groups, groups=groups)]
        [[0, 2], [1, 3]]
        """
        corpora, speakers = _corpus_and_speaker(
            X, groups, self.corpus, need_corpus=True, need_speaker=True
        )
        codes, table = _speaker_codes(corpora, speakers)
        speaker_fold = self._assign_folds(table)
        yield from _split_by_codes(speaker_fold[codes], self.n_splits)

    def _assign_folds(self, table: pd.DataFrame) -> np.ndarray:
        """Fold number of each row of ``table`` (one row per speaker, sorted by corpus, speaker)."""
        rng = check_random_state(self.random_state) if self.shuffle else None
        folds = np.empty(len(table), dtype=int)
        overall_sizes = np.zeros(self.n_splits)
        corpus_names = table["corpus"].unique()
        if rng is not None:
            corpus_names = rng.permutation(corpus_names)
        corpus_names = self._small_corpora_last(table, corpus_names)
        for corpus in corpus_names:
            rows = np.flatnonzero(table["corpus"].to_numpy() == corpus)
            if len(rows) < 2:
                raise ValueError(
                    f"corpus {corpus!r} has a single speaker: no speaker-independent test "
                    "within it is possible; drop it or test it with LeaveOneCorpusOut"
                )
            if rng is not None:
                rows = rng.permutation(rows)
            counts = table["n_samples"].to_numpy()[rows]
            rows = rows[np.argsort(-counts, kind="stable")]  # largest speakers first
            fold_rank = rng.permutation(self.n_splits) if rng is not None else np.arange(
                self.n_splits)
            corpus_sizes = np.zeros(self.n_splits)
            for row in rows:
                # Lightest fold of this corpus, then lightest overall, then fold rank.
                fold = np.lexsort((fold_rank, overall_sizes, corpus_sizes))[0]
                folds[row] = fold
                corpus_sizes[fold] += table["n_samples"].iat[row]
                overall_sizes[fold] += table["n_samples"].iat[row]
        if (overall_sizes == 0).any():
            raise ValueError(
                f"only {len(table)} speakers in all, fewer than n_splits={self.n_splits}: "
                "some folds would test nothing; lower n_splits"
            )
        return folds

    def _small_corpora_last(self, table: pd.DataFrame, corpus_names) -> list:
        """Corpora with fewer speakers than folds go last, into the lightest folds by then."""
        n_speakers = table.groupby("corpus")["speaker"].size()
        small = [name for name in corpus_names if n_speakers[name] < self.n_splits]
        return [name for name in corpus_names if name not in small] + small


class LeaveOneSpeakerOut(BaseCrossValidator):
    """Leave-one-speaker-out cross-validation, with the groups interface of this module.

    Each fold tests one speaker, identified by the pair (corpus, speaker) where the corpus is
    known (``groups=df[["corpus", "speaker"]]``, ``corpus`` here or a ``corpus`` column of a
    DataFrame ``X``) and by the speaker ID alone otherwise. Speakers come in sorted order.

    Parameters
    ----------
    corpus : array-like of shape (n_samples,), default=None
        Corpus label of each sample, to tell apart speakers with equal IDs in different corpora.

    See Also
    --------
    CorpusSpeakerKFold : Fewer, larger folds with speakers of every corpus in each.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_msfl.model_selection import LeaveOneSpeakerOut
    >>> frame = pd.DataFrame({"corpus": ["a", "a", "b", "b"], "speaker": ["1", "2", "1", "1"]})
    >>> cv = LeaveOneSpeakerOut()
    >>> cv.get_n_splits(frame)
    3
    >>> [test.tolist() for _, test in cv.split(frame)]
    [[0], [1], [2, 3]]
    """

    __metadata_request__split = {"groups": True}

    def __init__(self, *, corpus=None):
        self.corpus = corpus

    def _codes(self, X, groups):
        corpora, speakers = _corpus_and_speaker(
            X, groups, self.corpus, need_corpus=False, need_speaker=True
        )
        codes, table = _speaker_codes(corpora, speakers)
        if len(table) < 2:
            raise ValueError(f"need at least 2 speakers, got {len(table)}")
        return codes, len(table)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of speakers.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), default=None
            The samples; a DataFrame may carry ``corpus`` and ``speaker`` columns.
        y : object
            Ignored, present for API compatibility.
        groups : array-like of shape (n_samples,) or (n_samples, 2), default=None
            Speaker IDs, or a frame with ``corpus`` and ``speaker`` columns.

        Returns
        -------
        n_splits : int
            The number of distinct speakers.

        Examples
        --------
        >>> from sklearn_msfl.model_selection import LeaveOneSpeakerOut
        >>> LeaveOneSpeakerOut().get_n_splits(groups=["s1", "s2", "s2"])
        2
        """
        if X is None:
            if groups is None:
                raise ValueError(f"the speaker of each sample is needed: {_HOW_TO_PASS}")
            X = np.empty(_num_samples(np.asarray(groups, dtype=object)))
        return self._codes(X, groups)[1]

    def split(self, X, y=None, groups=None):
        """Generate train and test indices, one speaker per test set.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The samples; a DataFrame may carry ``corpus`` and ``speaker`` columns.
        y : array-like of shape (n_samples,), default=None
            Ignored, present for API compatibility.
        groups : array-like of shape (n_samples,) or (n_samples, 2), default=None
            Speaker IDs, or a frame with ``corpus`` and ``speaker`` columns.

        Yields
        ------
        train : ndarray
            Training indices of the fold.
        test : ndarray
            Test indices of the fold.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_msfl.model_selection import LeaveOneSpeakerOut
        >>> X = np.zeros((3, 2))
        >>> [test.tolist() for _, test in LeaveOneSpeakerOut().split(X, groups=["b", "a", "b"])]
        [[1], [0, 2]]
        """
        codes, n_speakers = self._codes(X, groups)
        yield from _split_by_codes(codes, n_speakers)


class LeaveOneCorpusOut(BaseCrossValidator):
    """Leave-one-corpus-out: train on some corpora (languages), test on an unseen one.

    Each fold tests all utterances of one corpus, in sorted corpus order. The corpus of each
    sample comes from ``groups=df[["corpus", "speaker"]]``, the ``corpus`` argument, or the
    ``corpus`` column of a DataFrame ``X``; 1-D ``groups`` are speaker IDs and are not used.

    Parameters
    ----------
    corpus : array-like of shape (n_samples,), default=None
        Corpus label of each sample of the ``X`` given to :meth:`split`.

    See Also
    --------
    CorpusSpeakerKFold : Test unseen speakers of every corpus.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_msfl.model_selection import LeaveOneCorpusOut
    >>> cv = LeaveOneCorpusOut(corpus=["urdu", "emodb", "urdu", "ravdess"])
    >>> X = np.zeros((4, 2))
    >>> cv.get_n_splits(X)
    3
    >>> [test.tolist() for _, test in cv.split(X)]
    [[1], [3], [0, 2]]
    """

    __metadata_request__split = {"groups": True}

    def __init__(self, *, corpus=None):
        self.corpus = corpus

    def _codes(self, X, groups):
        corpora, _ = _corpus_and_speaker(
            X, groups, self.corpus, need_corpus=True, need_speaker=False
        )
        names, codes = np.unique(corpora, return_inverse=True)
        if len(names) < 2:
            raise ValueError(f"need at least 2 corpora, got {list(names)}")
        return codes, len(names)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of corpora.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), default=None
            The samples; a DataFrame may carry a ``corpus`` column.
        y : object
            Ignored, present for API compatibility.
        groups : array-like of shape (n_samples,) or (n_samples, 2), default=None
            A frame with ``corpus`` and ``speaker`` columns, or speaker IDs (not used).

        Returns
        -------
        n_splits : int
            The number of distinct corpora.

        Examples
        --------
        >>> from sklearn_msfl.model_selection import LeaveOneCorpusOut
        >>> LeaveOneCorpusOut(corpus=["a", "b", "b"]).get_n_splits()
        2
        """
        if X is None:
            if groups is not None:
                X = np.empty(_num_samples(np.asarray(groups, dtype=object)))
            elif self.corpus is not None:
                X = np.empty(_num_samples(np.asarray(self.corpus, dtype=object)))
            else:
                raise ValueError(f"the corpus of each sample is needed: {_HOW_TO_PASS}")
        return self._codes(X, groups)[1]

    def split(self, X, y=None, groups=None):
        """Generate train and test indices, one corpus per test set.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The samples; a DataFrame may carry a ``corpus`` column.
        y : array-like of shape (n_samples,), default=None
            Ignored, present for API compatibility.
        groups : array-like of shape (n_samples,) or (n_samples, 2), default=None
            A frame with ``corpus`` and ``speaker`` columns, or speaker IDs (not used).

        Yields
        ------
        train : ndarray
            Training indices of the fold.
        test : ndarray
            Test indices of the fold.

        Examples
        --------
        >>> import pandas as pd
        >>> from sklearn_msfl.model_selection import LeaveOneCorpusOut
        >>> frame = pd.DataFrame({"corpus": ["b", "a", "b"], "speaker": ["1", "2", "3"]})
        >>> [test.tolist() for _, test in LeaveOneCorpusOut().split(frame)]
        [[1], [0, 2]]
        """
        codes, n_corpora = self._codes(X, groups)
        yield from _split_by_codes(codes, n_corpora)
