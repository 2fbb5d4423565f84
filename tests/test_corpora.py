"""Tests of the corpus loaders: real corpus counts and synthetic release trees."""

import re
import warnings
from pathlib import Path

import pandas as pd
import pytest

from sklearn_msfl.corpora import (
    AUDIO_EXTENSIONS,
    BASE_COLUMNS,
    CORPORA,
    DEFAULT_EMOTIONS,
    EMOTION_VOCABULARY,
    SkippedFilesWarning,
    default_corpora_dir,
    load_casia,
    load_corpora,
    load_corpus,
    load_cremad,
    load_emodb,
    load_emovo,
    load_ravdess,
    load_savee,
    load_tess,
    load_urdu,
    subset_speakers,
)

EMODB_EMOTIONS = {"anger": 127, "boredom": 81, "neutral": 79, "happiness": 71, "fear": 69,
                  "sadness": 62, "disgust": 46}
EMODB_SPEAKERS = {"03": 49, "08": 58, "09": 43, "10": 38, "11": 55, "12": 35, "13": 61,
                  "14": 69, "15": 56, "16": 71}
EMODB_MALE = {"03", "10", "11", "12", "15"}
URDU_SPEAKERS = {
    "SF1": 12, "SF2": 2, "SF3": 2, "SF4": 4, "SF5": 4, "SF6": 14, "SF7": 6, "SF8": 2, "SF9": 4,
    "SF10": 2, "SF11": 4, "SM1": 22, "SM2": 28, "SM3": 12, "SM4": 48, "SM5": 80, "SM6": 14,
    "SM7": 28, "SM17": 2, "SM18": 2, "SM19": 2, "SM20": 10, "SM21": 4, "SM22": 2, "SM23": 6,
    "SM24": 38, "SM25": 40, "SM26": 2, "SM27": 4,
}
SAVEE_EMOTIONS = {"neutral": 120, **{e: 60 for e in ("anger", "disgust", "fear", "happiness",
                                                      "sadness", "surprise")}}
CASIA_SPEAKERS = {"liuchang": "female", "zhaoquanyin": "female", "wangzhe": "male",
                  "zhaozuoxiang": "male"}
# Files of each shared corpus (the corpora README), all emotions.
CORPUS_SIZES = {"casia": 1200, "emodb": 535, "ravdess": 1440, "savee": 480, "urdu": 400}


def make_tree(root: Path, names) -> Path:
    """Create empty files (loaders only read names) under ``root``."""
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    return root


def load_quietly(loader, path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails: the real corpora are clean
        return loader(path)


def check_frame(frame, corpus, language):
    assert list(frame.columns[:len(BASE_COLUMNS)]) == BASE_COLUMNS
    assert (frame["corpus"] == corpus).all()
    assert (frame["language"] == language).all()
    assert frame["file"].is_unique
    assert list(frame["file"]) == sorted(frame["file"])
    assert all(Path(file).is_absolute() for file in frame["file"])
    assert frame["speaker"].str.startswith(f"{corpus}_").all()
    assert set(frame["emotion_std"]) <= set(EMOTION_VOCABULARY)
    assert set(frame["gender"].dropna()) <= {"female", "male"}
    assert isinstance(frame.index, pd.RangeIndex)


# ---------------------------------------------------------------- real corpora


@pytest.mark.corpora
def test_emodb_counts(corpora_dir):
    frame = load_quietly(load_emodb, corpora_dir / "emodb")
    check_frame(frame, "emodb", "de")
    assert len(frame) == 535
    assert frame["emotion_std"].value_counts().to_dict() == EMODB_EMOTIONS
    assert frame["speaker"].value_counts().to_dict() == {
        f"emodb_{speaker}": n for speaker, n in EMODB_SPEAKERS.items()}
    genders = frame.groupby("speaker")["gender"].unique().map(list).to_dict()
    assert genders == {f"emodb_{s}": ["male" if s in EMODB_MALE else "female"]
                       for s in EMODB_SPEAKERS}
    assert frame["emotion"].map({"W": "anger", "L": "boredom", "E": "disgust", "A": "fear",
                                 "F": "happiness", "T": "sadness",
                                 "N": "neutral"}).eq(frame["emotion_std"]).all()
    assert frame.attrs["skipped"] == []
    # The release's wav/ subfolder loads the same rows.
    assert load_quietly(load_emodb, corpora_dir / "emodb" / "wav").equals(frame)


@pytest.mark.corpora
def test_ravdess_counts(corpora_dir):
    frame = load_quietly(load_ravdess, corpora_dir / "ravdess")
    check_frame(frame, "ravdess", "en")
    assert len(frame) == 1440
    counts = frame["emotion_std"].value_counts().to_dict()
    assert counts == {"neutral": 96, **{e: 192 for e in ("calm", "happiness", "sadness",
                                                        "anger", "fear", "disgust", "surprise")}}
    assert frame["speaker"].value_counts().to_dict() == {
        f"ravdess_{actor:02d}": 60 for actor in range(1, 25)}
    for speaker, gender in frame.groupby("speaker")["gender"].unique().items():
        actor = int(speaker.split("_")[1])
        assert list(gender) == ["male" if actor % 2 else "female"]
    assert frame["intensity"].value_counts().to_dict() == {"normal": 768, "strong": 672}
    assert (frame.loc[frame["emotion_std"] == "neutral", "intensity"] == "normal").all()
    assert frame["sentence"].value_counts().to_dict() == {"01": 720, "02": 720}
    assert frame["repetition"].value_counts().to_dict() == {1: 720, 2: 720}


@pytest.mark.corpora
def test_urdu_counts(corpora_dir):
    frame = load_quietly(load_urdu, corpora_dir / "urdu")
    check_frame(frame, "urdu", "ur")
    assert len(frame) == 400
    assert frame["emotion_std"].value_counts().to_dict() == {
        e: 100 for e in ("anger", "happiness", "neutral", "sadness")}
    assert frame["speaker"].value_counts().to_dict() == {
        f"urdu_{speaker}": n for speaker, n in URDU_SPEAKERS.items()}
    genders = frame.groupby("speaker")["gender"].unique().map(list)
    assert genders.to_dict() == {f"urdu_{s}": ["female" if s[1] == "F" else "male"]
                                 for s in URDU_SPEAKERS}
    folder_letter = frame["file"].map(lambda f: Path(f).parent.name[0])
    assert (folder_letter == frame["emotion"]).all()


@pytest.mark.corpora
def test_urdu_speaker_ids_and_the_documented_count(corpora_dir):
    """The README's 38 speakers are the highest IDs (SM27, SF11); the names hold 29."""
    frame = load_quietly(load_urdu, corpora_dir / "urdu")
    ids = frame["speaker"].str.removeprefix("urdu_")
    numbers = {gender: sorted(int(i[2:]) for i in set(ids) if i[1] == gender) for gender in "MF"}
    assert numbers["F"] == list(range(1, 12))
    assert numbers["M"] == [*range(1, 8), *range(17, 28)]
    assert max(numbers["M"]) + max(numbers["F"]) == 38 and ids.nunique() == 29
    per_emotion = frame.assign(id=ids).groupby("id")["emotion"].nunique()
    assert per_emotion[per_emotion > 1].to_dict() == {"SM3": 3, "SM5": 2, "SM6": 2}
    # The speaker's file numbers start again in every emotion folder.
    file_number = frame["file"].map(lambda f: int(re.search(r"_F(\d+)_", f).group(1)))
    starts = frame.assign(id=ids, n=file_number).groupby(["id", "emotion"])["n"].min()
    assert (starts == 1).all()
    # The loader and the user guide say so.
    doc = " ".join(load_urdu.__doc__.split())
    guide = " ".join((Path(__file__).parents[1] / "docs/user_guide/data.rst").read_text().split())
    for text in (doc, guide):
        assert "38 speakers" in text and "29 speaker IDs" in text and "SM8-SM16" in text
        assert "SM3" in text and "SM5" in text and "SM6" in text


@pytest.mark.corpora
def test_savee_counts(corpora_dir):
    frame = load_quietly(load_savee, corpora_dir / "savee")
    check_frame(frame, "savee", "en")
    assert len(frame) == 480
    assert frame["emotion_std"].value_counts().to_dict() == SAVEE_EMOTIONS
    assert frame["speaker"].value_counts().to_dict() == {
        f"savee_{s}": 120 for s in ("DC", "JE", "JK", "KL")}
    per_speaker = frame.groupby(["speaker", "emotion_std"]).size()
    assert per_speaker.to_dict() == {(speaker, emotion): n // 4 for speaker in set(frame["speaker"])
                                     for emotion, n in SAVEE_EMOTIONS.items()}
    assert (frame["gender"] == "male").all()


@pytest.mark.corpora
def test_casia_counts(corpora_dir):
    frame = load_quietly(load_casia, corpora_dir / "casia")
    check_frame(frame, "casia", "zh")
    assert len(frame) == 1200
    assert frame["emotion_std"].value_counts().to_dict() == {
        e: 200 for e in ("anger", "fear", "happiness", "neutral", "sadness", "surprise")}
    assert frame["speaker"].value_counts().to_dict() == {
        f"casia_{s}": 300 for s in CASIA_SPEAKERS}
    genders = frame.groupby("speaker")["gender"].unique().map(list).to_dict()
    assert genders == {f"casia_{s}": [g] for s, g in CASIA_SPEAKERS.items()}
    # The same 50 texts (201-250) for every speaker and emotion.
    texts = frame.groupby(["speaker", "emotion"])["sentence"].apply(lambda s: sorted(map(int, s)))
    assert len(texts) == 24 and all(t == list(range(201, 251)) for t in texts)


@pytest.mark.corpora
def test_load_corpora_four_emotions(corpora_dir):
    paths = {name: corpora_dir / name for name in ("emodb", "ravdess", "urdu")}
    frame = load_corpora(paths)
    assert set(frame["emotion_std"]) == set(DEFAULT_EMOTIONS)
    assert frame.groupby(["corpus", "emotion_std"]).size().to_dict() == {
        ("emodb", "anger"): 127, ("emodb", "happiness"): 71, ("emodb", "neutral"): 79,
        ("emodb", "sadness"): 62, ("ravdess", "anger"): 192, ("ravdess", "happiness"): 192,
        ("ravdess", "neutral"): 96, ("ravdess", "sadness"): 192, ("urdu", "anger"): 100,
        ("urdu", "happiness"): 100, ("urdu", "neutral"): 100, ("urdu", "sadness"): 100,
    }
    assert frame.groupby("corpus")["language"].unique().map(list).to_dict() == {
        "emodb": ["de"], "ravdess": ["en"], "urdu": ["ur"]}
    assert frame["speaker"].nunique() == 10 + 24 + 29
    assert list(pd.unique(frame["corpus"])) == ["emodb", "ravdess", "urdu"]  # order of paths
    assert isinstance(frame.index, pd.RangeIndex)
    # A root folder finds its corpus sub-folders by name; every emotion is kept on request.
    assert load_corpora(corpora_dir)[lambda f: f["corpus"].isin(paths)].reset_index(
        drop=True).equals(frame)
    everything = load_corpora(corpora_dir, emotions=None)
    assert everything["corpus"].value_counts().to_dict() == CORPUS_SIZES


@pytest.mark.corpora
def test_subset_speakers_on_real_corpora(corpora_dir):
    frame = load_corpora(corpora_dir)
    subset = subset_speakers(frame, 3, random_state=0)
    assert subset.groupby("corpus")["speaker"].nunique().to_dict() == {
        corpus: 3 for corpus in CORPUS_SIZES}
    kept = frame[frame["speaker"].isin(set(subset["speaker"]))].reset_index(drop=True)
    assert subset.equals(kept)  # all utterances of the chosen speakers, original order
    assert subset.equals(subset_speakers(frame, 3, random_state=0))
    # Most utterances over all emotions; the RAVDESS tie (60 each) goes to the first ID.
    largest = subset_speakers(load_corpora(corpora_dir, emotions=None), 1, largest=True)
    assert set(largest["speaker"]) == {"casia_liuchang", "emodb_16", "ravdess_01", "savee_DC",
                                       "urdu_SM5"}


# ---------------------------------------------------------------- synthetic release trees


def test_emodb_tree_and_mixed_extensions(tmp_path):
    make_tree(tmp_path, ["wav/03a01Wa.wav", "wav/16b10Tb.FLAC", "wav/08a02Ec.flac",
                         "wav/99a01Wa.wav", "wav/03a01Xa.wav", "silb/03a01Wa.lab", "._x.wav"])
    with pytest.warns(SkippedFilesWarning, match="skipped 2 of 5"):
        frame = load_emodb(tmp_path)
    check_frame(frame, "emodb", "de")
    assert list(frame["emotion_std"]) == ["anger", "disgust", "sadness"]
    assert list(frame["gender"]) == ["male", "female", "female"]
    assert list(frame["sentence"]) == ["a01", "a02", "b10"]
    skipped = dict(frame.attrs["skipped"])
    assert set(skipped) == {str(tmp_path / "wav/99a01Wa.wav"), str(tmp_path / "wav/03a01Xa.wav")}
    assert "speaker" in skipped[str(tmp_path / "wav/99a01Wa.wav")]


def test_ravdess_keeps_speech_audio_only(tmp_path):
    make_tree(tmp_path, [
        "Actor_01/03-01-01-01-01-01-01.wav",
        "Actor_02/03-01-08-02-02-02-02.flac",
        "Actor_01/03-02-01-01-01-01-01.wav",  # song
        "Actor_01/01-01-01-01-01-01-01.wav",  # audio-video
        "Actor_01/03-01-09-01-01-01-01.wav",  # no emotion 09
        "Actor_01/01-01-01-01-01-01-01.mp4",  # not audio: ignored
    ])
    with pytest.warns(SkippedFilesWarning, match="skipped 3 of 5"):
        frame = load_ravdess(tmp_path)
    check_frame(frame, "ravdess", "en")
    assert list(frame["speaker"]) == ["ravdess_01", "ravdess_02"]
    assert list(frame["gender"]) == ["male", "female"]
    assert list(frame["emotion_std"]) == ["neutral", "surprise"]
    assert list(frame["intensity"]) == ["normal", "strong"]
    reasons = [reason for _, reason in frame.attrs["skipped"]]
    assert sum("speech audio-only" in reason for reason in reasons) == 2


def test_urdu_letter_must_match_folder(tmp_path):
    make_tree(tmp_path, ["Angry/SM1_F10_A010.wav", "Sad/SF3_F2_S002.flac",
                         "Happy/SM1_F11_A011.wav", "Neutral/notes.wav"])
    with pytest.warns(SkippedFilesWarning, match="skipped 2 of 4"):
        frame = load_urdu(tmp_path)
    assert list(frame["speaker"]) == ["urdu_SM1", "urdu_SF3"]
    assert list(frame["gender"]) == ["male", "female"]
    assert list(frame["emotion_std"]) == ["anger", "sadness"]
    assert "contradicts" in dict(frame.attrs["skipped"])[str(tmp_path / "Happy/SM1_F11_A011.wav")]


def test_emovo_tree(tmp_path):
    emotions = {"dis": "disgust", "gio": "happiness", "neu": "neutral", "pau": "fear",
                "rab": "anger", "sor": "surprise", "tri": "sadness"}
    names = [f"EMOVO/f1/{emo}-f1-b1.wav" for emo in emotions]
    names += ["EMOVO/m3/rab-m3-n5.FLAC", "EMOVO/m3/xyz-m3-n5.wav", "EMOVO/m3/rab_m3_n5.wav",
              "EMOVO/documents/readme.txt"]
    make_tree(tmp_path, names)
    with pytest.warns(SkippedFilesWarning, match="skipped 2 of 10"):
        frame = load_emovo(tmp_path)
    check_frame(frame, "emovo", "it")
    assert len(frame) == 8
    f1 = frame[frame["speaker"] == "emovo_f1"]
    assert dict(zip(f1["emotion"], f1["emotion_std"])) == emotions
    assert (f1["gender"] == "female").all()
    m3 = frame[frame["speaker"] == "emovo_m3"].squeeze()
    assert (m3["gender"], m3["emotion_std"], m3["sentence"]) == ("male", "anger", "n5")
    assert {Path(f).name for f, _ in frame.attrs["skipped"]} == {"xyz-m3-n5.wav", "rab_m3_n5.wav"}


def test_casia_tree(tmp_path):
    make_tree(tmp_path, ["CASIA/liuchanhg/angry/201.wav", "CASIA/wangzhe/fear/202.flac",
                         "CASIA/zhaoquanyin/happy/203.WAV", "CASIA/ZhaoZuoxiang/surprise/204.wav",
                         "CASIA/wangzhe/neutral/205.wav", "CASIA/wangzhe/sad/206.wav",
                         "CASIA/wangzhe/bored/207.wav", "CASIA/wangzhe/sad/x.wav"])
    with pytest.warns(SkippedFilesWarning, match="skipped 2 of 8"):
        frame = load_casia(tmp_path / "CASIA")
    check_frame(frame, "casia", "zh")
    by_file = frame.set_index(frame["file"].map(lambda f: Path(f).stem))
    assert by_file.loc["201", ["speaker", "gender", "emotion_std"]].tolist() == [
        "casia_liuchang", "female", "anger"]
    assert by_file.loc["204", ["speaker", "gender", "emotion_std"]].tolist() == [
        "casia_zhaozuoxiang", "male", "surprise"]
    assert by_file.loc["203", "gender"] == "female"
    assert sorted(frame["emotion_std"]) == ["anger", "fear", "happiness", "neutral",
                                            "sadness", "surprise"]


@pytest.mark.parametrize("folder", ["liuchanhg", "liuchang", "LiuChang"])
def test_casia_both_spellings_of_liuchang(tmp_path, folder):
    make_tree(tmp_path, [f"{folder}/sad/210.wav", "wangzhe/sad/210.wav"])
    frame = load_quietly(load_casia, tmp_path)
    assert frame["speaker"].tolist() == ["casia_liuchang", "casia_wangzhe"]
    assert frame["gender"].tolist() == ["female", "male"]


def test_casia_both_spellings_in_one_copy_are_duplicates(tmp_path):
    make_tree(tmp_path, ["liuchanhg/sad/210.wav", "liuchang/sad/210.wav", "liuchang/sad/211.wav"])
    with pytest.warns(SkippedFilesWarning, match="skipped 1 of 3"):
        frame = load_casia(tmp_path)
    assert frame["speaker"].tolist() == ["casia_liuchang"] * 2
    (file, reason), = frame.attrs["skipped"]
    assert Path(file).parts[-3:] == ("liuchanhg", "sad", "210.wav")
    assert reason.startswith("duplicate")


def test_loaders_read_every_audio_format_and_skip_hidden_folders(tmp_path):
    make_tree(tmp_path, ["DC_a01.wav", "DC_a02.FLAC", "DC_a03.mp3", "DC_a04.ogg",
                         ".trash/DC_a05.wav", "._DC_a06.wav", "DC_a07.txt"])
    frame = load_quietly(load_savee, tmp_path)
    assert [Path(f).name for f in frame["file"]] == [
        "DC_a01.wav", "DC_a02.FLAC", "DC_a03.mp3", "DC_a04.ogg"]
    assert set(AUDIO_EXTENSIONS) == {".wav", ".flac", ".mp3", ".ogg"}


def test_emotion_names_one_meaning_each():
    assert DEFAULT_EMOTIONS == ("anger", "happiness", "neutral", "sadness")
    assert set(DEFAULT_EMOTIONS) < set(EMOTION_VOCABULARY) and len(EMOTION_VOCABULARY) == 9
    import sklearn_msfl.corpora as corpora

    with pytest.warns(FutureWarning, match="EMOTION_VOCABULARY"):
        assert corpora.EMOTIONS == EMOTION_VOCABULARY
    assert "EMOTIONS" not in corpora.__all__
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        corpora.nope  # noqa: B018


def test_savee_both_layouts_and_duplicates(tmp_path):
    make_tree(tmp_path, ["AudioData/DC/a01.wav", "AudioData/JE/sa02.flac", "AudioData/JK/n30.wav",
                         "ALL/KL_su15.wav", "ALL/JK_d03.WAV", "ALL/DC_a01.wav",
                         "ALL/XX_a01.wav", "ALL/DC_z01.wav"])
    with pytest.warns(SkippedFilesWarning, match="skipped 3 of 8"):
        frame = load_savee(tmp_path)
    check_frame(frame, "savee", "en")
    got = sorted(zip(frame["speaker"], frame["emotion"], frame["emotion_std"]))
    assert got == [("savee_DC", "a", "anger"), ("savee_JE", "sa", "sadness"),
                   ("savee_JK", "d", "disgust"), ("savee_JK", "n", "neutral"),
                   ("savee_KL", "su", "surprise")]
    assert (frame["gender"] == "male").all()
    reasons = dict(frame.attrs["skipped"])
    # ALL/ sorts before AudioData/, so the copy in AudioData is the reported duplicate.
    assert reasons[str(tmp_path / "AudioData/DC/a01.wav")].startswith("duplicate")


def test_tess_tree(tmp_path):
    make_tree(tmp_path, ["OAF_angry/OAF_back_angry.wav", "OAF_Fear/OAF_bath_fear.wav",
                         "YAF_pleasant_surprised/YAF_bite_ps.flac", "YAF_sad/YAF_bite_sad.wav",
                         "YAF_neutral/YAF_bite_neutral.wav", "OAF_disgust/OAF_back_disgust.wav",
                         "YAF_happy/YAF_back_happy.wav", "OAF_angry/OAF_back.wav",
                         "OAF_angry/OAF_back_bored.wav"])
    with pytest.warns(SkippedFilesWarning, match="skipped 2 of 9"):
        frame = load_tess(tmp_path)
    check_frame(frame, "tess", "en")
    assert set(frame["speaker"]) == {"tess_OAF", "tess_YAF"}
    assert (frame["gender"] == "female").all()
    assert dict(zip(frame["emotion"], frame["emotion_std"])) == {
        "angry": "anger", "fear": "fear", "ps": "surprise", "sad": "sadness",
        "neutral": "neutral", "disgust": "disgust", "happy": "happiness"}
    assert set(frame["sentence"]) == {"back", "bath", "bite"}


CREMAD_NAMES = ["AudioWAV/1001_DFA_ANG_XX.wav", "AudioWAV/1002_IEO_HAP_HI.flac",
                "AudioWAV/1091_WSI_SAD_LO.wav", "AudioWAV/1001_DFA_ANG.wav",
                "AudioWAV/1001_ABC_ANG_XX.wav", "AudioMP3/1001_DFA_ANG_XX.mp3"]


def test_cremad_tree_with_demographics(tmp_path):
    make_tree(tmp_path, CREMAD_NAMES)
    (tmp_path / "VideoDemographics.csv").write_text(
        "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n"
        "1002,21,Female,Caucasian,Not Hispanic\n1091,29,Female,Asian,Not Hispanic\n")
    for path, n_files in ((tmp_path, 6), (tmp_path / "AudioWAV", 5)):  # release root or audio
        with pytest.warns(SkippedFilesWarning, match=f"skipped {n_files - 3} of {n_files}"):
            frame = load_cremad(path)
        check_frame(frame, "cremad", "en")
        # The release's MP3 copy of a WAV file is a duplicate: the lossless file is kept.
        assert not frame["file"].str.endswith(".mp3").any()
        assert frame[["speaker", "gender", "emotion", "emotion_std", "sentence",
                      "intensity"]].values.tolist() == [
            ["cremad_1001", "male", "ANG", "anger", "DFA", "unspecified"],
            ["cremad_1002", "female", "HAP", "happiness", "IEO", "high"],
            ["cremad_1091", "female", "SAD", "sadness", "WSI", "low"],
        ]


def test_cremad_gender_missing_without_demographics(tmp_path):
    make_tree(tmp_path, CREMAD_NAMES[:3])
    frame = load_cremad(tmp_path)
    assert len(frame) == 3
    assert frame["gender"].isna().all()


# ---------------------------------------------------------------- errors and helpers


@pytest.mark.parametrize("loader", [loader for loader, _ in CORPORA.values()])
def test_missing_empty_and_wrong_folders(tmp_path, loader):
    with pytest.raises(FileNotFoundError, match="not found"):
        loader(tmp_path / "nowhere")
    make_tree(tmp_path / "empty", ["README.txt"])
    with pytest.raises(ValueError, match="no audio files"):
        loader(tmp_path / "empty")
    make_tree(tmp_path / "other", ["speech/hello.wav", "speech/world.flac"])
    with pytest.raises(ValueError, match="none of the 2 audio files .* naming convention"):
        loader(tmp_path / "other")


def test_wrong_corpus_folder(tmp_path):
    make_tree(tmp_path, ["Actor_01/03-01-01-01-01-01-01.wav"])
    with pytest.raises(ValueError, match="emodb naming convention"):
        load_emodb(tmp_path)
    with pytest.raises(NotADirectoryError):
        load_ravdess(tmp_path / "Actor_01" / "03-01-01-01-01-01-01.wav")


def test_load_corpus_dispatch_and_load_corpora(tmp_path):
    make_tree(tmp_path / "CREMA-D", ["1001_DFA_ANG_XX.wav", "1001_DFA_FEA_XX.wav"])
    make_tree(tmp_path / "tess", ["OAF_back_angry.wav", "OAF_back_ps.wav", "OAF_back_sad.wav"])
    make_tree(tmp_path / "savee", ["DC_a01.wav"])
    make_tree(tmp_path / "misc", ["x.wav"])
    assert len(load_corpus("CREMA-D", tmp_path / "CREMA-D")) == 2
    assert len(load_corpus("crema_d", tmp_path / "CREMA-D")) == 2
    with pytest.raises(ValueError, match="unknown corpus"):
        load_corpus("iemocap", tmp_path)

    frame = load_corpora({"tess": tmp_path / "tess", "cremad": tmp_path / "CREMA-D"},
                         emotions=("anger", "surprise"))
    assert list(zip(frame["corpus"], frame["emotion_std"])) == [
        ("tess", "anger"), ("tess", "surprise"), ("cremad", "anger")]
    assert set(frame["speaker"]) == {"tess_OAF", "cremad_1001"}
    assert frame.attrs["skipped"] == []
    # A root folder loads every sub-folder named after a corpus, in sorted folder order.
    found = load_corpora(tmp_path, emotions=None)
    assert list(pd.unique(found["corpus"])) == ["cremad", "savee", "tess"]
    assert len(found) == 6
    with pytest.raises(ValueError, match="unknown emotions"):
        load_corpora(tmp_path, emotions=("anger", "joy"))
    with pytest.raises(ValueError, match="no corpus folder"):
        load_corpora(tmp_path / "misc")


def test_load_corpora_collects_skipped(tmp_path):
    make_tree(tmp_path / "tess", ["OAF_back_angry.wav", "OAF_back.wav"])
    make_tree(tmp_path / "savee", ["DC_a01.wav", "DC_zz1.wav"])
    with pytest.warns(SkippedFilesWarning):
        frame = load_corpora(tmp_path)
    assert sorted(Path(f).name for f, _ in frame.attrs["skipped"]) == ["DC_zz1.wav",
                                                                      "OAF_back.wav"]


def test_subset_speakers_errors():
    frame = pd.DataFrame({"corpus": ["a", "a", "b"], "speaker": ["a_1", "a_2", "b_1"]})
    with pytest.raises(ValueError, match="'b' has 1 speakers"):
        subset_speakers(frame, 2, random_state=0)
    with pytest.raises(ValueError, match="positive integer"):
        subset_speakers(frame, 0)
    picks = {tuple(subset_speakers(frame, 1, random_state=seed)["speaker"]) for seed in range(20)}
    assert picks == {("a_1", "b_1"), ("a_2", "b_1")}


def test_default_corpora_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("MSFL_CORPORA", raising=False)
    assert default_corpora_dir() is None
    monkeypatch.setenv("MSFL_CORPORA", str(tmp_path / "missing"))
    assert default_corpora_dir() is None
    monkeypatch.setenv("MSFL_CORPORA", str(tmp_path))
    assert default_corpora_dir() == tmp_path


def test_default_corpora_dir_fallback(tmp_path, monkeypatch):
    fallback = tmp_path / "shared"
    fallback.mkdir()
    monkeypatch.delenv("MSFL_CORPORA", raising=False)
    assert default_corpora_dir(fallback) == fallback
    assert default_corpora_dir(tmp_path / "missing") is None
    monkeypatch.setenv("MSFL_CORPORA", str(tmp_path / "missing"))
    assert default_corpora_dir(fallback=fallback) == fallback
    monkeypatch.setenv("MSFL_CORPORA", str(tmp_path))
    assert default_corpora_dir(fallback=fallback) == tmp_path  # the variable comes first

