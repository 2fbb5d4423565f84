"""Several corpora at once: the :data:`CORPORA` table, loading by name or from one folder, speaker subsets."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ._loaders import (
    load_casia,
    load_cremad,
    load_emodb,
    load_emovo,
    load_ravdess,
    load_savee,
    load_tess,
    load_urdu,
)
from ._naming import DEFAULT_EMOTIONS, EMOTION_VOCABULARY
from ._walk import _check_folder


# Public as sklearn_msfl.corpora.CORPORA, documented there.
CORPORA = {
    "emodb": (load_emodb, "de"),
    "ravdess": (load_ravdess, "en"),
    "urdu": (load_urdu, "ur"),
    "emovo": (load_emovo, "it"),
    "casia": (load_casia, "zh"),
    "savee": (load_savee, "en"),
    "tess": (load_tess, "en"),
    "cremad": (load_cremad, "en"),
}


def _corpus_key(name: str) -> str:
    """``"CREMA-D"`` -> ``"cremad"``: case, dashes, underscores and spaces do not matter."""
    key = re.sub(r"[^a-z0-9]", "", str(name).lower())
    if key not in CORPORA:
        raise ValueError(f"unknown corpus {name!r}; known corpora: {', '.join(CORPORA)}")
    return key


def load_corpus(name: str, path: str | os.PathLike) -> pd.DataFrame:
    """Load one corpus by name.

    Parameters
    ----------
    name : str
        One of ``emodb``, ``ravdess``, ``urdu``, ``emovo``, ``casia``, ``savee``, ``tess``,
        ``cremad`` (case, dashes and underscores are ignored: ``"CREMA-D"`` works).
    path : str or path-like
        The corpus folder as released.

    Returns
    -------
    frame : pandas.DataFrame
        See the loader of that corpus, e.g. :func:`load_emodb`.

    Examples
    --------
    >>> from pathlib import Path
    >>> from tempfile import TemporaryDirectory
    >>> from sklearn_msfl.corpora import load_corpus
    >>> with TemporaryDirectory() as root:
    ...     (Path(root) / "OAF_back_angry.flac").touch()
    ...     load_corpus("TESS", root)[["corpus", "language", "emotion_std"]]
      corpus language emotion_std
    0   tess       en       anger
    """
    loader, _ = CORPORA[_corpus_key(name)]
    return loader(path)


def _find_corpus_folders(root: str | os.PathLike) -> dict[str, Path]:
    """Sub-folders of ``root`` named after a known corpus (``emodb``, ``CREMA-D``, ...)."""
    root = _check_folder(root, "corpora")
    found = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        key = re.sub(r"[^a-z0-9]", "", folder.name.lower())
        if key in CORPORA and key not in found:
            found[key] = folder
    if not found:
        raise ValueError(f"no corpus folder ({', '.join(CORPORA)}) found in {root}")
    return found


def load_corpora(
    paths: Mapping[str, str | os.PathLike] | str | os.PathLike,
    emotions: Iterable[str] | None = DEFAULT_EMOTIONS,
) -> pd.DataFrame:
    """Load several corpora into one multilingual frame, keeping the chosen shared emotions.

    Parameters
    ----------
    paths : mapping of str to path, or path
        Corpus name -> corpus folder, e.g. ``{"emodb": ".../emodb", "ravdess": ".../ravdess"}``.
        A single folder instead loads each of its sub-folders that is named after a known
        corpus (``emodb``, ``ravdess``, ``urdu``, ``CREMA-D``, ...).
    emotions : iterable of str or None, default=DEFAULT_EMOTIONS
        Emotions of the shared vocabulary :data:`EMOTION_VOCABULARY` to keep (``emotion_std``); the
        default is anger, happiness, neutral and sadness, which EmoDB, RAVDESS, URDU, EMOVO and
        CASIA all have. ``None`` keeps every utterance.

    Returns
    -------
    frame : pandas.DataFrame
        The corpus frames concatenated in the order of ``paths`` (each sorted by ``file``),
        with a fresh index; ``attrs["skipped"]`` lists the skipped files of all corpora.

    Examples
    --------
    >>> from pathlib import Path
    >>> from tempfile import TemporaryDirectory
    >>> from sklearn_msfl.corpora import load_corpora
    >>> with TemporaryDirectory() as root:
    ...     (Path(root) / "tess").mkdir()
    ...     for name in ["OAF_back_angry.wav", "OAF_back_fear.wav"]:
    ...         (Path(root) / "tess" / name).touch()
    ...     (Path(root) / "savee").mkdir()
    ...     (Path(root) / "savee" / "DC_sa01.wav").touch()
    ...     load_corpora(root)[["corpus", "speaker", "emotion_std"]]
      corpus   speaker emotion_std
    0  savee  savee_DC     sadness
    1   tess  tess_OAF       anger
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = _find_corpus_folders(paths)
    if not paths:
        raise ValueError("no corpus given")
    keep = None
    if emotions is not None:
        keep = list(emotions)
        unknown = sorted(set(keep) - set(EMOTION_VOCABULARY))
        if unknown:
            raise ValueError(f"unknown emotions {unknown}; choose from {EMOTION_VOCABULARY}")
    frames, skipped = [], []
    for name, path in paths.items():
        frame = load_corpus(name, path)
        skipped += frame.attrs["skipped"]
        if keep is not None:
            frame = frame[frame["emotion_std"].isin(keep)]
        frames.append(frame)
    combined = pd.concat(frames, ignore_index=True)
    if combined.empty:
        raise ValueError(f"no utterance with the emotions {keep} in the given corpora")
    combined.attrs = {"skipped": skipped}
    return combined


def default_corpora_dir(fallback: str | os.PathLike | None = None) -> Path | None:
    """Return the corpora root: ``$MSFL_CORPORA``, else ``fallback``, if it names a folder.

    The one rule by which tests, examples and benchmarks find the corpora (they pass their
    own ``fallback``, e.g. ``../shared/corpora`` next to the repository); load the corpora
    below it with :func:`load_corpora`.

    Parameters
    ----------
    fallback : str or path-like, default=None
        Folder used when ``MSFL_CORPORA`` is unset or does not name a folder.

    Returns
    -------
    path : pathlib.Path or None
        The first of ``MSFL_CORPORA`` and ``fallback`` that names a folder (``~`` expanded),
        or ``None``.

    Examples
    --------
    >>> import os
    >>> from tempfile import TemporaryDirectory
    >>> from sklearn_msfl.corpora import default_corpora_dir
    >>> os.environ.get("MSFL_CORPORA") is not None or default_corpora_dir() is None
    True
    >>> with TemporaryDirectory() as root:
    ...     "MSFL_CORPORA" in os.environ or str(default_corpora_dir(fallback=root)) == root
    True
    """
    for candidate in (os.environ.get("MSFL_CORPORA"), fallback):
        if candidate:
            path = Path(candidate).expanduser()
            if path.is_dir():
                return path
    return None


def subset_speakers(
    frame: pd.DataFrame,
    n_per_corpus: int,
    random_state: int | np.random.RandomState | None = None,
    *,
    largest: bool = False,
) -> pd.DataFrame:
    """Keep the utterances of ``n_per_corpus`` speakers of every corpus.

    Handy for quick end-to-end runs on real corpora that stay speaker independent.

    Parameters
    ----------
    frame : pandas.DataFrame
        A corpus frame with ``corpus`` and ``speaker`` columns.
    n_per_corpus : int
        Number of speakers to keep per corpus.
    random_state : int, RandomState instance or None, default=None
        Seeds the random choice of speakers (ignored when ``largest=True``).
    largest : bool, default=False
        If True, keep the speakers with the most utterances (ties by speaker ID) instead of a
        random choice, e.g. to avoid URDU speakers that have only two files.

    Returns
    -------
    subset : pandas.DataFrame
        The rows of the chosen speakers in their original order, with a fresh index.

    Raises
    ------
    ValueError
        If a corpus has fewer than ``n_per_corpus`` speakers.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_msfl.corpora import subset_speakers
    >>> frame = pd.DataFrame({"corpus": ["a", "a", "a", "b", "b"],
    ...                       "speaker": ["a_1", "a_1", "a_2", "b_1", "b_2"]})
    >>> subset_speakers(frame, 1, largest=True)
      corpus speaker
    0      a     a_1
    1      a     a_1
    2      b     b_1
    """
    if not isinstance(n_per_corpus, (int, np.integer)) or n_per_corpus < 1:
        raise ValueError(f"n_per_corpus must be a positive integer, got {n_per_corpus!r}")
    rng = check_random_state(random_state)
    chosen = []
    for corpus, speakers in frame.groupby("corpus", sort=True)["speaker"]:
        counts = speakers.value_counts()
        if len(counts) < n_per_corpus:
            raise ValueError(
                f"corpus {corpus!r} has {len(counts)} speakers, fewer than n_per_corpus="
                f"{n_per_corpus}"
            )
        if largest:
            ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
            chosen += [speaker for speaker, _ in ranked[:n_per_corpus]]
        else:
            names = np.array(sorted(counts.index, key=str), dtype=object)
            chosen += list(rng.choice(names, size=n_per_corpus, replace=False))
    subset = frame[frame["speaker"].isin(chosen)].reset_index(drop=True)
    subset.attrs = dict(frame.attrs)
    return subset
