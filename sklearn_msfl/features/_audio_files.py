"""Which files count as audio, and walking a folder for them.

One rule for the corpus loaders and the command line. Kept free of heavy imports, so that the
command line can check its inputs before it imports numpy, pandas or torch.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Audio file extensions picked up in folders (compared in lower case): the formats that the
#: feature extractor's reader (audiofile, through libsndfile) reads without ffmpeg or sox.
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg")


def is_audio_name(name: str | os.PathLike) -> bool:
    """Whether a file name has an audio extension and is not hidden.

    Hidden names include macOS ``._*`` resource forks, which carry an audio extension but no
    audio.

    Examples
    --------
    >>> from sklearn_msfl.features._audio_files import is_audio_name
    >>> [is_audio_name(name) for name in ["a.WAV", "b.mp3", "._a.wav", "notes.txt"]]
    [True, True, False, False]
    """
    name = Path(name).name
    return not name.startswith(".") and Path(name).suffix.lower() in AUDIO_EXTENSIONS


def find_audio_files(root: str | os.PathLike) -> list[Path]:
    """All audio files under ``root``, recursively, sorted by path; hidden folders are skipped.

    Examples
    --------
    >>> from pathlib import Path
    >>> from tempfile import TemporaryDirectory
    >>> from sklearn_msfl.features._audio_files import find_audio_files
    >>> with TemporaryDirectory() as root:
    ...     for name in ["b/2.ogg", "a.flac", ".cache/3.wav", "README.md"]:
    ...         (Path(root) / name).parent.mkdir(exist_ok=True)
    ...         (Path(root) / name).touch()
    ...     [path.relative_to(root).as_posix() for path in find_audio_files(root)]
    ['a.flac', 'b/2.ogg']
    """
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found.extend(Path(folder) / name for name in names if is_audio_name(name))
    return sorted(found, key=str)
