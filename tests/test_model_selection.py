"""Tests of the speaker-independent splitters, alone and as ``cv=`` in scikit-learn."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC

from sklearn_msfl.model_selection import (
    CorpusSpeakerKFold,
    LeaveOneCorpusOut,
    LeaveOneSpeakerOut,
)

# Utterances per speaker: balanced acted corpora and one as unbalanced as URDU.
SPEAKER_SIZES = {
    "emodb": [49, 58, 43, 38, 55, 35, 61, 69, 56, 71],
    "ravdess": [60] * 8,
    "urdu": [12, 2, 2, 4, 4, 14, 6, 2, 4, 2, 4, 22, 28, 12, 48, 80, 14, 28, 2, 2, 2, 10, 4, 2, 6,
             38, 40, 2, 4],  # URDU's real counts
}


def make_frame(sizes=SPEAKER_SIZES, seed=0):
    """A corpus-like frame, rows shuffled so that speakers are not contiguous."""
    rows = [(corpus, f"{corpus}_{i}") for corpus, counts in sizes.items()
            for i, n in enumerate(counts) for _ in range(n)]
    frame = pd.DataFrame(rows, columns=["corpus", "speaker"])
    frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    rng = np.random.default_rng(seed)
    frame["emotion_std"] = rng.choice(["anger", "happiness", "neutral", "sadness"], len(frame))
    return frame


def test_folds_are_speaker_independent_and_cover_every_corpus():
    frame = make_frame()
    for n_splits in (2, 3, 5):
        for cv in (CorpusSpeakerKFold(n_splits),
                   CorpusSpeakerKFold(n_splits, shuffle=True, random_state=1)):
            folds = list(cv.split(frame))
            assert len(folds) == cv.get_n_splits() == n_splits
            tested = np.concatenate([test for _, test in folds])
            assert np.array_equal(np.sort(tested), np.arange(len(frame)))  # a partition
            for train, test in folds:
                assert len(np.intersect1d(train, test)) == 0
                assert len(train) + len(test) == len(frame)
                train_speakers = set(frame["speaker"].iloc[train])
                assert train_speakers.isdisjoint(frame["speaker"].iloc[test])
                assert set(frame["corpus"].iloc[test]) == set(SPEAKER_SIZES)
                assert set(frame["corpus"].iloc[train]) == set(SPEAKER_SIZES)


def test_every_fold_tests_every_corpus_where_pooled_groups_do_not():
    # Pooled GroupKFold puts the speakers of 50 and 50 utterances of corpus "a" and the
    # three speakers of "b" so that some folds test only one corpus.
    frame = make_frame({"a": [50, 50, 10], "b": [30, 30, 30]})
    for _, test in CorpusSpeakerKFold(3).split(frame):
        assert set(frame["corpus"].iloc[test]) == {"a", "b"}


def test_folds_are_balanced_by_utterances():
    frame = make_frame()
    cv = CorpusSpeakerKFold(5)
    sizes = np.array([frame["corpus"].iloc[test].value_counts().reindex(list(SPEAKER_SIZES))
                      for _, test in cv.split(frame)])
    for column, corpus in enumerate(SPEAKER_SIZES):
        spread = sizes[:, column].max() - sizes[:, column].min()
        # Largest-first greedy filling never leaves a gap above the largest speaker.
        assert spread <= max(SPEAKER_SIZES[corpus]), corpus
    # The URDU-like corpus (400 utterances) splits into exactly 80 per fold.
    assert sizes[:, 2].tolist() == [80] * 5


def test_deterministic_and_shuffled():
    frame = make_frame()

    def test_speakers(cv):
        return [sorted(set(frame["speaker"].iloc[test])) for _, test in cv.split(frame)]

    assert test_speakers(CorpusSpeakerKFold(4)) == test_speakers(CorpusSpeakerKFold(4))
    seeded = test_speakers(CorpusSpeakerKFold(4, shuffle=True, random_state=3))
    assert seeded == test_speakers(CorpusSpeakerKFold(4, shuffle=True, random_state=3))
    others = [test_speakers(CorpusSpeakerKFold(4, shuffle=True, random_state=seed))
              for seed in range(4, 9)]
    assert any(other != seeded for other in others)


def test_all_ways_to_pass_corpus_and_speaker_agree():
    frame = make_frame()
    X = np.zeros((len(frame), 2))

    def test_sets(cv, X, groups=None):
        return [test.tolist() for _, test in cv.split(X, groups=groups)]

    expected = test_sets(CorpusSpeakerKFold(3), frame)  # X is the corpus frame
    assert test_sets(CorpusSpeakerKFold(3), X, frame[["corpus", "speaker"]]) == expected
    assert test_sets(CorpusSpeakerKFold(3), X, frame[["corpus", "speaker"]].to_numpy()) == expected
    assert test_sets(CorpusSpeakerKFold(3, corpus=frame["corpus"]), X, frame["speaker"]) == expected
    assert test_sets(CorpusSpeakerKFold(3), frame[["corpus"]], frame["speaker"]) == expected


def test_speaker_ids_need_only_be_unique_within_a_corpus():
    frame = pd.DataFrame({"corpus": ["a"] * 4 + ["b"] * 4,
                          "speaker": ["s1", "s1", "s2", "s2", "s1", "s2", "s3", "s3"]})
    folds = [frame.iloc[test] for _, test in CorpusSpeakerKFold(2).split(frame)]
    assert [len(fold) for fold in folds] == [4, 4]
    assert len(list(LeaveOneSpeakerOut().split(frame))) == 5


def test_corpus_with_fewer_speakers_than_folds_leaves_one_speaker_out_within_it():
    # SAVEE and CASIA have 4 speakers each: with 5 folds, one fold per speaker
    sizes = {"emodb": SPEAKER_SIZES["emodb"], "savee": [120] * 4, "casia": [50, 60, 70, 80]}
    frame = make_frame(sizes)
    speakers = (frame["corpus"] + "/" + frame["speaker"]).to_numpy()
    folds = list(CorpusSpeakerKFold(5).split(frame))
    assert len(folds) == 5
    tested = np.concatenate([test for _, test in folds])
    assert np.array_equal(np.sort(tested), np.arange(len(frame)))  # every row tested once
    for train, test in folds:
        assert not set(speakers[train]) & set(speakers[test])
        assert "emodb" in set(frame["corpus"].iloc[test])
    for corpus in ("savee", "casia"):
        per_fold = [frame["speaker"].iloc[test][frame["corpus"].iloc[test] == corpus].nunique()
                    for _, test in folds]
        assert sorted(per_fold) == [0, 1, 1, 1, 1]  # each speaker in its own fold
    # the small corpora fill the lightest folds, not the same one
    empty = [next(i for i, (_, test) in enumerate(folds)
                  if corpus not in set(frame["corpus"].iloc[test])) for corpus in ("savee", "casia")]
    assert empty[0] != empty[1]


def test_errors():
    frame = make_frame({"a": [3, 3, 3], "b": [2]})
    with pytest.raises(ValueError, match="corpus 'b' has a single speaker"):
        list(CorpusSpeakerKFold(2).split(frame))
    with pytest.raises(ValueError, match="only 4 speakers in all, fewer than n_splits=5"):
        list(CorpusSpeakerKFold(5).split(make_frame({"a": [3, 3], "b": [2, 2]})))
    with pytest.raises(ValueError, match="at least 2"):
        CorpusSpeakerKFold(1)
    with pytest.raises(ValueError, match="random_state"):
        CorpusSpeakerKFold(2, random_state=0)
    X = np.zeros((len(frame), 2))
    with pytest.raises(ValueError, match="corpus of each sample is needed"):
        list(CorpusSpeakerKFold(2).split(X, groups=frame["speaker"]))
    with pytest.raises(ValueError, match="speaker of each sample is needed"):
        list(CorpusSpeakerKFold(2).split(X))
    with pytest.raises(ValueError, match="one label per sample"):
        list(CorpusSpeakerKFold(2, corpus=frame["corpus"][:-1]).split(X, groups=frame["speaker"]))
    with pytest.raises(ValueError, match="missing values"):
        list(CorpusSpeakerKFold(2, corpus=frame["corpus"]).split(
            X, groups=frame["speaker"].where(frame.index > 0)))
    with pytest.raises(ValueError, match="lacks the columns"):
        list(CorpusSpeakerKFold(2).split(X, groups=frame[["speaker"]]))
    with pytest.raises(ValueError, match="at least 2 corpora"):
        list(LeaveOneCorpusOut().split(frame[frame["corpus"] == "a"]))
    with pytest.raises(ValueError, match="corpus of each sample is needed"):
        list(LeaveOneCorpusOut().split(X, groups=frame["speaker"]))  # 1-D groups are speakers


def test_leave_one_corpus_out():
    frame = make_frame()
    cv = LeaveOneCorpusOut()
    assert cv.get_n_splits(frame) == 3
    assert cv.get_n_splits(groups=frame[["corpus", "speaker"]]) == 3
    tested = []
    for train, test in cv.split(frame):
        (corpus,) = set(frame["corpus"].iloc[test])
        assert corpus not in set(frame["corpus"].iloc[train])
        assert len(train) + len(test) == len(frame)
        tested.append(corpus)
    assert tested == sorted(SPEAKER_SIZES)


def test_leave_one_speaker_out():
    frame = make_frame({"a": [3, 1, 2], "b": [2, 2]})
    cv = LeaveOneSpeakerOut()
    assert cv.get_n_splits(frame) == cv.get_n_splits(groups=frame["speaker"]) == 5
    tested = []
    for train, test in cv.split(frame):
        (speaker,) = set(frame["speaker"].iloc[test])
        assert (frame["speaker"].iloc[train] != speaker).all()
        assert len(test) == (frame["speaker"] == speaker).sum()
        tested.append(speaker)
    assert tested == sorted(frame["speaker"].unique())


def random_features(frame, n_features=4, seed=0):
    """Features carrying a little emotion signal, so that SVC has something to learn."""
    rng = np.random.default_rng(seed)
    codes = pd.factorize(frame["emotion_std"], sort=True)[0]
    return rng.normal(size=(len(frame), n_features)) + codes[:, None] * 0.5


def test_grid_search_with_feature_array_and_groups_frame():
    frame = make_frame({"a": [6, 6, 6, 6], "b": [5, 7, 4, 8, 6]})
    X, y = random_features(frame), frame["emotion_std"].to_numpy()
    cv = CorpusSpeakerKFold(3)
    search = GridSearchCV(make_pipeline(StandardScaler(), SVC()), {"svc__C": [0.1, 1.0]}, cv=cv)
    search.fit(X, y, groups=frame[["corpus", "speaker"]])
    assert search.n_splits_ == 3
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_grid_search_with_corpus_frame_as_X():
    frame = make_frame({"a": [6, 6, 6, 6], "b": [5, 7, 4, 8, 6]})
    # Stands in for a pipeline that starts with the OpenSmileTransformer reading ``file``.
    to_features = FunctionTransformer(random_features)
    search = GridSearchCV(make_pipeline(to_features, SVC()), {"svc__C": [0.1, 1.0]},
                          cv=CorpusSpeakerKFold(2))
    search.fit(frame, frame["emotion_std"])
    assert search.n_splits_ == 2
    assert search.predict(frame).shape == (len(frame),)


def test_cross_validate_keeps_speakers_apart():
    frame = make_frame()
    X, y = random_features(frame), frame["emotion_std"]
    result = cross_validate(DummyClassifier(), X, y, groups=frame["speaker"],
                            cv=CorpusSpeakerKFold(4, corpus=frame["corpus"]),
                            return_indices=True)
    assert len(result["test_score"]) == 4
    for train, test in zip(result["indices"]["train"], result["indices"]["test"]):
        assert set(frame["speaker"].iloc[train]).isdisjoint(frame["speaker"].iloc[test])
        assert set(frame["corpus"].iloc[test]) == set(SPEAKER_SIZES)


def test_nested_cross_validation_reads_the_frame():
    # The inner search gets no groups from cross_validate: it reads X's columns.
    frame = make_frame()
    inner = GridSearchCV(make_pipeline(FunctionTransformer(random_features), DummyClassifier()),
                         {"dummyclassifier__strategy": ["prior", "most_frequent"]},
                         cv=CorpusSpeakerKFold(2))
    result = cross_validate(inner, frame, frame["emotion_std"], cv=LeaveOneCorpusOut(),
                            return_indices=True)
    assert len(result["test_score"]) == 3
    tested = [set(frame["corpus"].iloc[test]) for test in result["indices"]["test"]]
    assert tested == [{"emodb"}, {"ravdess"}, {"urdu"}]


def test_metadata_routing():
    frame = make_frame({"a": [4, 4], "b": [3, 5]})
    X = random_features(frame)
    with sklearn.config_context(enable_metadata_routing=True):
        result = cross_validate(DummyClassifier(), X, frame["emotion_std"],
                                cv=CorpusSpeakerKFold(2),
                                params={"groups": frame[["corpus", "speaker"]]})
    assert len(result["test_score"]) == 2


@pytest.mark.corpora
def test_on_real_corpora(corpora_dir):
    from sklearn_msfl.corpora import load_corpora

    frame = load_corpora(corpora_dir)
    three = frame[frame["corpus"].isin(["emodb", "ravdess", "urdu"])].reset_index(drop=True)
    test_sizes = []
    for train, test in CorpusSpeakerKFold(5).split(three):
        tested = three.iloc[test]
        assert set(tested["corpus"]) == {"emodb", "ravdess", "urdu"}
        assert set(three["speaker"].iloc[train]).isdisjoint(tested["speaker"])
        test_sizes.append(tested.groupby("corpus").size().to_dict())
    # URDU's 400 four-emotion utterances (speakers from 2 to 80 files) give 80 per fold.
    assert [sizes["urdu"] for sizes in test_sizes] == [80] * 5
    # SAVEE and CASIA (4 speakers each) get one fold per speaker among the 5
    speakers = (frame["corpus"] + "/" + frame["speaker"]).to_numpy()
    tested_once = np.zeros(len(frame), dtype=int)
    for train, test in CorpusSpeakerKFold(5).split(frame):
        assert set(speakers[train]).isdisjoint(speakers[test])
        tested_once[test] += 1
    assert (tested_once == 1).all()
    assert LeaveOneSpeakerOut().get_n_splits(three) == 63
