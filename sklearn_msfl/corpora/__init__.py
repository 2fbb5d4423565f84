"""Loaders for public acted-emotion speech corpora, from the folders users already have.

Every loader walks the corpus folder as released (any nesting, any extension of
:data:`AUDIO_EXTENSIONS` in any letter case), parses the labels from the published file
naming convention and returns one tidy :class:`pandas.DataFrame` with one row per utterance
and the columns

``file``
    absolute path of the audio file (``str``),
``corpus``
    short corpus name (``"emodb"``, ``"ravdess"``, ...),
``language``
    ISO 639-1 code of the spoken language,
``speaker``
    speaker ID, unique across corpora (``"<corpus>_<id>"``),
``gender``
    ``"female"``, ``"male"``, or missing where the convention does not say,
``emotion``
    the corpus's own label code or word as it appears in the name (``"W"``, ``"05"``, ...),
``emotion_std``
    the label in the shared English vocabulary :data:`EMOTION_VOCABULARY`,

plus corpus-specific columns where the naming convention carries them cheaply (``sentence``,
``intensity``, ``repetition``). Rows are sorted by ``file``. Audio files that do not follow the
convention are not loaded: they are reported by a :class:`SkippedFilesWarning` and listed as
``(file, reason)`` pairs in ``frame.attrs["skipped"]``. Names starting with a dot (hidden files,
macOS ``._*`` resource forks) and non-audio files (documentation, CSV, video) are ignored.

The subpackage keeps one concern per private module: ``_naming`` (one file-name parser
per corpus and the label vocabulary), ``_walk`` (walking a folder into the frame),
``_loaders`` (the eight public loaders) and ``_collection`` (several corpora: by name,
from one folder, speaker subsets); every public name is imported here.

Examples
--------
>>> from sklearn_msfl.corpora import CORPORA
>>> sorted(CORPORA)
['casia', 'cremad', 'emodb', 'emovo', 'ravdess', 'savee', 'tess', 'urdu']
"""

from __future__ import annotations

import warnings

from ..features._audio_files import AUDIO_EXTENSIONS
from . import _collection, _naming
from ._collection import default_corpora_dir, load_corpora, load_corpus, subset_speakers
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
from ._walk import BASE_COLUMNS, SkippedFilesWarning  # noqa: F401 (BASE_COLUMNS: the first columns)

__all__ = [
    "AUDIO_EXTENSIONS",
    "CORPORA",
    "DEFAULT_EMOTIONS",
    "EMOTION_VOCABULARY",
    "SkippedFilesWarning",
    "default_corpora_dir",
    "load_casia",
    "load_corpora",
    "load_corpus",
    "load_cremad",
    "load_emodb",
    "load_emovo",
    "load_ravdess",
    "load_savee",
    "load_tess",
    "load_urdu",
    "subset_speakers",
]

#: Shared English emotion vocabulary of the ``emotion_std`` column: every label a loader gives.
EMOTION_VOCABULARY = _naming.EMOTION_VOCABULARY

#: The four emotions that EmoDB, RAVDESS, URDU, EMOVO and CASIA all share: the default of
#: :func:`load_corpora` and of :func:`sklearn_msfl.datasets.make_emotional_speech`.
DEFAULT_EMOTIONS = _naming.DEFAULT_EMOTIONS

#: Corpus name -> (loader, ISO 639-1 language).
CORPORA = _collection.CORPORA


def __getattr__(name: str):
    # ``EMOTIONS`` named this vocabulary here and the four default emotions in
    # ``sklearn_msfl.datasets``; each meaning now has its own name.
    if name == "EMOTIONS":
        warnings.warn(
            "sklearn_msfl.corpora.EMOTIONS is deprecated and will be removed: use "
            "EMOTION_VOCABULARY (all labels of emotion_std) or DEFAULT_EMOTIONS (the four shared "
            "ones).",
            FutureWarning,
            stacklevel=2,
        )
        return EMOTION_VOCABULARY
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
