"""Walking a corpus folder into the tidy frame: audio discovery, parsing, duplicates, skipped files."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..features._audio_files import AUDIO_EXTENSIONS, find_audio_files
from ._naming import _PARSERS


BASE_COLUMNS = ["file", "corpus", "language", "speaker", "gender", "emotion", "emotion_std"]

# Compressed formats of AUDIO_EXTENSIONS: a lossless copy of the same utterance is preferred.
_LOSSY_EXTENSIONS = (".mp3", ".ogg")

# Only this many examples of skipped files go into the warning text; attrs keeps them all.
_N_EXAMPLES = 3


class SkippedFilesWarning(UserWarning):
    """Warning issued when audio files in a corpus folder do not follow its naming convention.

    The skipped files and the reasons are listed in ``frame.attrs["skipped"]``.

    Examples
    --------
    >>> import warnings
    >>> from pathlib import Path
    >>> from tempfile import TemporaryDirectory
    >>> from sklearn_msfl.corpora import SkippedFilesWarning, load_tess
    >>> with TemporaryDirectory() as root:
    ...     for name in ["OAF_back_angry.wav", "notes.wav"]:
    ...         (Path(root) / name).touch()
    ...     with warnings.catch_warnings():
    ...         warnings.simplefilter("ignore", SkippedFilesWarning)  # silence the report
    ...         frame = load_tess(root)
    ...     [(Path(file).name, reason) for file, reason in frame.attrs["skipped"]]
    [('notes.wav', 'name is not <OAF|YAF>_<word>_<emotion>')]
    """


def _check_folder(path: str | os.PathLike, corpus: str) -> Path:
    if path is None:
        raise TypeError(f"path of the {corpus} folder is None")
    root = Path(path).expanduser().absolute()
    if not root.exists():
        raise FileNotFoundError(f"{corpus} folder not found: {root}")
    if not root.is_dir():
        raise NotADirectoryError(f"{corpus} path is not a folder: {root}")
    return root


def _format_examples(skipped: list[tuple[str, str]], root: Path) -> str:
    return "; ".join(
        f"{os.path.relpath(file, root)} ({reason})" for file, reason in skipped[:_N_EXAMPLES]
    )


def _load_folder(
    path: str | os.PathLike,
    corpus: str,
    language: str,
    parse: Callable[[Path], dict | str] | None = None,
) -> pd.DataFrame:
    """Walk ``path``, parse every audio file with ``parse`` and build the corpus frame."""
    root = _check_folder(path, corpus)
    if parse is None:
        parse = _PARSERS[corpus]
    files = find_audio_files(root)
    if not files:
        raise ValueError(
            f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) found under the {corpus} folder {root}"
        )
    rows, skipped, seen = [], [], {}
    # Of one utterance in several formats (CREMA-D ships AudioWAV and AudioMP3), keep a lossless
    # copy; the others are reported as duplicates.
    for file in sorted(files, key=lambda f: (f.suffix.lower() in _LOSSY_EXTENSIONS, str(f))):
        labels = parse(file)
        if isinstance(labels, str):
            skipped.append((str(file), labels))
            continue
        utterance = labels.pop("utterance")
        if utterance in seen:
            skipped.append((str(file), f"duplicate of {seen[utterance]}"))
            continue
        seen[utterance] = file.name
        speaker = labels.pop("speaker")
        rows.append(dict(file=str(file), corpus=corpus, language=language,
                         speaker=f"{corpus}_{speaker}", **labels))
    skipped.sort()
    if not rows:
        raise ValueError(
            f"none of the {len(files)} audio files under {root} follows the {corpus} naming "
            f"convention, is it the right folder? e.g. {_format_examples(skipped, root)}"
        )
    if skipped:
        warnings.warn(
            f"{corpus}: skipped {len(skipped)} of {len(files)} audio files that do not follow "
            f"the naming convention (all listed in frame.attrs['skipped']), e.g. "
            f"{_format_examples(skipped, root)}",
            SkippedFilesWarning,
            stacklevel=3,
        )
    frame = pd.DataFrame(rows).sort_values("file", ignore_index=True)
    frame = frame[BASE_COLUMNS + [c for c in frame.columns if c not in BASE_COLUMNS]]
    frame.attrs["skipped"] = skipped
    return frame
