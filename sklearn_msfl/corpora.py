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
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ._audio_files import AUDIO_EXTENSIONS, find_audio_files

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
EMOTION_VOCABULARY = (
    "anger",
    "boredom",
    "calm",
    "disgust",
    "fear",
    "happiness",
    "neutral",
    "sadness",
    "surprise",
)

#: The four emotions that EmoDB, RAVDESS, URDU, EMOVO and CASIA all share: the default of
#: :func:`load_corpora` and of :func:`sklearn_msfl.datasets.make_emotional_speech`.
DEFAULT_EMOTIONS = ("anger", "happiness", "neutral", "sadness")

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


# --------------------------------------------------------------------------------------------
# Naming conventions. A parser gets the absolute path of one audio file and returns either the
# labels as a dict (``utterance`` is a key that identifies the recording, to catch the same
# utterance present twice, e.g. as .wav and .flac) or a string that says why it was skipped.
# --------------------------------------------------------------------------------------------

_EMODB_SPEAKERS = {
    "03": "male", "08": "female", "09": "female", "10": "male", "11": "male",
    "12": "male", "13": "female", "14": "female", "15": "male", "16": "female",
}
_EMODB_EMOTIONS = {
    "W": "anger", "L": "boredom", "E": "disgust", "A": "fear",
    "F": "happiness", "T": "sadness", "N": "neutral",
}
_EMODB_NAME = re.compile(r"(\d\d)([a-z]\d\d)([A-Z])([a-z])")


def _parse_emodb(file: Path) -> dict | str:
    match = _EMODB_NAME.fullmatch(file.stem)
    if match is None:
        return "name is not SSTTTEV (speaker, text, emotion, version)"
    speaker, text, emotion, _ = match.groups()
    if speaker not in _EMODB_SPEAKERS:
        return f"unknown EmoDB speaker {speaker!r}"
    if emotion not in _EMODB_EMOTIONS:
        return f"unknown EmoDB emotion letter {emotion!r}"
    return dict(utterance=file.stem, speaker=speaker, gender=_EMODB_SPEAKERS[speaker],
                emotion=emotion, emotion_std=_EMODB_EMOTIONS[emotion], sentence=text)


_RAVDESS_EMOTIONS = {
    "01": "neutral", "02": "calm", "03": "happiness", "04": "sadness",
    "05": "anger", "06": "fear", "07": "disgust", "08": "surprise",
}
_RAVDESS_INTENSITY = {"01": "normal", "02": "strong"}
_RAVDESS_NAME = re.compile(r"(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)")


def _parse_ravdess(file: Path) -> dict | str:
    match = _RAVDESS_NAME.fullmatch(file.stem)
    if match is None:
        return "name is not MM-VV-EE-II-SS-RR-AA"
    modality, channel, emotion, intensity, statement, repetition, actor = match.groups()
    if (modality, channel) != ("03", "01"):
        return f"not speech audio-only (modality {modality}, channel {channel}; wanted 03-01)"
    if (emotion not in _RAVDESS_EMOTIONS or intensity not in _RAVDESS_INTENSITY
            or statement not in ("01", "02") or repetition not in ("01", "02")
            or not 1 <= int(actor) <= 24):
        return "a field is out of the RAVDESS range"
    return dict(utterance=file.stem, speaker=actor,
                gender="male" if int(actor) % 2 else "female",
                emotion=emotion, emotion_std=_RAVDESS_EMOTIONS[emotion], sentence=statement,
                intensity=_RAVDESS_INTENSITY[intensity], repetition=int(repetition))


_URDU_EMOTIONS = {"A": "anger", "H": "happiness", "N": "neutral", "S": "sadness"}
_URDU_FOLDERS = {"angry": "A", "happy": "H", "neutral": "N", "sad": "S"}
_URDU_NAME = re.compile(r"S([MF])(\d+)_F(\d+)_([AHNS])(\d+)", re.IGNORECASE)


def _parse_urdu(file: Path) -> dict | str:
    match = _URDU_NAME.fullmatch(file.stem)
    if match is None:
        return "name is not S<G><X>_F<XX>_<E><YY>"
    gender, number, _, emotion, _ = (group.upper() for group in match.groups())
    folder_emotion = _URDU_FOLDERS.get(file.parent.name.lower())
    if folder_emotion is not None and folder_emotion != emotion:
        return f"emotion letter {emotion!r} contradicts folder {file.parent.name!r}"
    return dict(utterance=file.stem.upper(), speaker=f"S{gender}{int(number)}",
                gender="male" if gender == "M" else "female",
                emotion=emotion, emotion_std=_URDU_EMOTIONS[emotion])


_EMOVO_EMOTIONS = {
    "dis": "disgust", "gio": "happiness", "neu": "neutral", "pau": "fear",
    "rab": "anger", "sor": "surprise", "tri": "sadness",
}
_EMOVO_NAME = re.compile(r"([a-z]{3})-([fm][123])-([a-z]\d+)", re.IGNORECASE)


def _parse_emovo(file: Path) -> dict | str:
    match = _EMOVO_NAME.fullmatch(file.stem)
    if match is None:
        return "name is not <emotion>-<speaker>-<sentence>"
    emotion, speaker, sentence = (group.lower() for group in match.groups())
    if emotion not in _EMOVO_EMOTIONS:
        return f"unknown EMOVO emotion {emotion!r}"
    return dict(utterance=f"{emotion}-{speaker}-{sentence}", speaker=speaker,
                gender="female" if speaker[0] == "f" else "male",
                emotion=emotion, emotion_std=_EMOVO_EMOTIONS[emotion], sentence=sentence)


_CASIA_EMOTIONS = {
    "angry": "anger", "fear": "fear", "happy": "happiness",
    "neutral": "neutral", "sad": "sadness", "surprise": "surprise",
}
# Speaker ID -> gender. IDs are the lower-cased folder names, spelt correctly.
_CASIA_SPEAKERS = {
    "liuchang": "female", "zhaoquanyin": "female", "wangzhe": "male", "zhaozuoxiang": "male",
}
# The public release names liuchang's folder "liuchanhg"; both spellings give one speaker.
_CASIA_FOLDER_ALIASES = {"liuchanhg": "liuchang"}


def _parse_casia(file: Path) -> dict | str:
    emotion = file.parent.name.lower()
    speaker_folder = file.parent.parent.name
    if emotion not in _CASIA_EMOTIONS:
        return "not in an emotion folder <speaker>/<emotion>/<id>"
    speaker = _CASIA_FOLDER_ALIASES.get(speaker_folder.lower(), speaker_folder.lower())
    if speaker not in _CASIA_SPEAKERS:
        return f"unknown CASIA speaker folder {speaker_folder!r}"
    if not file.stem.isdigit():
        return "file name is not a numeric sentence id"
    return dict(utterance=f"{speaker}/{emotion}/{int(file.stem)}", speaker=speaker,
                gender=_CASIA_SPEAKERS[speaker], emotion=emotion,
                emotion_std=_CASIA_EMOTIONS[emotion], sentence=file.stem)


_SAVEE_EMOTIONS = {
    "a": "anger", "d": "disgust", "f": "fear", "h": "happiness",
    "n": "neutral", "sa": "sadness", "su": "surprise",
}
_SAVEE_SPEAKERS = ("DC", "JE", "JK", "KL")
_SAVEE_NAME = re.compile(r"(?:([a-z]{2})_)?(sa|su|[adfhn])(\d\d)", re.IGNORECASE)


def _parse_savee(file: Path) -> dict | str:
    match = _SAVEE_NAME.fullmatch(file.stem)
    if match is None:
        return "name is not <speaker>_<emotion><nn> or <speaker>/<emotion><nn>"
    speaker, emotion, number = match.groups()
    speaker = (speaker or file.parent.name).upper()
    if speaker not in _SAVEE_SPEAKERS:
        return f"unknown SAVEE speaker {speaker!r}"
    emotion = emotion.lower()
    # All four SAVEE speakers are male (British English).
    return dict(utterance=f"{speaker}_{emotion}{number}", speaker=speaker, gender="male",
                emotion=emotion, emotion_std=_SAVEE_EMOTIONS[emotion])


_TESS_EMOTIONS = {
    "angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness",
    "neutral": "neutral", "ps": "surprise", "sad": "sadness",
}
_TESS_NAME = re.compile(r"(OAF|YAF)_([a-z]+)_([a-z]+)", re.IGNORECASE)


def _parse_tess(file: Path) -> dict | str:
    match = _TESS_NAME.fullmatch(file.stem)
    if match is None:
        return "name is not <OAF|YAF>_<word>_<emotion>"
    speaker, word, emotion = match.groups()
    speaker, word, emotion = speaker.upper(), word.lower(), emotion.lower()
    if emotion not in _TESS_EMOTIONS:
        return f"unknown TESS emotion {emotion!r}"
    # Both TESS actresses are women (older OAF, younger YAF).
    return dict(utterance=f"{speaker}_{word}_{emotion}", speaker=speaker, gender="female",
                emotion=emotion, emotion_std=_TESS_EMOTIONS[emotion], sentence=word)


_CREMAD_EMOTIONS = {
    "ANG": "anger", "DIS": "disgust", "FEA": "fear",
    "HAP": "happiness", "NEU": "neutral", "SAD": "sadness",
}
_CREMAD_SENTENCES = {
    "IEO", "TIE", "IOM", "IWW", "TAI", "MTI", "IWL", "ITH", "DFA", "ITS", "TSI", "WSI",
}
_CREMAD_LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
_CREMAD_NAME = re.compile(r"(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})", re.IGNORECASE)
_CREMAD_DEMOGRAPHICS = "videodemographics.csv"


def _cremad_parser(genders: Mapping[str, str]) -> Callable[[Path], dict | str]:
    def parse(file: Path) -> dict | str:
        match = _CREMAD_NAME.fullmatch(file.stem)
        if match is None:
            return "name is not <actor>_<sentence>_<emotion>_<level>"
        actor, sentence, emotion, level = (group.upper() for group in match.groups())
        if not 1001 <= int(actor) <= 1091:
            return f"unknown CREMA-D actor {actor!r}"
        if (sentence not in _CREMAD_SENTENCES or emotion not in _CREMAD_EMOTIONS
                or level not in _CREMAD_LEVELS):
            return "a field is out of the CREMA-D range"
        return dict(utterance=f"{actor}_{sentence}_{emotion}_{level}", speaker=actor,
                    gender=genders.get(actor), emotion=emotion,
                    emotion_std=_CREMAD_EMOTIONS[emotion], sentence=sentence,
                    intensity=_CREMAD_LEVELS[level])

    return parse


def _read_cremad_genders(root: Path) -> dict[str, str]:
    """Actor -> gender from the first ``VideoDemographics.csv`` in or next to ``root``."""
    candidates = sorted(
        Path(folder) / name
        for folder, _, names in os.walk(root)
        for name in names
        if name.lower() == _CREMAD_DEMOGRAPHICS
    )
    # The CSV sits at the top of the release, beside the AudioWAV folder users may point to.
    candidates += sorted(p for p in root.parent.iterdir() if p.name.lower() == _CREMAD_DEMOGRAPHICS)
    if not candidates:
        return {}
    table = pd.read_csv(candidates[0], header=None, dtype=str)
    if str(table.iloc[0, 0]).strip().lower() == "actorid":  # some copies lack the header
        table = table.iloc[1:]
    actors = table.iloc[:, 0].str.strip()
    sexes = table.iloc[:, 2].str.strip().str.lower()
    return {actor: sex for actor, sex in zip(actors, sexes) if sex in ("female", "male")}


# --------------------------------------------------------------------------------------------
# Walking a folder and assembling the frame.
# --------------------------------------------------------------------------------------------

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


_PARSERS = {
    "emodb": _parse_emodb,
    "ravdess": _parse_ravdess,
    "urdu": _parse_urdu,
    "emovo": _parse_emovo,
    "casia": _parse_casia,
    "savee": _parse_savee,
    "tess": _parse_tess,
}


def load_emodb(path: str | os.PathLike) -> pd.DataFrame:
    """Load the Berlin Database of Emotional Speech (EmoDB, German).

    File names ``SSTTTEV`` (e.g. ``03a01Fa.wav``): speaker ``SS`` (male 03 10 11 12 15, female
    08 09 13 14 16), text code ``TTT``, emotion letter ``E`` (W anger, L boredom, E disgust,
    A fear, F happiness, T sadness, N neutral) and version ``V``.

    Parameters
    ----------
    path : str or path-like
        The EmoDB folder, either the release root or its ``wav/`` subfolder.

    Returns
    -------
    frame : pandas.DataFrame
        One row per utterance, sorted by ``file``, with the columns described in
        :mod:`sklearn_msfl.corpora`, ``sentence`` (text code).
        Files skipped are in ``frame.attrs["skipped"]``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If no audio file is found, or none follows the naming convention (wrong folder).

    Examples
    --------
    >>> from pathlib import Path
    >>> from tempfile import TemporaryDirectory
    >>> from sklearn_msfl.corpora import load_emodb
    >>> with TemporaryDirectory() as root:
    ...     (Path(root) / "wav").mkdir()
    ...     for name in ["03a01Wa.wav", "08a01Lb.flac"]:
    ...         (Path(root) / "wav" / name).touch()
    ...     load_emodb(root)[["speaker", "gender", "emotion", "emotion_std"]]
        speaker  gender emotion emotion_std
    0  emodb_03    male       W       anger
    1  emodb_08  female       L     boredom
    """
    return _load_folder(path, "emodb", "de")


def load_ravdess(path: str | os.PathLike) -> pd.DataFrame:
    """Load RAVDESS speech, audio-only (North American English).

    File names ``MM-VV-EE-II-SS-RR-AA`` (e.g. ``03-01-05-01-02-01-12.wav``): only modality 03
    (audio-only) and vocal channel 01 (speech) are loaded, other files are reported as skipped.
    Emotion ``EE`` 01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful, 07 disgust,
    08 surprised; intensity ``II`` 01 normal, 02 strong; statement ``SS``; repetition ``RR``;
    actor ``AA`` 01-24 (odd male, even female).

    Parameters
    ----------
    path : str or path-like
        The RAVDESS folder holding ``Actor_01`` ... ``Actor_24`` (or the files themselves).

    Returns
    -------
    frame : pandas.DataFrame
        One row per utterance, sorted by ``file``, with the columns described in
        :mod:`sklearn_msfl.corpora`, ``sentence`` (statement 01/02), ``intensity``,
        ``repetition``. Files skipped are in ``frame.attrs["skipped"]``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If no audio file is found, or none follows the naming convention (wrong folder).

    Examples
    --------
    >>> from pathlib import Path
    >>> from tempfile import TemporaryDirectory
    >>> from sklearn_msfl.corpora import load_ravdess
    >>> with TemporaryDirectory() as root:
    ...     (Path(root) / "Actor_12").mkdir()
    ...     (Path(root) / "Actor_12" / "03-01-05-02-01-01-12.wav").touch()
    ...     load_ravdess(root)[["speaker", "gender", "emotion_std", "intensity"]]
          speaker  gender emotion_std intensity
    0  ravdess_12  female       anger    strong
    """
    frame = _load_folder(path, "ravdess", "en")
    # Nullable integers, so that the column stays integer when combined with other corpora.
    frame["repetition"] = frame["repetition"].astype("Int64")
    return frame


def load_urdu(path: str | os.PathLike) -> pd.DataFrame:
    """Load the URDU dataset (Urdu, natural speech from TV talk shows).

    File names ``S<G><X>_F<XX>_<E><YY>`` inside a folder named after the emotion (e.g.
    ``Angry/SM1_F10_A010.wav``): gender ``G`` (M/F), speaker number ``X``, the speaker's file
    number ``XX``, emotion ``E`` (A angry, H happy, N neutral, S sad) and the file's number
    ``YY`` within the emotion. Speakers are ``S<G><X>`` (``SM1`` and ``SF1`` differ). A file
    whose letter contradicts its emotion folder is skipped.

    **Speaker count.** The release's README counts 38 speakers (27 male, 11 female); the
    names of its 400 files hold 29 speaker IDs: SF1-SF11 (11 female) and SM1-SM7, SM17-SM27
    (18 male). No file carries SM8-SM16, so 38 = 27 + 11 counts the highest numbers, not the
    speakers present. The README states that ``X`` "remains the same
    for a particular speaker in all the emotions", and this loader follows it: one speaker
    per ID. Three IDs occur in several emotion folders, with file numbers ``XX`` starting
    again at 1 in each: SM3 (angry 2 files, happy 2, neutral 8), SM5 (happy 8, neutral 72) and
    SM6 (happy 10, sad 4). Were these different people, one ID per (ID, emotion) would give 33
    speakers, still not 38; keeping one ID errs on the safe side, as speaker-independent folds
    then never split one voice between training and test.

    Parameters
    ----------
    path : str or path-like
        The URDU folder holding ``Angry``, ``Happy``, ``Neutral`` and ``Sad``.

    Returns
    -------
    frame : pandas.DataFrame
        One row per utterance, sorted by ``file``, with the columns described in
        :mod:`sklearn_msfl.corpora`. Files skipped are in
        ``frame.attrs["skipped"]``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If no audio file is found, or none follows the naming convention (wrong folder).

    Examples
    --------
    >>> from pathlib import Path
    >>> from tempfile import TemporaryDirectory
    >>> from sklearn_msfl.corpora import load_urdu
    >>> with TemporaryDirectory() as root:
    ...     (Path(root) / "Angry").mkdir()
    ...     (Path(root) / "Angry" / "SM1_F10_A010.wav").touch()
    ...     load_urdu(root)[["language", "speaker", "gender", "emotion_std"]]
      language   speaker gender emotion_std
    0       ur  urdu_SM1   male       anger
    """
    return _load_folder(path, "urdu", "ur")


def load_emovo(path: str | os.PathLike) -> pd.DataFrame:
    """Load EMOVO (Italian).

    File names ``<emotion>-<speaker>-<sentence>`` (e.g. ``rab-f1-b1.wav``) in speaker folders
    ``f1 f2 f3 m1 m2 m3`` (f female, m male); emotions dis disgust, gio happiness (gioia),
    neu neutral, pau fear (paura), rab anger (rabbia), sor surprise, tri sadness (tristezza).

    Parameters
    ----------
    path : str or path-like
        The EMOVO folder (speaker folders inside it, at any depth).

    Returns
    -------
    frame : pandas.DataFrame
        One row per utterance, sorted by ``file``, with the columns described in
        :mod:`sklearn_msfl.corpora`, ``sentence``.
        Files skipped are in ``frame.attrs["skipped"]``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If no audio file is found, or none follows the naming convention (wrong folder).

    Examples
    --------
    >>> from pathlib import Path
    >>> from tempfile import TemporaryDirectory
    >>> from sklearn_msfl.corpora import load_emovo
    >>> with TemporaryDirectory() as root:
    ...     (Path(root) / "f1").mkdir()
    ...     (Path(root) / "f1" / "rab-f1-b1.wav").touch()
    ...     load_emovo(root)[["speaker", "gender", "emotion", "emotion_std"]]
        speaker  gender emotion emotion_std
    0  emovo_f1  female     rab       anger
    """
    return _load_folder(path, "emovo", "it")


def load_casia(path: str | os.PathLike) -> pd.DataFrame:
    """Load the CASIA Chinese emotional speech corpus (Mandarin).

    Layout ``<speaker>/<emotion>/<id>.wav`` with the four speakers ``liuchang`` and
    ``zhaoquanyin`` (female), ``wangzhe`` and ``ZhaoZuoxiang`` (male) and the emotions angry,
    fear, happy, neutral, sad, surprise. Speaker IDs are the lower-cased folder names. The
    public release misspells liuchang's folder ``liuchanhg``: either spelling is read as the
    speaker ``casia_liuchang`` (a copy holding both folders reports the second as duplicates).

    Parameters
    ----------
    path : str or path-like
        The CASIA folder holding the speaker folders.

    Returns
    -------
    frame : pandas.DataFrame
        One row per utterance, sorted by ``file``, with the columns described in
        :mod:`sklearn_msfl.corpora`, ``sentence`` (file id).
        Files skipped are in ``frame.attrs["skipped"]``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If no audio file is found, or none follows the naming convention (wrong folder).

    Examples
    --------
    >>> from pathlib import Path
    >>> from tempfile import TemporaryDirectory
    >>> from sklearn_msfl.corpora import load_casia
    >>> with TemporaryDirectory() as root:
    ...     (Path(root) / "wangzhe" / "sad").mkdir(parents=True)
    ...     (Path(root) / "wangzhe" / "sad" / "201.wav").touch()
    ...     load_casia(root)[["language", "speaker", "gender", "emotion_std"]]
      language        speaker gender emotion_std
    0       zh  casia_wangzhe   male     sadness
    """
    return _load_folder(path, "casia", "zh")


def load_savee(path: str | os.PathLike) -> pd.DataFrame:
    """Load SAVEE, Surrey Audio-Visual Expressed Emotion (British English).

    File names ``<speaker>_<emotion><nn>.wav`` (e.g. ``DC_a01.wav``) or ``<speaker>/<emotion><nn>``
    (e.g. ``AudioData/DC/a01.wav``) with the four male speakers DC, JE, JK, KL and the emotion
    letters a anger, d disgust, f fear, h happiness, n neutral, sa sadness, su surprise.

    Parameters
    ----------
    path : str or path-like
        The SAVEE folder (either layout).

    Returns
    -------
    frame : pandas.DataFrame
        One row per utterance, sorted by ``file``, with the columns described in
        :mod:`sklearn_msfl.corpora`. Files skipped are in
        ``frame.attrs["skipped"]``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If no audio file is found, or none follows the naming convention (wrong folder).

    Examples
    --------
    >>> from pathlib import Path
    >>> from tempfile import TemporaryDirectory
    >>> from sklearn_msfl.corpora import load_savee
    >>> with TemporaryDirectory() as root:
    ...     (Path(root) / "JK_su03.wav").touch()
    ...     load_savee(root)[["speaker", "emotion", "emotion_std"]]
        speaker emotion emotion_std
    0  savee_JK      su    surprise
    """
    return _load_folder(path, "savee", "en")


def load_tess(path: str | os.PathLike) -> pd.DataFrame:
    """Load TESS, the Toronto Emotional Speech Set (Canadian English).

    File names ``<speaker>_<word>_<emotion>.wav`` (e.g. ``OAF_back_angry.wav``) with the two female
    speakers OAF (older) and YAF (younger) and the emotions angry, disgust, fear, happy,
    neutral, ps (pleasant surprise, mapped to ``"surprise"``), sad. The word is ``sentence``.

    Parameters
    ----------
    path : str or path-like
        The TESS folder (emotion subfolders such as ``OAF_angry`` at any depth).

    Returns
    -------
    frame : pandas.DataFrame
        One row per utterance, sorted by ``file``, with the columns described in
        :mod:`sklearn_msfl.corpora`, ``sentence`` (the target word).
        Files skipped are in ``frame.attrs["skipped"]``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If no audio file is found, or none follows the naming convention (wrong folder).

    Examples
    --------
    >>> from pathlib import Path
    >>> from tempfile import TemporaryDirectory
    >>> from sklearn_msfl.corpora import load_tess
    >>> with TemporaryDirectory() as root:
    ...     (Path(root) / "YAF_bite_ps.wav").touch()
    ...     load_tess(root)[["speaker", "emotion", "emotion_std", "sentence"]]
        speaker emotion emotion_std sentence
    0  tess_YAF      ps    surprise     bite
    """
    return _load_folder(path, "tess", "en")


def load_cremad(path: str | os.PathLike) -> pd.DataFrame:
    """Load CREMA-D, the Crowd-sourced Emotional Multimodal Actors Dataset (English).

    File names ``<actor>_<sentence>_<emotion>_<level>.wav`` (e.g. ``1001_DFA_ANG_XX.wav``) with
    actors 1001-1091, twelve sentence codes, emotions ANG DIS FEA HAP NEU SAD and levels
    LO MD HI XX (``intensity`` low, medium, high, unspecified). The actors' gender is read from
    the ``VideoDemographics.csv`` that ships with CREMA-D, found inside ``path`` or next to it
    (e.g. ``path`` is the ``AudioWAV`` folder of the release); without it ``gender`` is missing.
    From the release root, the MP3 copies in ``AudioMP3`` are reported as duplicates of the
    WAV files, which are the ones loaded.

    Parameters
    ----------
    path : str or path-like
        The CREMA-D release folder or its ``AudioWAV`` folder.

    Returns
    -------
    frame : pandas.DataFrame
        One row per utterance, sorted by ``file``, with the columns described in
        :mod:`sklearn_msfl.corpora`, ``sentence``, ``intensity``.
        Files skipped are in ``frame.attrs["skipped"]``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If no audio file is found, or none follows the naming convention (wrong folder).

    Examples
    --------
    >>> from pathlib import Path
    >>> from tempfile import TemporaryDirectory
    >>> from sklearn_msfl.corpora import load_cremad
    >>> with TemporaryDirectory() as root:
    ...     (Path(root) / "1001_DFA_ANG_XX.wav").touch()
    ...     _ = (Path(root) / "VideoDemographics.csv").write_text(
    ...         "ActorID,Age,Sex,Race,Ethnicity\\n1001,51,Male,Caucasian,Not Hispanic\\n")
    ...     load_cremad(root)[["speaker", "gender", "emotion", "intensity"]]
           speaker gender emotion    intensity
    0  cremad_1001   male     ANG  unspecified
    """
    root = _check_folder(path, "cremad")
    return _load_folder(root, "cremad", "en", _cremad_parser(_read_cremad_genders(root)))


#: Corpus name -> (loader, ISO 639-1 language).
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
