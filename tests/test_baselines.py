"""Tests of the tuned SVM baseline and its inner speaker-independent folds."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_msfl.baselines import SVM_PARAM_GRID, InnerSpeakerKFold, make_svm_baseline
from sklearn_msfl.evaluation import evaluate
from sklearn_msfl.metrics import uar_scorer
from sklearn_msfl.model_selection import CorpusSpeakerKFold
from sklearn_msfl.preprocessing import GroupStandardScaler


@pytest.fixture
def data():
    """Two corpora of 6 and 4 speakers, 8 rows each, two separable emotions."""
    rng = np.random.RandomState(0)
    speakers = pd.DataFrame({
        "corpus": ["a"] * 48 + ["b"] * 32,
        "speaker": np.repeat([f"s{i}" for i in range(10)], 8),
    }, index=np.arange(100, 180))  # an index that is not positions
    y = np.tile(["anger", "neutral"], 40)
    X = pd.DataFrame(rng.normal(size=(80, 4)) + 1.5 * (y == "anger")[:, None],
                     index=speakers.index)
    return X, y, speakers


def test_make_svm_baseline_is_the_benchmark_svm():
    search = make_svm_baseline()
    assert isinstance(search, GridSearchCV)
    scaler, svc = (step for _, step in search.estimator.steps)
    assert isinstance(scaler, StandardScaler) and isinstance(svc, SVC)
    assert svc.kernel == "rbf" and svc.class_weight is None
    assert search.param_grid == SVM_PARAM_GRID
    assert search.scoring is uar_scorer
    assert isinstance(search.cv, InnerSpeakerKFold) and search.cv.n_splits == 3

    custom = make_svm_baseline(param_grid={"svc__C": [1.0]}, n_splits=2,
                               preprocessing=[GroupStandardScaler()], n_jobs=2)
    assert [name for name, _ in custom.estimator.steps] == [
        "groupstandardscaler", "standardscaler", "svc"]
    assert custom.param_grid == {"svc__C": [1.0]} and custom.n_jobs == 2


def test_inner_folds_look_up_speakers_by_index(data):
    X, y, speakers = data
    cv = InnerSpeakerKFold(speakers, n_splits=3)
    subset = X.iloc[8:]  # corpus a keeps 5 speakers, b 4
    folds = list(cv.split(subset))
    assert len(folds) == cv.get_n_splits(subset) == 3
    rows = speakers.loc[subset.index]
    for train, test in folds:
        train_ids = set(rows.iloc[train].apply(tuple, axis=1))
        test_ids = set(rows.iloc[test].apply(tuple, axis=1))
        assert not train_ids & test_ids
        assert set(rows.iloc[test]["corpus"]) == {"a", "b"}  # unseen speakers of every corpus
    # The folds are CorpusSpeakerKFold's on the looked-up speakers.
    expected = CorpusSpeakerKFold(3).split(subset, groups=rows.reset_index(drop=True))
    for (train, test), (train_ref, test_ref) in zip(folds, expected, strict=True):
        np.testing.assert_array_equal(test, test_ref)


def test_inner_folds_adapt_to_few_speakers(data):
    X, _, speakers = data
    cv = InnerSpeakerKFold(speakers, n_splits=5)
    assert cv.get_n_splits() == 5
    assert cv.get_n_splits(X) == 4  # corpus b has 4 speakers
    one_speaker_b = X[(speakers["corpus"] == "a") | (speakers["speaker"] == "s9")]
    assert cv.get_n_splits(one_speaker_b) == 5  # GroupKFold over the 7 speakers
    for train, test in cv.split(one_speaker_b):
        ids = speakers.loc[one_speaker_b.index, "speaker"].to_numpy()
        assert not set(ids[train]) & set(ids[test])


def test_inner_folds_take_groups_first(data):
    X, _, speakers = data
    cv = InnerSpeakerKFold(n_splits=2)
    groups = speakers.reset_index(drop=True)
    assert cv.get_n_splits(X.to_numpy(), groups=groups) == 2
    folds = list(cv.split(X.to_numpy(), groups=groups[["corpus", "speaker"]].to_numpy()))
    assert len(folds) == 2
    speaker_only = list(cv.split(X.to_numpy(), groups=groups["speaker"]))
    assert len(speaker_only) == 2
    with pytest.raises(TypeError, match="needs groups, or speakers and X as a DataFrame"):
        next(cv.split(X.to_numpy()))


def test_search_inside_evaluate_never_sees_test_speakers(data, monkeypatch):
    """Nested in speaker-independent outer folds, the grid search tunes on training speakers."""
    X, y, speakers = data
    seen = []
    split = InnerSpeakerKFold.split

    def record(self, X, y=None, groups=None):
        seen.append(set(speakers.loc[X.index, "speaker"]))
        yield from split(self, X, y, groups)

    monkeypatch.setattr(InnerSpeakerKFold, "split", record)
    outer = CorpusSpeakerKFold(2)
    groups = speakers.reset_index(drop=True)
    result = evaluate({"svm": make_svm_baseline(speakers, param_grid={"svc__C": [0.1, 10.0]})},
                      X, y, groups=groups, cv=outer)
    tests = [set(groups["speaker"].iloc[test]) for _, test in outer.split(X, groups=groups)]
    assert len(seen) == 2
    for inner_speakers, test_speakers in zip(seen, tests, strict=True):
        assert not inner_speakers & test_speakers
    assert result.scores["estimator"].unique().tolist() == ["svm"]


# ---------------------------------------------------------------------------- MSFL pipeline
def test_make_msfl_pipeline_is_the_tuned_preprocessing_and_the_defaults(data):
    from sklearn_msfl.baselines import MSFL_NORMALISATION, NORMALISATIONS, make_msfl_pipeline
    from sklearn_msfl.msfl import MultitaskSERClassifier

    assert MSFL_NORMALISATION in NORMALISATIONS
    _, _, speakers = data
    default = make_msfl_pipeline(speakers)
    assert isinstance(default[-1], MultitaskSERClassifier) and default.steps[-1][0] == "msfl"
    assert default[-1].get_params() == MultitaskSERClassifier().get_params()
    assert ("groupstandardscaler" in default.named_steps) == (MSFL_NORMALISATION == "corpus")

    assert [name for name, _ in make_msfl_pipeline(normalisation="global").steps] == ["msfl"]
    corpus = make_msfl_pipeline(speakers, normalisation="corpus", max_epochs=3)
    assert [name for name, _ in corpus.steps] == [
        "functiontransformer", "groupstandardscaler", "msfl"]
    assert corpus.get_params()["msfl__max_epochs"] == 3
    # without speakers X carries the corpus column itself
    assert [name for name, _ in make_msfl_pipeline(normalisation="corpus").steps] == [
        "groupstandardscaler", "msfl"]
    extra = make_msfl_pipeline(normalisation="corpus", preprocessing=[StandardScaler()])
    assert [name for name, _ in extra.steps] == ["standardscaler", "groupstandardscaler", "msfl"]
    with pytest.raises(ValueError, match="normalisation must be one of"):
        make_msfl_pipeline(normalisation="speaker")


def test_corpus_normalised_pipeline_standardises_each_corpus_by_row_lookup(data):
    from sklearn.pipeline import make_pipeline

    from sklearn_msfl.baselines import corpus_normalisation, make_msfl_pipeline

    X, y, speakers = data
    X = X + 5.0 * (speakers["corpus"] == "b").to_numpy()[:, None]  # a corpus offset
    steps = make_pipeline(*corpus_normalisation(speakers))
    subset = X.iloc[10:70]  # rows keep their index: the corpus is looked up by it
    Z = steps.fit_transform(subset)
    corpora = speakers.loc[subset.index, "corpus"].to_numpy()
    for corpus in ("a", "b"):
        np.testing.assert_allclose(Z[corpora == corpus].mean(axis=0), 0.0, atol=1e-12)
    with pytest.raises(TypeError, match="needs X as a DataFrame"):
        steps.transform(subset.to_numpy())
    named = subset.set_axis([f"f{i}" for i in range(4)], axis=1)
    assert steps.fit(named).get_feature_names_out().tolist() == ["f0", "f1", "f2", "f3"]

    labels = pd.DataFrame({"emotion": y, "language": speakers["corpus"].to_numpy()},
                          index=X.index)
    model = make_msfl_pipeline(speakers, normalisation="corpus", max_epochs=2, random_state=0)
    result = evaluate({"msfl": model}, X, labels, groups=speakers.reset_index(drop=True),
                      cv=CorpusSpeakerKFold(2), verbose=False)
    assert np.isfinite(result.scores["uar"]).all()
    assert set(result.predictions["y_pred"]) <= {"anger", "neutral"}


def test_svm_baseline_with_corpus_normalisation(data):
    from sklearn_msfl.baselines import corpus_normalisation

    X, y, speakers = data
    search = make_svm_baseline(speakers, param_grid={"svc__C": [1.0]},
                               preprocessing=corpus_normalisation(speakers))
    assert [name for name, _ in search.estimator.steps] == [
        "functiontransformer", "groupstandardscaler", "standardscaler", "svc"]
    assert search.fit(X, y).score(X, y) > 0.5


# ---------------------------------------------------------------------------- other baselines
# 80 rows: Adam's loss on so few rows keeps improving by more than tol for 500 epochs.
@pytest.mark.filterwarnings("ignore:Stochastic Optimizer:sklearn.exceptions.ConvergenceWarning")
def test_logreg_and_mlp_baselines_are_searched_on_inner_speaker_folds(data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    from sklearn_msfl.baselines import (LOGREG_PARAM_GRID, MLP_PARAM_GRID, corpus_normalisation,
                                        make_logreg_baseline, make_mlp_baseline)

    X, y, speakers = data
    logreg = make_logreg_baseline(speakers)
    mlp = make_mlp_baseline(speakers, random_state=3, n_splits=2, n_jobs=2)
    for search, grid, final in ((logreg, LOGREG_PARAM_GRID, LogisticRegression),
                                (mlp, MLP_PARAM_GRID, MLPClassifier)):
        assert isinstance(search, GridSearchCV) and search.param_grid == grid
        assert search.scoring is uar_scorer and isinstance(search.cv, InnerSpeakerKFold)
        scaler, model = (step for _, step in search.estimator.steps)
        assert isinstance(scaler, StandardScaler) and isinstance(model, final)
    assert (mlp.cv.n_splits, mlp.n_jobs, mlp.estimator[-1].random_state) == (2, 2, 3)
    assert not mlp.estimator[-1].early_stopping  # it would hold out training speakers' rows

    normalised = make_logreg_baseline(speakers, param_grid={"logisticregression__C": [1.0]},
                                      preprocessing=corpus_normalisation(speakers))
    assert [name for name, _ in normalised.estimator.steps] == [
        "functiontransformer", "groupstandardscaler", "standardscaler", "logisticregression"]
    assert normalised.fit(X, y).score(X, y) > 0.8
    small = make_mlp_baseline(speakers, param_grid={"mlpclassifier__alpha": [0.1, 1.0]},
                              random_state=0).fit(X, y)
    assert small.best_params_["mlpclassifier__alpha"] in (0.1, 1.0)
    assert small.score(X, y) > 0.8


def test_tabm_baseline_takes_preprocessing_and_parameters():
    from sklearn_msfl import TabMClassifier
    from sklearn_msfl.baselines import make_tabm_baseline

    model = make_tabm_baseline(preprocessing=[StandardScaler()], k=4, random_state=1)
    assert [name for name, _ in model.steps] == ["standardscaler", "tabmclassifier"]
    assert isinstance(model[-1], TabMClassifier)
    assert (model[-1].k, model[-1].random_state) == (4, 1)
