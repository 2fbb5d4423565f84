"""Tests for sklearn_msfl.datasets.make_emotional_speech."""

import time

import numpy as np
import opensmile
import pandas as pd
import pytest
import soundfile
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_msfl.corpora import DEFAULT_EMOTIONS, EMOTION_VOCABULARY
from sklearn_msfl.datasets import (
    CUE_FAMILIES,
    CUE_FEATURES,
    CUES,
    make_emotional_speech,
)
from sklearn_msfl.explain import feature_family

SR = 16000
# Small but real: 12 speakers x 4 emotions x 3 takes of about one second. The
# IS10 extraction (~0.1 s per utterance) dominates this module's run time.
CORPUS = dict(n_samples=144, duration=(0.8, 1.2), random_state=0)


def eta_squared(values, groups):
    """Share of the variance explained by ``groups`` (one-way ANOVA), per column."""
    frame = pd.DataFrame(values).reset_index(drop=True).astype(float)
    groups = np.asarray(groups)
    deviation = frame - frame.mean()
    between = frame.groupby(groups).transform("mean") - frame.mean()
    ratio = (between**2).sum() / (deviation**2).sum()
    return ratio if ratio.size > 1 else float(ratio.iloc[0])


def effect_by_language(values, y):
    """``eta_squared`` of ``values`` by emotion, separately in each language."""
    return {
        language: eta_squared(values[mask], y.emotion[mask])
        for language in sorted(y.language.unique())
        for mask in [(y.language == language).to_numpy()]
    }


def level_db(signal):
    """Level of the loudest half of the 20 ms frames (speech, not pauses), in dB."""
    frames = signal[: len(signal) // 320 * 320].reshape(-1, 320)
    power = np.sort((frames.astype(float) ** 2).mean(axis=1))
    return 10 * np.log10(power[len(power) // 2 :].mean())


def loudness_effect_by_language(X, y):
    return effect_by_language(np.array([level_db(x) for x in X]), y)


@pytest.fixture(scope="module")
def corpus():
    return make_emotional_speech(**CORPUS, return_bunch=True)


@pytest.fixture(scope="module")
def is10(corpus):
    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.IS10,
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    rows = [smile.process_signal(x, SR) for x in corpus.data]
    return pd.concat(rows).reset_index(drop=True)


# ---------------------------------------------------------------------------
# Shape of the output
# ---------------------------------------------------------------------------


def test_signals_and_labels(corpus):
    X, y = corpus.data, corpus.target
    assert len(X) == len(y) == CORPUS["n_samples"]
    assert list(y.columns) == ["emotion", "language", "speaker", "gender"]
    for x in X:
        assert x.dtype == np.float32 and x.ndim == 1
        assert 0.8 * SR <= len(x) <= 1.2 * SR + 1
        assert 0.01 < np.abs(x).max() <= 1.0
        assert np.isfinite(x).all()
    assert set(y.emotion) == set(DEFAULT_EMOTIONS)
    assert set(y.language) == {"qaa", "qab", "qac"}
    assert set(y.gender) == {"female", "male"}
    # Balanced: 12 speakers x 4 emotions, 3 utterances in every cell.
    cells = y.groupby(["speaker", "emotion"]).size()
    assert len(cells) == 12 * 4 and (cells == 3).all()
    # Speaker ids are unique across languages and have one gender.
    assert (y.groupby("speaker")[["language", "gender"]].nunique() == 1).all().all()
    assert (y.groupby("language").speaker.nunique() == 4).all()
    assert (
        y.drop_duplicates("speaker").groupby("language").gender.nunique() == 2
    ).all()


def test_bunch_describes_the_corpus(corpus):
    assert corpus.sampling_rate == SR
    assert corpus.emotions == DEFAULT_EMOTIONS
    assert corpus.languages == ("qaa", "qab", "qac")
    assert corpus.cues == {
        "shared": ("pitch",),
        "specific": {
            "qaa": ("loudness",),
            "qab": ("tilt",),
            "qac": ("voice_quality",),
        },
    }
    parameters = corpus.parameters
    assert parameters.shape == (CORPUS["n_samples"], 7)
    # The shared pitch cue sets the F0 level the signals were made with.
    level = parameters.f0_level.groupby(corpus.target.emotion).mean()
    assert level["sadness"] < level["neutral"] < level["anger"] < level["happiness"]


def test_pair_is_default_return():
    X, y = make_emotional_speech(8, n_speakers_per_language=1, duration=0.5)
    assert isinstance(X, list) and isinstance(y, pd.DataFrame)
    assert len(X) == len(y) == 8


def test_same_seed_same_corpus_other_seed_other_corpus():
    settings = dict(n_samples=12, n_speakers_per_language=1, duration=(0.5, 0.8))
    X1, y1 = make_emotional_speech(**settings, random_state=3)
    X2, y2 = make_emotional_speech(**settings, random_state=3)
    X3, y3 = make_emotional_speech(**settings, random_state=4)
    pd.testing.assert_frame_equal(y1, y2)
    assert all(np.array_equal(a, b) for a, b in zip(X1, X2))
    # Not merely reordered: the set of durations differs too.
    assert {len(x) for x in X1} != {len(x) for x in X3}
    # A RandomState instance works like its seed.
    X4, _ = make_emotional_speech(**settings, random_state=np.random.RandomState(3))
    X5, _ = make_emotional_speech(**settings, random_state=np.random.RandomState(3))
    assert all(np.array_equal(a, b) for a, b in zip(X4, X5))


def test_generation_is_fast():
    # CPU time, not wall time: under `make test` two workers share the cores with whatever
    # else runs, and the wall time measured the machine's load (11.9 s at load 9).
    start = time.process_time()
    X, _ = make_emotional_speech(200, random_state=1)
    elapsed = time.process_time() - start
    seconds = sum(len(x) for x in X) / SR
    assert 200 <= seconds <= 400  # durations of 1 to 2 s
    assert elapsed < 10.0, f"200 utterances took {elapsed:.1f} s"


def test_writes_wav_files(tmp_path):
    settings = dict(n_samples=8, n_speakers_per_language=1, duration=0.6)
    X, y = make_emotional_speech(**settings, random_state=5)
    paths, y_files = make_emotional_speech(
        **settings, output_dir=tmp_path / "corpus", random_state=5
    )
    pd.testing.assert_frame_equal(y, y_files)
    assert len(paths) == 8
    for path, signal, row in zip(paths, X, y.itertuples()):
        assert path.endswith(f"_{row.language}_{row.speaker}_{row.emotion}.wav")
        info = soundfile.info(path)
        assert (info.samplerate, info.channels, info.subtype) == (SR, 1, "PCM_16")
        audio, rate = soundfile.read(path, dtype="float32")
        assert rate == SR and len(audio) == len(signal) == int(0.6 * SR)
        np.testing.assert_allclose(audio, signal, atol=1.5 / 32768)


def test_sampling_rate_and_fixed_duration():
    X, _ = make_emotional_speech(
        6, n_speakers_per_language=1, duration=0.5, sampling_rate=8000, random_state=0
    )
    assert {len(x) for x in X} == {4000}


@pytest.mark.parametrize(
    "emotions, expected",
    [
        (("anger", "sadness"), {"anger", "sadness"}),
        (6, set(DEFAULT_EMOTIONS) | {"boredom", "fear"}),
    ],
)
def test_choose_emotions(emotions, expected):
    X, y = make_emotional_speech(
        len(expected) * 3,
        emotions=emotions,
        n_speakers_per_language=1,
        duration=0.4,
        random_state=0,
    )
    assert set(y.emotion) == expected
    assert (y.emotion.value_counts() == 3).all()


def test_more_languages_are_fixed_and_distinct():
    kwargs = dict(n_languages=5, n_speakers_per_language=1, duration=0.4)
    _, y = make_emotional_speech(10, **kwargs, random_state=0)
    assert sorted(y.language.unique()) == ["qaa", "qab", "qac", "qad", "qae"]
    assert y.speaker.nunique() == 5
    corpus = make_emotional_speech(10, **kwargs, return_bunch=True, random_state=1)
    # The fourth cue of the auto order goes to the fourth language, then cycle.
    assert corpus.cues["specific"]["qad"] == ("rate",)
    assert corpus.cues["specific"]["qae"] == ("loudness",)


# ---------------------------------------------------------------------------
# Learnable but not trivial (openSMILE IS10 + SVM, speaker-independent)
# ---------------------------------------------------------------------------


def test_is10_svm_learns_emotion_and_language(corpus, is10):
    # Linear SVM on standardised IS10 functionals: the Interspeech 2010 baseline.
    model = make_pipeline(StandardScaler(), SVC(kernel="linear"))
    y = corpus.target
    cv = GroupKFold(n_splits=4)

    def accuracy(task):
        return cross_val_score(model, is10, y[task], groups=y.speaker, cv=cv).mean()

    emotion, language = accuracy("emotion"), accuracy("language")
    # Chance is 0.25 for emotion and 0.33 for language; measured 0.57 and 0.99.
    assert 0.45 < emotion < 0.85, emotion
    assert language > 0.8, language


# ---------------------------------------------------------------------------
# The cue controls do what they say
# ---------------------------------------------------------------------------


def test_shared_pitch_moves_f0_in_every_language(corpus, is10):
    y = corpus.target
    f0 = is10["F0final_sma_amean"]
    for language in corpus.languages:
        mean = f0[y.language == language].groupby(y.emotion).mean()
        assert min(mean["anger"], mean["happiness"]) > 1.2 * mean["neutral"]
        assert mean["neutral"] > 1.05 * mean["sadness"]


def test_specific_loudness_moves_is10_loudness_only_in_its_language(corpus, is10):
    effect = effect_by_language(is10["pcm_loudness_sma_amean"], corpus.target)
    assert effect["qaa"] > 0.5, effect
    assert effect["qab"] < 0.2 and effect["qac"] < 0.2, effect


@pytest.mark.parametrize(
    "cue, owner",
    [("loudness", "qaa"), ("tilt", "qab"), ("voice_quality", "qac")],
)
def test_specific_cue_features_respond_most_in_their_language(corpus, is10, cue, owner):
    columns = [c for c in is10 if c.startswith(CUE_FEATURES[cue])]
    if cue == "tilt":  # level-dependent descriptors also follow loudness (qaa)
        columns = [c for c in columns if "[0]" not in c and "logMel" not in c]
    effect = effect_by_language(is10[columns], corpus.target)
    # The upper decile of the emotion effect over the cue's features.
    strongest = {language: e.quantile(0.9) for language, e in effect.items()}
    assert max(strongest, key=strongest.get) == owner, strongest


@pytest.mark.parametrize(
    "shared, specific, informative",
    [
        (("loudness",), None, {"qaa", "qab", "qac"}),
        ((), {"qab": "loudness"}, {"qab"}),
        (("pitch",), None, set()),
    ],
)
def test_cue_assignment_controls_where_loudness_encodes_emotion(
    shared, specific, informative
):
    X, y = make_emotional_speech(
        96,
        n_speakers_per_language=2,
        duration=0.8,
        shared_cues=shared,
        specific_cues=specific,
        random_state=2,
    )
    effect = loudness_effect_by_language(X, y)
    # 32 utterances per language: eta squared of a label-free cue stays well
    # below 0.35 (about 0.1 on average), a tied one is above 0.8.
    for language, value in effect.items():
        if language in informative:
            assert value > 0.6, effect
        else:
            assert value < 0.35, effect


def test_cue_strength_zero_silences_a_cue():
    kwargs = dict(n_speakers_per_language=2, duration=0.8, random_state=2)
    X, y = make_emotional_speech(
        96, shared_cues=("loudness",), cue_strength={"loudness": 0.0}, **kwargs
    )
    assert max(loudness_effect_by_language(X, y).values()) < 0.35


def test_cue_feature_maps_match_is10_and_explain():
    names = opensmile.Smile(
        feature_set=opensmile.FeatureSet.IS10,
        feature_level=opensmile.FeatureLevel.Functionals,
    ).feature_names
    assert set(CUE_FEATURES) == set(CUE_FAMILIES) == set(CUES)
    for cue, prefixes in CUE_FEATURES.items():
        for prefix in prefixes:
            matched = [n for n in names if n.startswith(prefix)]
            assert matched, prefix
            assert {feature_family(n).lld_family for n in matched} <= set(
                CUE_FAMILIES[cue]
            ), cue


# ---------------------------------------------------------------------------
# Argument validation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_samples=0), ValueError, "n_samples"),
        (dict(n_samples=2.5), TypeError, "n_samples"),
        (dict(emotions=("anger", "joy")), ValueError, "Unknown emotions"),
        (dict(emotions=("anger",)), ValueError, "at least 2"),
        (dict(emotions=("anger", "anger")), ValueError, "distinct"),
        (dict(emotions="anger"), TypeError, "emotions"),
        (dict(emotions=20), ValueError, "emotions"),
        (dict(n_languages=0), ValueError, "n_languages"),
        (dict(n_languages=27), ValueError, "n_languages"),
        (dict(n_speakers_per_language=0), ValueError, "n_speakers"),
        (dict(duration=(2.0, 1.0)), ValueError, "duration"),
        (dict(duration=0.1), ValueError, "duration"),
        (dict(duration="long"), TypeError, "duration"),
        (dict(sampling_rate=4000), ValueError, "sampling_rate"),
        (dict(shared_cues=("pitch", "timbre")), ValueError, "Unknown cues"),
        (dict(specific_cues={5: "loudness"}), ValueError, "language 5"),
        (dict(specific_cues={"xx": "loudness"}), ValueError, "unknown language"),
        (dict(specific_cues={0: "pitch"}), ValueError, "both shared and specific"),
        (dict(specific_cues="all"), TypeError, "specific_cues"),
        (dict(cue_strength=-1.0), ValueError, "cue_strength"),
        (dict(cue_strength={"volume": 1.0}), ValueError, "Unknown cues"),
        (dict(noise=-0.5), ValueError, "noise"),
        (dict(snr="high"), TypeError, "snr"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_emotional_speech(**{"n_samples": 4, **kwargs})


def test_emotion_names_are_the_corpora_ones():
    """One name per meaning: the four defaults and the vocabulary live in corpora."""
    import sklearn_msfl.datasets as datasets

    assert datasets.DEFAULT_EMOTIONS is DEFAULT_EMOTIONS
    with pytest.warns(FutureWarning, match="DEFAULT_EMOTIONS"):
        assert datasets.EMOTIONS == DEFAULT_EMOTIONS
    assert "EMOTIONS" not in datasets.__all__
    # Every emotion the generator knows is one of the corpora's vocabulary.
    _, y = make_emotional_speech(18, emotions=9, duration=0.3, random_state=0)
    assert set(y.emotion) == set(EMOTION_VOCABULARY)
