"""File naming conventions: one parser per corpus (audio file -> labels) and the label vocabulary."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd


# Public as sklearn_msfl.corpora.EMOTION_VOCABULARY, documented there.
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

# Public as sklearn_msfl.corpora.DEFAULT_EMOTIONS, documented there.
DEFAULT_EMOTIONS = ("anger", "happiness", "neutral", "sadness")


# Naming conventions. A parser gets the absolute path of one audio file and returns either the
# labels as a dict (``utterance`` is a key that identifies the recording, to catch the same
# utterance present twice, e.g. as .wav and .flac) or a string that says why it was skipped.


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


_PARSERS = {
    "emodb": _parse_emodb,
    "ravdess": _parse_ravdess,
    "urdu": _parse_urdu,
    "emovo": _parse_emovo,
    "casia": _parse_casia,
    "savee": _parse_savee,
    "tess": _parse_tess,
}
