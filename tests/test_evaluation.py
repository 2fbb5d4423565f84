"""Tests for sklearn_msfl.evaluation: hand-computed scores, fold sharing, y routing, reports."""

import sys
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_msfl.corpora import DEFAULT_EMOTIONS
from sklearn_msfl.evaluation import (
    EvaluationResult,
    PairedComparison,
    SpeakerDependentFoldsWarning,
    _evaluate,
    evaluate,
)
from sklearn_msfl.evaluation import _evaluate
from sklearn_msfl.evaluation._evaluate import _check_inner_cv

# Tests that split by utterance on purpose (hand-made folds, KFold) need no warning each.
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn_msfl.evaluation.SpeakerDependentFoldsWarning"
)


# ----------------------------------------------------------------------------
# helper estimators
# ----------------------------------------------------------------------------
class EchoClassifier(ClassifierMixin, BaseEstimator):
    """Predicts column ``column`` of X verbatim, so predictions are known in advance.

    Remembers the rows (column ``id_column``) and the ``y`` it was fitted on.
    """

    def __init__(self, column=0, id_column=1):
        self.column = column
        self.id_column = id_column

    def fit(self, X, y):
        X = np.asarray(X)
        self.train_ids_ = X[:, self.id_column].astype(int)
        self.y_fit_ = y
        self.classes_ = np.unique(np.asarray(y) if np.ndim(y) == 1 else np.asarray(y)[:, 0])
        return self

    def predict(self, X):
        return np.asarray(X)[:, self.column]


class FakeMultitask(EchoClassifier):
    """Like EchoClassifier, but multitask by duck typing (has ``predict_tasks``)."""

    def predict_tasks(self, X):
        return {"emotion": self.predict(X)}


# Hand example: 8 samples, 2 languages, 2 folds.
Y_TRUE = np.array([0, 0, 1, 1, 0, 1, 1, 0])
Y_PRED = np.array([0, 1, 1, 1, 0, 0, 1, 0])
LANGUAGES = np.array(["de"] * 4 + ["en"] * 4)
FOLDS = [
    (np.array([2, 3, 6, 7]), np.array([0, 1, 4, 5])),
    (np.array([0, 1, 4, 5]), np.array([2, 3, 6, 7])),
]


def hand_X():
    return np.column_stack([Y_PRED, np.arange(8)])


@pytest.fixture(scope="module")
def hand_result():
    return evaluate(
        {"echo": EchoClassifier(), "chance": DummyClassifier(strategy="constant", constant=0)},
        hand_X(),
        Y_TRUE,
        languages=LANGUAGES,
        cv=FOLDS,
        verbose=False,
    )


def score(result, estimator, fold, language, metric):
    scores = result.scores
    rows = scores[
        (scores["estimator"] == estimator)
        & (scores["fold"] == fold)
        & (scores["language"] == language)
    ]
    assert len(rows) == 1
    return rows[metric].item()


# ----------------------------------------------------------------------------
# scores against hand computation
# ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fold", "language", "uar", "wa"),
    [
        # fold 0 tests samples 0, 1 (de: true 0, 0; pred 0, 1) and 4, 5 (en: true 0, 1; pred 0, 0)
        (0, "all", (2 / 3 + 0) / 2, 2 / 4),
        (0, "de", 1 / 2, 1 / 2),
        (0, "en", (1 + 0) / 2, 1 / 2),
        # fold 1 is predicted perfectly
        (1, "all", 1.0, 1.0),
        (1, "de", 1.0, 1.0),
        (1, "en", 1.0, 1.0),
    ],
)
def test_fold_scores_match_hand_computation(hand_result, fold, language, uar, wa):
    assert score(hand_result, "echo", fold, language, "uar") == pytest.approx(uar)
    assert score(hand_result, "echo", fold, language, "wa") == pytest.approx(wa)


def test_scores_table_layout(hand_result):
    scores = hand_result.scores
    assert list(scores.columns) == [
        "estimator", "fold", "language", "uar", "wa", "n_test", "fit_time", "predict_time",
    ]  # fmt: skip
    # 2 estimators x 2 folds x (de, en, all)
    assert len(scores) == 12
    assert scores.query("language == 'all'")["n_test"].tolist() == [4, 4, 4, 4]
    assert scores.query("language == 'de'")["n_test"].tolist() == [2, 2, 2, 2]
    assert (scores[["fit_time", "predict_time"]] >= 0).all().all()


def test_summary_mean_std_and_pooled(hand_result):
    summary = hand_result.summary()
    assert summary.index.tolist() == [
        ("echo", "de"), ("echo", "en"), ("echo", "all"),
        ("chance", "de"), ("chance", "en"), ("chance", "all"),
    ]  # fmt: skip
    row = summary.loc[("echo", "all")]
    assert row["uar_mean"] == pytest.approx((1 / 3 + 1) / 2)
    assert row["uar_std"] == pytest.approx(np.std([1 / 3, 1], ddof=1))
    assert row["wa_mean"] == pytest.approx(0.75)
    # pooled over both folds: class 0 recall 3/4, class 1 recall 3/4, 6 of 8 correct
    assert row["uar_pooled"] == pytest.approx(0.75)
    assert row["wa_pooled"] == pytest.approx(0.75)
    assert row["n_folds"] == 2
    # a constant predictor has UAR 1/2 on every two-class subset
    assert summary.loc[("chance", "en"), "uar_mean"] == pytest.approx(0.5)
    # each fold tests one class of de (fold 0: 0, 0; fold 1: 1, 1), both classes of en
    assert summary.loc[("echo", "de"), "complete_folds"] == 0
    assert summary.loc[("echo", "en"), "complete_folds"] == 2
    assert summary.loc[("echo", "all"), "complete_folds"] == 2


# ----------------------------------------------------------------------------
# folds, routing, languages
# ----------------------------------------------------------------------------
def test_every_estimator_sees_the_same_folds():
    X = np.column_stack([np.zeros(30), np.arange(30)])
    y = np.arange(30) % 3
    # shuffling without a seed gives new folds on every split(): they must be drawn once
    result = evaluate(
        {"a": EchoClassifier(), "b": FakeMultitask(), "c": EchoClassifier()},
        X,
        y,
        cv=KFold(3, shuffle=True),
        verbose=False,
        return_estimators=True,
    )
    for fold, (train, test) in enumerate(result.folds):
        for name in ("a", "b", "c"):
            seen = result.estimators[name][fold].train_ids_
            assert np.array_equal(np.sort(seen), np.sort(train))
            tested = result.predictions.query("estimator == @name and fold == @fold")["sample"]
            assert np.array_equal(np.sort(tested), np.sort(test))


def test_multitask_gets_all_tasks_single_task_gets_main_column():
    X = np.column_stack([["anger"] * 12, np.arange(12)]).astype(object)
    y = pd.DataFrame({"emotion": ["anger", "sadness"] * 6, "language": ["de"] * 6 + ["en"] * 6})
    pipeline = make_pipeline(FunctionTransformer(), FakeMultitask())
    result = evaluate(
        {"single": EchoClassifier(), "multi": FakeMultitask(), "pipeline": pipeline},
        X,
        y,
        cv=KFold(2),
        verbose=False,
        return_estimators=True,
    )
    single = result.estimators["single"][0].y_fit_
    multi = result.estimators["multi"][0].y_fit_
    piped = result.estimators["pipeline"][0][-1].y_fit_
    assert np.ndim(single) == 1 and set(single) == {"anger", "sadness"}
    for fitted in (multi, piped):
        assert isinstance(fitted, pd.DataFrame)
        assert list(fitted.columns) == ["emotion", "language"]
        assert len(fitted) == 6
    # the language column of y provides per-language scores
    assert set(result.scores["language"]) == {"de", "en", "all"}
    assert set(result.predictions["y_true"]) == {"anger", "sadness"}


class FakeLanguageFirst(FakeMultitask):
    """A multitask model told to predict the second column of y."""

    def fit(self, X, y):
        super().fit(X, y)
        self.task_names_ = list(y.columns)
        self.main_task_ = self.task_names_[1]
        return self


def test_multitask_main_task_must_be_the_scored_first_column():
    X = np.column_stack([["anger"] * 12, np.arange(12)]).astype(object)
    y = pd.DataFrame({"emotion": ["anger", "sadness"] * 6, "language": ["de", "en"] * 6})
    with pytest.raises(ValueError, match="put the main task first"):
        evaluate(FakeLanguageFirst(), X, y, cv=KFold(2), verbose=False)


def test_languages_from_X_column_and_explicit_override():
    X = pd.DataFrame({"pred": [0, 1] * 6, "id": range(12), "language": ["de", "ur"] * 6})
    y = np.array([0, 1] * 6)
    echo = EchoClassifier(column=0, id_column=1)
    estimator = make_pipeline(FunctionTransformer(lambda frame: frame[["pred", "id"]]), echo)
    folds = list(KFold(2).split(X))
    from_X = evaluate(estimator, X, y, cv=folds, verbose=False)
    assert set(from_X.scores["language"]) == {"de", "ur", "all"}
    assert from_X.estimator_names == ["EchoClassifier"]
    explicit = evaluate(estimator, X, y, languages=["fr"] * 12, cv=folds, verbose=False)
    assert set(explicit.scores["language"]) == {"fr", "all"}


def test_without_languages_only_pooled_rows():
    X = np.column_stack([np.zeros(20), np.arange(20)])
    result = evaluate(EchoClassifier(), X, np.arange(20) % 2, groups=np.arange(20) // 2, cv=4,
                      verbose=False)
    assert set(result.scores["language"]) == {"all"}
    assert result.languages == ["all"]
    assert len(result.scores) == 4


def test_groups_default_to_speaker_independent_folds():
    X = np.column_stack([np.zeros(40), np.arange(40)])
    y = np.arange(40) % 2
    speakers = np.repeat(np.arange(8), 5)
    result = evaluate(EchoClassifier(), X, y, groups=speakers, cv=4, verbose=False)
    assert len(result.folds) == 4
    for train, test in result.folds:
        assert not set(speakers[train]) & set(speakers[test])


def corpus_frame():
    """Two corpora with 3 speakers each; echo columns ``pred`` and ``id``."""
    return pd.DataFrame({
        "pred": np.arange(36) % 2,
        "id": np.arange(36),
        "corpus": ["emodb"] * 18 + ["urdu"] * 18,
        "language": ["de"] * 18 + ["ur"] * 18,
        # equal IDs in both corpora are different speakers
        "speaker": np.tile(np.repeat(["s1", "s2", "s3"], 6), 2),
    })


def echo_columns():
    select = FunctionTransformer(lambda frame: frame[["pred", "id"]])
    return make_pipeline(select, EchoClassifier())


def assert_speaker_independent_within_corpora(frame, folds, n_folds):
    speakers = (frame["corpus"] + "/" + frame["speaker"]).to_numpy()
    assert len(folds) == n_folds
    for train, test in folds:
        assert not set(speakers[train]) & set(speakers[test])
        assert set(frame["corpus"].iloc[test]) == {"emodb", "urdu"}


def test_corpus_and_speaker_groups_give_folds_within_each_corpus():
    frame = corpus_frame()
    X = frame[["pred", "id"]].to_numpy()
    groups = frame[["corpus", "speaker"]]
    result = evaluate(EchoClassifier(), X, frame["pred"], groups=groups, cv=3, verbose=False)
    assert_speaker_independent_within_corpora(frame, result.folds, 3)


def test_corpus_frame_as_X_is_split_by_speaker_by_default():
    frame = corpus_frame()
    result = evaluate(echo_columns(), frame, frame["pred"], cv=3, verbose=False)
    assert_speaker_independent_within_corpora(frame, result.folds, 3)
    # languages come from X's column; every fold scores both languages
    per_fold = result.scores.groupby("fold")["language"].apply(set)
    assert all(languages == {"de", "ur", "all"} for languages in per_fold)


def test_parallel_matches_sequential():
    X = np.column_stack([np.arange(24) % 3, np.arange(24)])
    y = (np.arange(24) // 2) % 3
    kwargs = dict(languages=["de", "en"] * 12, groups=np.arange(24) // 3, cv=3, verbose=False)
    sequential = evaluate({"echo": EchoClassifier()}, X, y, n_jobs=1, **kwargs)
    with joblib.parallel_config(backend="threading"):  # no process start-up in the test budget
        parallel = evaluate({"echo": EchoClassifier()}, X, y, n_jobs=2, **kwargs)
    columns = ["estimator", "fold", "language", "uar", "wa", "n_test"]
    pd.testing.assert_frame_equal(sequential.scores[columns], parallel.scores[columns])


@pytest.mark.slow
def test_fold_workers_import_all_estimators_modules_first_and_do_not_warn():
    # loky replaces a worker that grew by more than 300 MB after its first task
    # and warns "A worker stopped while some jobs were given to the executor":
    # workers whose first fold was torch-free grew that much in an MSFL fold.
    from sklearn_msfl.msfl import MultitaskSERClassifier

    class TorchProbe(ClassifierMixin, BaseEstimator):  # local: pickled by value
        def fit(self, X, y):
            self.classes_ = np.unique(y)
            self.torch_imported_ = "torch" in sys.modules
            return self

        def predict(self, X):
            return np.full(len(X), self.classes_[0])

    rng = np.random.default_rng(0)
    X = rng.standard_normal((24, 6)).astype(np.float32)
    y = pd.DataFrame({"emotion": np.arange(24) % 2, "language": (np.arange(24) // 2) % 2})
    msfl = MultitaskSERClassifier(hidden_size=4, shared_size=4, embedding_dim=4, patch_size=2,
                                  max_epochs=2, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = evaluate({"probe": TorchProbe(), "msfl": msfl}, X, y, groups=np.arange(24) // 3,
                          cv=2, n_jobs=2, verbose=False, return_estimators=True)

    assert [str(w.message) for w in caught] == []
    # Each worker's first fold (a probe's) already found torch imported.
    assert all(probe.torch_imported_ for probe in result.estimators["probe"])


def test_progress_bar_only_when_verbose(capsys):
    X = np.column_stack([np.zeros(10), np.arange(10)])
    y = np.arange(10) % 2
    groups = np.arange(10) // 2
    evaluate(EchoClassifier(), X, y, groups=groups, cv=2, verbose=False)
    assert capsys.readouterr().err == ""
    evaluate(EchoClassifier(), X, y, groups=groups, cv=2, verbose=True)
    assert "evaluate" in capsys.readouterr().err


# ----------------------------------------------------------------------------
# comparison, confusion matrix, markdown
# ----------------------------------------------------------------------------
def test_compare_matches_scipy(hand_result):
    comparison = hand_result.compare("echo", "chance")
    echo = [1 / 3, 1.0]
    chance = [0.5, 0.5]
    assert comparison.n_folds == 2
    assert comparison.mean_a == pytest.approx(np.mean(echo))
    assert comparison.mean_b == pytest.approx(0.5)
    assert comparison.mean_difference == pytest.approx(np.mean(echo) - 0.5)
    # corrected resampled t-test: n_test / n_train = 4 / 4 in both folds
    diff = np.subtract(echo, chance)
    t = diff.mean() / np.sqrt((1 / 2 + 4 / 4) * diff.var(ddof=1))
    assert comparison.t_test == "corrected"
    assert comparison.t_statistic == pytest.approx(t)
    assert comparison.t_pvalue == pytest.approx(2 * stats.t.sf(abs(t), df=1))
    plain = hand_result.compare("echo", "chance", t_test="plain")
    assert plain.t_pvalue == pytest.approx(stats.ttest_rel(echo, chance).pvalue)
    assert plain.t_pvalue < comparison.t_pvalue
    assert comparison.wilcoxon_pvalue == pytest.approx(stats.wilcoxon(echo, chance).pvalue)
    assert "Only 2 folds" in comparison.note
    assert "echo - chance (UAR, all)" in str(comparison)
    assert "corrected resampled t-test" in str(comparison)
    assert "paired t-test" in str(plain)


def test_compare_per_language_and_wa(hand_result):
    comparison = hand_result.compare("echo", "chance", metric="wa", language="de")
    # echo WA on de: 0.5 and 1.0; the constant-0 predictor: 1.0 (true 0, 0) and 0.0 (true 1, 1)
    assert comparison.mean_a == pytest.approx(0.75)
    assert comparison.mean_b == pytest.approx(0.5)
    # fold 0 tests only class 0 of de; every fold tests both classes overall
    assert "Some folds do not test every class of 'de'" in comparison.note
    assert "Some folds" not in hand_result.compare("echo", "chance").note


def test_paired_comparison_edge_cases():
    many = PairedComparison.from_scores("a", "b", np.linspace(0.6, 0.7, 8), np.full(8, 0.5))
    assert many.note == ""
    assert many.wilcoxon_pvalue == pytest.approx(2 / 2**8)
    identical = PairedComparison.from_scores("a", "b", [0.5, 0.6, 0.7], [0.5, 0.6, 0.7])
    assert identical.mean_difference == 0
    assert identical.t_pvalue == 1.0 and identical.wilcoxon_pvalue == 1.0
    single = PairedComparison.from_scores("a", "b", [0.5], [0.4])
    assert np.isnan(single.t_pvalue) and "no paired test" in single.note
    with pytest.raises(ValueError, match="equal length"):
        PairedComparison.from_scores("a", "b", [0.5, 0.6], [0.4])


def test_confusion_matrix_pooled_and_per_language(hand_result):
    pooled = hand_result.confusion_matrix("echo")
    assert pooled.index.name == "true" and pooled.columns.name == "predicted"
    assert pooled.to_numpy().tolist() == [[3, 1], [1, 3]]
    german = hand_result.confusion_matrix("echo", "de")
    # de: truth 0, 0, 1, 1 predicted 0, 1, 1, 1
    assert german.to_numpy().tolist() == [[1, 1], [0, 2]]
    normalized = hand_result.confusion_matrix("echo", normalize="true")
    assert normalized.to_numpy().diagonal().tolist() == [0.75, 0.75]


def test_confusion_matrix_drops_labels_absent_from_a_language():
    X = np.column_stack([[0, 1, 2, 0, 1, 0], np.arange(6)])
    y = np.array([0, 1, 2, 0, 1, 0])
    languages = ["de", "de", "de", "ur", "ur", "ur"]
    result = evaluate(EchoClassifier(), X, y, languages=languages, cv=KFold(2), verbose=False)
    assert result.confusion_matrix("EchoClassifier").shape == (3, 3)
    urdu = result.confusion_matrix("EchoClassifier", "ur")
    assert urdu.index.tolist() == [0, 1]


def test_markdown_table(hand_result):
    table, note = hand_result.to_markdown().split("\n\n")
    lines = table.splitlines()
    assert [cell.strip() for cell in lines[0].split("|")] == [
        "", "estimator", "metric", "de", "en", "all", "mean", "",
    ]  # fmt: skip
    assert set(lines[1]) == {"|", "-"}
    assert len(lines) == 2 + 4  # header, rule, 2 estimators x (UAR, WA)
    echo_uar = [cell.strip() for cell in lines[2].split("|")[1:-1]]
    # pooled over folds; no spread for de, whose folds test one class each
    assert echo_uar == ["echo", "UAR", "75.0", "75.0 ± 35.4", "75.0 ± 47.1", "75.0"]
    # every line has the same width and the same number of cells
    assert len({len(line) for line in lines}) == 1
    assert len({line.count("|") for line in lines}) == 1
    assert "pooled over folds" in note and "every class" in note
    fractions = hand_result.to_markdown(["wa"], percent=False, digits=2)
    assert "| 0.75 ± 0.35" in fractions and "UAR" not in fractions


def test_markdown_marks_missing_language_scores():
    # leave-one-language-out style folds: each fold tests a single language
    X = np.column_stack([[0, 1] * 4, np.arange(8)])
    y = np.array([0, 1] * 4)
    folds = [(np.arange(4, 8), np.arange(4)), (np.arange(4), np.arange(4, 8))]
    languages = ["de"] * 4 + ["en"] * 4
    result = evaluate(EchoClassifier(), X, y, languages=languages, cv=folds, verbose=False)
    assert result.summary().loc[("EchoClassifier", "de"), "n_folds"] == 1
    assert "| 100.0 " in result.to_markdown()


# ----------------------------------------------------------------------------
# plots
# ----------------------------------------------------------------------------
def test_plots_render_to_files(hand_result, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = hand_result.plot_confusion_matrices(language="de")
    assert len(figure.axes) == 4  # two heat maps, two colour bars
    figure.savefig(tmp_path / "confusion.png")
    ax = hand_result.plot_languages()
    assert len(ax.patches) == 2 * 3  # estimators x (de, en, all)
    heights = [patch.get_height() for patch in ax.patches[:3]]
    assert heights == pytest.approx([0.75, 0.75, 0.75])  # pooled over folds
    ax.figure.savefig(tmp_path / "languages.png")
    plt.close("all")
    for name in ("confusion.png", "languages.png"):
        assert (tmp_path / name).stat().st_size > 1000


def test_plots_without_matplotlib_name_the_extra(hand_result, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"sklearn-msfl\[plots\]"):
        hand_result.plot_languages()


# ----------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------
def test_bad_input_errors(hand_result):
    X = hand_X()
    with pytest.raises(ValueError, match="one language per sample"):
        evaluate(EchoClassifier(), X, Y_TRUE, languages=["de"] * 7, cv=FOLDS, verbose=False)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        evaluate(EchoClassifier(), X, Y_TRUE[:-1], cv=FOLDS, verbose=False)
    with pytest.raises(ValueError, match="reserved"):
        evaluate(EchoClassifier(), X, Y_TRUE, languages=["all"] * 8, cv=FOLDS, verbose=False)
    with pytest.raises(ValueError, match="empty"):
        evaluate({}, X, Y_TRUE, verbose=False)
    with pytest.raises(TypeError, match="fit/predict"):
        evaluate({"x": object()}, X, Y_TRUE, verbose=False)
    with pytest.raises(ValueError, match="without columns"):
        evaluate(EchoClassifier(), X, pd.DataFrame(index=range(8)), verbose=False)
    with pytest.raises(KeyError, match="Unknown estimator 'svm'"):
        hand_result.compare("echo", "svm")
    with pytest.raises(KeyError, match="Unknown language 'fr'"):
        hand_result.confusion_matrix("echo", "fr")
    with pytest.raises(ValueError, match="Unknown metric"):
        hand_result.compare("echo", "chance", metric="f1")
    with pytest.raises(ValueError, match="Unknown metrics"):
        hand_result.to_markdown(["f1"])


def test_result_is_a_dataclass_with_the_folds(hand_result):
    assert isinstance(hand_result, EvaluationResult)
    assert len(hand_result.folds) == 2
    assert hand_result.labels.tolist() == [0, 1]
    assert hand_result.estimators is None


# ----------------------------------------------------------------------------
# end to end on a small speaker-independent subset of the real corpora
# ----------------------------------------------------------------------------
# speakers per corpus (the largest ones): URDU speakers mostly speak one emotion, so it needs
# more of them for every emotion to occur; every speaker keeps at most 4 files per emotion.
SUBSET_SPEAKERS = {"emodb": 3, "ravdess": 3, "urdu": 6}
FILES_PER_SPEAKER_EMOTION = 4


@pytest.fixture(scope="module")
def real_subset(corpora_dir, tmp_path_factory):
    """~120 utterances of EmoDB (de), RAVDESS (en), URDU (ur) with IS10 features."""
    from sklearn_msfl.corpora import load_corpora, subset_speakers
    from sklearn_msfl.features import OpenSmileTransformer

    corpora = load_corpora({name: corpora_dir / name for name in SUBSET_SPEAKERS})
    frame = pd.concat(
        [
            subset_speakers(corpora[corpora["corpus"] == name], n, largest=True)
            for name, n in SUBSET_SPEAKERS.items()
        ],
        ignore_index=True,
    )
    frame = frame.groupby(["speaker", "emotion_std"], sort=False).head(FILES_PER_SPEAKER_EMOTION)
    frame = frame.reset_index(drop=True)
    smile = OpenSmileTransformer(feature_set="IS10", cache=tmp_path_factory.mktemp("is10"))
    return frame, smile.fit_transform(frame)


@pytest.mark.corpora
@pytest.mark.slow
def test_end_to_end_on_real_corpora(real_subset):
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from sklearn_msfl.msfl import MultitaskSERClassifier

    frame, X = real_subset
    assert X.shape == (len(frame), 1582)
    y = frame[["emotion_std", "language"]].rename(columns={"emotion_std": "emotion"})
    estimators = {
        "svm": make_pipeline(StandardScaler(), SVC()),
        "chance": DummyClassifier(strategy="prior"),
        # small and fast: 99 LSTM steps of 16 features, 10 epochs
        "msfl": MultitaskSERClassifier(
            hidden_size=8, embedding_dim=8, shared_size=16, patch_size=16, max_epochs=10,
            random_state=0,
        ),
    }
    groups = frame[["corpus", "speaker"]]
    result = evaluate(estimators, X, y, groups=groups, cv=3, verbose=False, return_estimators=True)

    # speaker independent within each corpus, and every fold scores every language
    speakers = (frame["corpus"] + "/" + frame["speaker"]).to_numpy()
    for train, test in result.folds:
        assert not set(speakers[train]) & set(speakers[test])
    per_fold = result.scores.groupby(["estimator", "fold"])["language"].apply(set)
    assert all(languages == {"de", "en", "ur", "all"} for languages in per_fold)

    summary = result.summary()
    # every fold tests all 4 emotions, so a constant prediction scores UAR 1/4 per fold
    assert summary.loc[("chance", "all"), "uar_mean"] == pytest.approx(0.25)
    assert summary.loc[("svm", "all"), "uar_pooled"] > 0.35
    matrix = result.confusion_matrix("svm")
    assert matrix.index.tolist() == ["anger", "happiness", "neutral", "sadness"]
    assert matrix.to_numpy().sum() == len(frame)
    assert result.compare("svm", "chance").mean_difference > 0
    assert "| svm " in result.to_markdown()
    # MSFL learnt both tasks and predicts emotions
    assert all(m.task_names_ == ["emotion", "language"] for m in result.estimators["msfl"])
    msfl_predictions = result.predictions.query("estimator == 'msfl'")["y_pred"]
    assert set(msfl_predictions) <= set(DEFAULT_EMOTIONS)
    assert result.compare("msfl", "svm").n_folds == 3


# ----------------------------------------------------------------------------
# examples/real_corpora.py (its full run takes minutes: only the command line is tested)
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_corpora_example():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "real_corpora.py"
    spec = importlib.util.spec_from_file_location("real_corpora_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_command_line(real_corpora_example, capsys, tmp_path, monkeypatch):
    with pytest.raises(SystemExit) as exit_info:
        real_corpora_example.main(["--help"])
    assert exit_info.value.code == 0
    assert "--quick" in capsys.readouterr().out
    corpora = tmp_path / "corpora"
    corpora.mkdir()
    monkeypatch.setenv("MSFL_CORPORA", str(corpora))
    args = real_corpora_example.parse_args(["--quick", "--epochs", "2"])
    assert args.quick and real_corpora_example.corpora_folder(args.corpora) == corpora
    speakers = pd.DataFrame({"corpus": ["emodb"] * 2, "speaker": ["03", "08"]})
    estimators = real_corpora_example.build_estimators(args, speakers)
    msfl = estimators["MSFL"][-1]
    assert msfl.max_epochs == 2 and msfl.patch_size == 64
    # The README's models: one feature step, shared; the SVM tuned on inner speaker folds.
    assert estimators["SVM"].estimator[0] is estimators["MSFL"][0]
    with pytest.raises(SystemExit, match="corpora folder not found"):
        real_corpora_example.main(["--corpora", str(tmp_path / "missing")])


def test_constant_nonzero_differences_have_no_t_test_p_value():
    # Two folds, both +0.1: no spread, so a t-test p of 0 would claim certainty.
    comparison = PairedComparison.from_scores("a", "b", [0.6, 0.7], [0.5, 0.6])
    assert np.isnan(comparison.t_pvalue) and np.isnan(comparison.t_statistic)
    assert comparison.wilcoxon_pvalue == pytest.approx(stats.wilcoxon([0.1, 0.1]).pvalue)
    assert comparison.mean_difference == pytest.approx(0.1)


# ----------------------------------------------------------------------------
# issue 15 item 1: no silent speaker-dependent folds
# ----------------------------------------------------------------------------
def test_without_speakers_evaluate_refuses_utterance_folds():
    X = np.column_stack([np.zeros(20), np.arange(20)])
    y = np.arange(20) % 2
    for cv in (None, 4):
        with pytest.raises(ValueError, match="speaker-independent folds.*cv='utterance'"):
            evaluate(EchoClassifier(), X, y, cv=cv, verbose=False)


@pytest.mark.filterwarnings("error")
def test_utterance_folds_only_on_request_and_with_a_warning():
    X = np.column_stack([np.zeros(20), np.arange(20)])
    y = np.arange(20) % 2
    with pytest.warns(SpeakerDependentFoldsWarning, match="inflate.*10 points") as caught:
        result = evaluate(EchoClassifier(), X, y, cv="utterance", verbose=False)
    assert len(result.folds) == 5
    assert caught[0].filename == __file__  # points at the caller's line
    with pytest.warns(SpeakerDependentFoldsWarning, match="KFold ignores speakers"):
        evaluate(EchoClassifier(), X, y, cv=KFold(2), verbose=False)
    with pytest.raises(ValueError, match="only string is 'utterance'"):
        evaluate(EchoClassifier(), X, y, cv="speaker", verbose=False)
    # speaker-aware splitters and explicit index folds: no warning (filterwarnings=error)
    evaluate(EchoClassifier(), X, y, groups=np.arange(20) // 2, cv=GroupKFold(2), verbose=False)
    evaluate(EchoClassifier(), X, y, cv=list(KFold(2).split(X)), verbose=False)


def test_searches_with_integer_cv_are_flagged():
    X = np.column_stack([np.zeros(20), np.arange(20)])
    y = np.arange(20) % 2
    search = GridSearchCV(DummyClassifier(), {"strategy": ["prior", "uniform"]}, cv=2)
    with pytest.warns(SpeakerDependentFoldsWarning, match="GridSearchCV in 'tuned' has cv=2.*"
                                                          "StratifiedKFold"):
        evaluate({"tuned": make_pipeline(FunctionTransformer(), search)}, X, y,
                 groups=np.arange(20) // 2, cv=2, verbose=False)
    # a multitask search with a 2-D y: scikit-learn uses unshuffled KFold
    multitask = GridSearchCV(FakeMultitask(), {"column": [0]})
    y2 = pd.DataFrame({"emotion": y, "language": ["de", "en"] * 10})
    with pytest.warns(SpeakerDependentFoldsWarning, match="cv=None.*unshuffled KFold"):
        _check_inner_cv({"msfl": multitask}, y2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _check_inner_cv({"ok": GridSearchCV(DummyClassifier(), {}, cv=GroupKFold(2))}, y)


# ----------------------------------------------------------------------------
# issue 15 item 2: per-language scores pooled over folds
# ----------------------------------------------------------------------------
def test_language_scores_are_pooled_over_folds_over_every_class():
    # fold 0 tests samples 0-3 (ur: class 0 only), fold 1 samples 4-8 (ur: classes 0 and 1)
    y = np.array([0, 1, 0, 0, 0, 1, 0, 1, 1])
    pred = np.array([0, 1, 0, 0, 0, 1, 1, 1, 1])
    languages = ["de", "de", "ur", "ur", "de", "de", "ur", "ur", "ur"]
    folds = [(np.arange(4, 9), np.arange(4)), (np.arange(4), np.arange(4, 9))]
    X = np.column_stack([pred, np.arange(9)])
    result = evaluate(EchoClassifier(), X, y, languages=languages, cv=folds, verbose=False)
    row = result.summary().loc[("EchoClassifier", "ur")]
    # per fold: 1.0 (one class present) and 0.5 (class 0 missed, class 1 right)
    assert row["uar_mean"] == pytest.approx(0.75)
    # pooled: class 0 recall 2/3, class 1 recall 2/2
    assert row["uar_pooled"] == pytest.approx(5 / 6)
    assert row["wa_pooled"] == pytest.approx(4 / 5)
    assert row["complete_folds"] == 1 and row["n_folds"] == 2
    cells = [cell.strip() for cell in result.to_markdown().splitlines()[2].split("|")[1:-1]]
    # de (perfect, both classes in both folds), ur (pooled, no ± as fold 0 lacks class 1),
    # all, and the mean over languages (the "pooled UAR" of multi-corpus benchmarks)
    assert cells[2:4] == ["100.0 ± 0.0", "83.3"]
    assert result.language_mean()["EchoClassifier"] == pytest.approx((1 + 5 / 6) / 2)
    assert cells[-1] == f"{100 * (1 + 5 / 6) / 2:.1f}"
    note = result.compare("EchoClassifier", "EchoClassifier", language="ur").note
    assert "every class of 'ur'" in note


# ----------------------------------------------------------------------------
# issue 15 item 3: corrected resampled t-test
# ----------------------------------------------------------------------------
def test_corrected_resampled_t_test():
    a, b = np.array([0.62, 0.70, 0.66, 0.71, 0.64]), np.array([0.60, 0.64, 0.65, 0.66, 0.60])
    diff = a - b
    corrected = PairedComparison.from_scores("a", "b", a, b, test_train_ratio=0.25)
    t = diff.mean() / np.sqrt((1 / 5 + 0.25) * diff.var(ddof=1))
    assert corrected.t_statistic == pytest.approx(t)
    assert corrected.t_pvalue == pytest.approx(2 * stats.t.sf(t, df=4))
    # default ratio: k-fold, 1 / (k - 1)
    kfold = PairedComparison.from_scores("a", "b", a, b)
    assert kfold.test_train_ratio == pytest.approx(0.25) and kfold.t_pvalue == corrected.t_pvalue
    plain = PairedComparison.from_scores("a", "b", a, b, t_test="plain")
    assert plain.t_pvalue == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert plain.t_pvalue < corrected.t_pvalue
    assert corrected.wilcoxon_pvalue == plain.wilcoxon_pvalue
    with pytest.raises(ValueError, match="Unknown t_test"):
        PairedComparison.from_scores("a", "b", a, b, t_test="welch")


# ----------------------------------------------------------------------------
# issue 25 item 1: one bar over all fits, naming the fit running now
# ----------------------------------------------------------------------------
EVENTS = []


class RecordingBar:
    def __init__(self, total=None, desc="", unit=None, disable=False, **kwargs):
        EVENTS.append(("bar", desc, total, unit, kwargs.get("smoothing")))

    def set_postfix_str(self, text, refresh=True):
        EVENTS.append(("postfix", text))

    def update(self, n=1):
        EVENTS.append(("update",))

    def close(self):
        EVENTS.append(("close",))


class LoggingEcho(EchoClassifier):
    def __init__(self, column=0, id_column=1, tag=""):
        super().__init__(column, id_column)
        self.tag = tag

    def fit(self, X, y):
        EVENTS.append(("fit", self.tag))
        return super().fit(X, y)


def test_progress_names_the_running_estimator_and_fold(monkeypatch):
    monkeypatch.setattr(_evaluate, "tqdm", RecordingBar)
    EVENTS.clear()
    X = np.column_stack([np.zeros(12), np.arange(12)])
    evaluate({"fast": LoggingEcho(tag="fast"), "slow": LoggingEcho(tag="slow")}, X,
             np.arange(12) % 2, groups=np.arange(12) // 2, cv=3, verbose=True)
    # One bar over the 6 fits; its rate is the mean over the run (a sane ETA).
    assert [event for event in EVENTS if event[0] == "bar"] == [
        ("bar", "evaluate 2 x 3 folds", 6, "fit", 0)]
    postfix, fits = None, []
    for event in EVENTS:
        if event[0] == "postfix":
            postfix = event[1]
        elif event[0] == "fit":
            fits.append(event[1])
            assert postfix == f"fitting {event[1]} on fold {(len(fits) + 1) // 2}/3"
    assert fits == ["fast", "slow"] * 3  # fold by fold, so that the ETA mixes both
    assert EVENTS.count(("update",)) == 6 and EVENTS[-1] == ("close",)


def test_parallel_progress_counts_the_fits_done_per_estimator(monkeypatch):
    monkeypatch.setattr(_evaluate, "tqdm", RecordingBar)
    EVENTS.clear()
    X = np.column_stack([np.zeros(12), np.arange(12)])
    with joblib.parallel_config(backend="threading"):
        evaluate({"a": EchoClassifier(), "b": EchoClassifier()}, X, np.arange(12) % 2,
                 groups=np.arange(12) // 2, cv=3, n_jobs=2, verbose=True)
    postfixes = [event[1] for event in EVENTS if event[0] == "postfix"]
    assert len(postfixes) == 6 and postfixes[-1] == "a 3/3, b 3/3"


# ----------------------------------------------------------------------------
# issue 25 item 1: features extracted once per evaluation
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic_files(tmp_path_factory):
    """24 short wav files: 2 languages (as corpora) x 3 speakers x 4 emotions."""
    from sklearn_msfl.datasets import make_emotional_speech

    files, y = make_emotional_speech(24, n_languages=2, n_speakers_per_language=3,
                                     duration=(0.5, 0.8), random_state=0,
                                     output_dir=tmp_path_factory.mktemp("synthetic"))
    return y.assign(file=files, corpus=y["language"])


@pytest.fixture
def extracted(monkeypatch):
    """The files openSMILE is run on, in this process (threads included)."""
    from sklearn_msfl.features import _extraction

    files = []
    original = _extraction.extract_item

    def counting(item, settings):
        files.append(item.file)
        return original(item, settings)

    monkeypatch.setattr(_extraction, "extract_item", counting)
    return files


def feature_step(**params):
    from sklearn_msfl.features import OpenSmileTransformer

    return OpenSmileTransformer(feature_set="eGeMAPSv02", **params)


def test_two_models_extract_every_file_once(synthetic_files, extracted):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from sklearn_msfl.baselines import make_svm_baseline

    frame = synthetic_files
    speakers = frame[["corpus", "speaker"]]
    models = {  # a search of a pipeline, and a pipeline with an equal feature step
        "SVM": make_svm_baseline(speakers, param_grid={"svc__C": [1.0, 10.0]}, n_splits=2,
                                 preprocessing=[feature_step(n_jobs=2)]),
        "LR": make_pipeline(feature_step(), StandardScaler(), LogisticRegression()),
    }
    with joblib.parallel_config(backend="threading"):  # workers in this process: counted
        result = evaluate(models, frame, frame["emotion"], groups=speakers, cv=3, n_jobs=2,
                          verbose=False, return_estimators=True)
    assert sorted(extracted) == sorted(frame["file"])
    # The fitted folds keep their feature step, ready for new files.
    assert result.estimators["LR"][0].steps[0][1].n_features_out_ == 88


def test_extraction_bar_comes_first(synthetic_files, capsys):
    frame = synthetic_files
    model = make_pipeline(feature_step(), DummyClassifier())
    evaluate(model, frame, frame["emotion"], groups=frame[["corpus", "speaker"]], cv=2)
    err = capsys.readouterr().err.lstrip("\r\n")
    assert err.startswith("openSMILE eGeMAPSv02"), err[:80]
    assert err.index("24/24") < err.index("evaluate 1 x 2 folds")


def test_feature_steps_that_get_the_input_are_found():
    from sklearn.ensemble import BaggingClassifier
    from sklearn.pipeline import FeatureUnion

    a, b, c = feature_step(), feature_step(sampling_rate=8000), feature_step()
    nested = GridSearchCV(
        make_pipeline("passthrough", FeatureUnion([("a", a), ("b", b)]), DummyClassifier()),
        {"dummyclassifier__strategy": ["prior"]})
    assert [step for step in _evaluate._input_steps(nested) if step in (a, b)] == [a, b]
    assert c in list(_evaluate._input_steps(BaggingClassifier(make_pipeline(c, DummyClassifier()))))
    # A feature step behind another step does not get evaluate's X.
    later = make_pipeline(FunctionTransformer(), feature_step(), DummyClassifier())
    assert not any(step is later[1] for step in _evaluate._input_steps(later))
