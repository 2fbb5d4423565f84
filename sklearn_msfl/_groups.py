"""Corpus and speaker columns for the speaker-independent splitters.

The splitters of :mod:`sklearn_msfl.model_selection` find each sample's corpus and
speaker here (from ``groups``, the ``corpus`` argument or the corpus frame ``X``),
code the speakers and deal the codes into folds.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils.validation import _num_samples

_HOW_TO_PASS = (
    "pass groups=df[['corpus', 'speaker']], or groups=<speaker IDs> together with the "
    "splitter's corpus=<corpus labels>, or X as the corpus DataFrame with 'corpus' and "
    "'speaker' columns"
)


def _column(values, name: str, n_samples: int) -> np.ndarray:
    """One label per sample as strings (so that sorting is defined), checked for gaps."""
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy(dtype=object)
    values = np.asarray(values, dtype=object)
    if values.ndim != 1 or len(values) != n_samples:
        raise ValueError(
            f"{name} must hold one label per sample ({n_samples}), got shape {values.shape}"
        )
    if pd.isna(values).any():
        raise ValueError(f"{name} has missing values")
    return values.astype(str)


def _corpus_and_speaker(X, groups, corpus, *, need_corpus: bool, need_speaker: bool):
    """Resolve each sample's corpus and speaker labels (see the module docstring)."""
    n_samples = _num_samples(X)
    frame = X if isinstance(X, pd.DataFrame) else None
    group_corpus = speaker = None
    if groups is not None:
        if isinstance(groups, pd.DataFrame):
            missing = {"corpus", "speaker"} - set(groups.columns)
            if missing:
                raise ValueError(f"groups frame lacks the columns {sorted(missing)}")
            group_corpus, speaker = groups["corpus"], groups["speaker"]
        else:
            values = np.asarray(groups, dtype=object)
            if values.ndim == 2 and values.shape[1] == 2:
                group_corpus, speaker = values[:, 0], values[:, 1]
            elif values.ndim == 1:
                speaker = values
            else:
                raise ValueError(
                    "groups must be 1-D speaker IDs or two columns (corpus, speaker), got shape "
                    f"{values.shape}"
                )
    elif frame is not None and "speaker" in frame.columns:
        speaker = frame["speaker"]

    if group_corpus is None:
        if corpus is not None:
            group_corpus = corpus
        elif frame is not None and "corpus" in frame.columns:
            group_corpus = frame["corpus"]

    if need_speaker and speaker is None:
        raise ValueError(f"the speaker of each sample is needed: {_HOW_TO_PASS}")
    if need_corpus and group_corpus is None:
        raise ValueError(f"the corpus of each sample is needed: {_HOW_TO_PASS}")
    corpora = None if group_corpus is None else _column(group_corpus, "corpus", n_samples)
    speakers = None if speaker is None else _column(speaker, "speaker", n_samples)
    return corpora, speakers


def _speaker_codes(corpora, speakers) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer code of each sample's (corpus, speaker) pair and the sorted table of pairs."""
    pairs = pd.DataFrame({
        "corpus": corpora if corpora is not None else np.full(len(speakers), ""),
        "speaker": speakers,
    })
    grouping = pairs.groupby(["corpus", "speaker"], sort=True)
    codes = grouping.ngroup().to_numpy()
    table = grouping.size().rename("n_samples").reset_index()
    return codes, table


def _check_n_splits(n_splits):
    if not isinstance(n_splits, numbers.Integral) or isinstance(n_splits, bool):
        raise ValueError(f"n_splits must be an integer, got {n_splits!r}")
    if n_splits < 2:
        raise ValueError(f"n_splits must be at least 2, got {n_splits}")


def _split_by_codes(codes: np.ndarray, n_folds: int):
    """Yield (train, test) indices with test = the samples whose code is the fold number."""
    indices = np.arange(len(codes))
    for fold in range(n_folds):
        test = codes == fold
        yield indices[~test], indices[test]
