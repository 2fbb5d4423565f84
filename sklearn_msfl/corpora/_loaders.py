"""The eight corpus loaders (:func:`load_emodb` ... :func:`load_cremad`), each with its naming convention."""

from __future__ import annotations

import os

import pandas as pd

from ._naming import _cremad_parser, _read_cremad_genders
from ._walk import _check_folder, _load_folder


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
