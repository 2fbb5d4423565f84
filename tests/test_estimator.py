"""Tests for MultitaskSERClassifier: scikit-learn compliance, multitask behaviour, persistence."""

import copy
import io
import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn import config_context
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch import NeuralNet
from skorch.exceptions import DeviceWarning

from sklearn_msfl.metrics import uar_scorer, wa_scorer
from sklearn_msfl.msfl import MultitaskSERClassifier, default_task_names
from sklearn_msfl.msfl._estimator import _standardise
from sklearn_msfl.msfl._net import _WeightAveraging

# Small and fast; lr is high so that a few epochs suffice for the sklearn checks
# (check_classifiers_train wants > 83 % training accuracy on blobs).
CHECK_PARAMS = dict(hidden_size=8, shared_size=8, embedding_dim=4, max_epochs=10,
                    batch_size=32, lr=0.02, device="cpu")
FAST = dict(hidden_size=8, shared_size=8, embedding_dim=4, patch_size=4, max_epochs=4,
            batch_size=32, lr=0.02, device="cpu", random_state=0)



def make_data(n=90, n_features=10, seed=0, n_speakers=6):
    """Features as a DataFrame; string labels that depend on the features; speakers."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, n_features))
    emotion = np.array(["angry", "happy", "sad"])[np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5])]
    language = np.where(X[:, 2] - X[:, 3] > 0, "de", "en")
    columns = [f"f{i}" for i in range(n_features)]
    X = pd.DataFrame(X, columns=columns)
    y = pd.DataFrame({"emotion": emotion, "language": language})
    speakers = np.arange(n) % n_speakers
    return X, y, speakers


# Minibatch training on shuffled batches cannot make a sample weight of 2 exactly equal to
# a repeated row (the batches differ), the one check that asks for exact equivalence.
MINIBATCH_XFAIL = {
    "check_sample_weight_equivalence_on_dense_data":
        "minibatch SGD: weight 2 and a repeated row give different batches",
}


@parametrize_with_checks([MultitaskSERClassifier(**CHECK_PARAMS)],
                         expected_failed_checks=lambda estimator: MINIBATCH_XFAIL)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@parametrize_with_checks([MultitaskSERClassifier(random_state=0)],
                         expected_failed_checks=lambda estimator: MINIBATCH_XFAIL)
def test_sklearn_compatible_at_the_defaults(estimator, check):
    check(estimator)


def test_fit_sets_documented_attributes():
    X, y, _ = make_data()
    clf = MultitaskSERClassifier(**FAST).fit(X, y)
    assert clf.task_names_ == ["emotion", "language"]
    assert clf.main_task_ == "emotion"
    assert list(clf.classes_) == ["angry", "happy", "sad"]
    assert list(clf.classes_per_task_["language"]) == ["de", "en"]
    assert clf.n_features_in_ == 10
    assert list(clf.feature_names_in_) == list(X.columns)
    assert isinstance(clf.net_, NeuralNet)
    assert clf.history_ is clf.net_.history
    assert clf.device_ == "cpu" and clf.n_iter_ == 4
    np.testing.assert_allclose(clf.scaler_.mean_, X.mean().to_numpy())


def test_predictions_use_the_original_labels():
    X, y, _ = make_data()
    clf = MultitaskSERClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (90, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    predicted = clf.predict(X)
    assert predicted.dtype == y["emotion"].to_numpy().dtype
    np.testing.assert_array_equal(predicted, clf.classes_[proba.argmax(axis=1)])

    X_indexed = X.set_index(pd.Index([f"utt{i}" for i in range(90)]))
    tasks = clf.predict_tasks(X_indexed)
    assert list(tasks.columns) == ["emotion", "language"]
    assert list(tasks.index) == list(X_indexed.index)
    np.testing.assert_array_equal(tasks["emotion"].to_numpy(), predicted)
    assert set(tasks["language"]) <= {"de", "en"}
    probabilities = clf.predict_proba_tasks(X)
    assert probabilities["language"].shape == (90, 2)
    np.testing.assert_array_equal(probabilities["emotion"], proba)


def test_learns_both_tasks():
    X, y, _ = make_data(n=150, n_features=6)
    params = dict(FAST, max_epochs=40, patch_size=1, hidden_size=16, shared_size=16)
    clf = MultitaskSERClassifier(**params).fit(X, y)
    predicted = clf.predict_tasks(X)
    assert (predicted["emotion"] == y["emotion"]).mean() > 0.8
    assert (predicted["language"] == y["language"]).mean() > 0.8
    history = clf.history_
    for task in ("emotion", "language"):
        losses = history[:, f"train_loss_{task}"]
        assert losses[-1] < 0.7 * losses[0]


def test_label_layouts_and_task_names():
    X, y, _ = make_data(n=40)
    array_y = y.to_numpy()
    clf = MultitaskSERClassifier(**FAST).fit(X.to_numpy(), array_y)
    assert clf.task_names_ == ["emotion", "language"]
    assert not hasattr(clf, "feature_names_in_")

    three = np.column_stack([array_y, np.arange(40) % 4])
    clf = MultitaskSERClassifier(**FAST).fit(X, three)
    assert clf.task_names_ == ["emotion", "language", "task2"]
    assert list(clf.classes_per_task_["task2"]) == [0, 1, 2, 3]
    assert clf.predict_tasks(X).shape == (40, 3)
    assert default_task_names(1) == ["emotion"]

    series = y["emotion"].rename("arousal")
    assert MultitaskSERClassifier(**FAST).fit(X, series).task_names_ == ["arousal"]
    assert MultitaskSERClassifier(**FAST).fit(X, list(y["emotion"])).task_names_ == ["emotion"]


@pytest.mark.parametrize("main_task", ["language", 1, -1])
def test_main_task_can_be_chosen(main_task):
    X, y, _ = make_data(n=40)
    clf = MultitaskSERClassifier(main_task=main_task, **FAST).fit(X, y)
    assert clf.main_task_ == "language"
    assert list(clf.classes_) == ["de", "en"]
    assert set(clf.predict(X)) <= {"de", "en"}
    assert clf.score(X, y) == clf.score(X, y["language"])
    assert clf.score(X, y.to_numpy()) == clf.score(X, y["language"])


def test_unknown_main_task_is_rejected():
    X, y, _ = make_data(n=20)
    with pytest.raises(ValueError, match="gender"):
        MultitaskSERClassifier(main_task="gender", **FAST).fit(X, y)
    with pytest.raises(ValueError, match="out of range"):
        MultitaskSERClassifier(main_task=5, **FAST).fit(X, y)


def test_single_task_is_the_stl_baseline():
    X, y, _ = make_data(n=40)
    clf = MultitaskSERClassifier(**FAST).fit(X, y["emotion"])
    assert clf.task_names_ == ["emotion"]
    assert len(clf.net_.module_.heads) == 1
    assert clf.history_[-1, "task_weights"] == {"emotion": 1.0}
    assert "train_loss_emotion" in clf.history_[-1]


def test_history_records_task_losses_and_gradnorm_weights():
    X, y, _ = make_data(n=60)
    clf = MultitaskSERClassifier(**dict(FAST, max_epochs=6, gradnorm_lr=0.05)).fit(X, y)
    history = clf.history_
    assert len(history) == 6
    for epoch in history:
        assert epoch["train_loss_emotion"] > 0 and epoch["train_loss_language"] > 0
        weights = epoch["task_weights"]
        assert set(weights) == {"emotion", "language"}
        assert sum(weights.values()) == pytest.approx(2.0, abs=1e-5)
        assert min(weights.values()) > 0
        assert epoch["weight_emotion"] == weights["emotion"]
    assert history[-1, "task_weights"]["emotion"] != pytest.approx(1.0, abs=1e-3)


def test_gradnorm_initial_losses_are_the_first_epochs_mean():
    X, y, _ = make_data(n=90)
    clf = MultitaskSERClassifier(**FAST).fit(X, y)
    first_epoch = clf.history_[0, "batches"]
    assert len(first_epoch) == 3  # batches of 32
    expected = [np.mean([batch[f"train_loss_{task}"] for batch in first_epoch])
                for task in clf.task_names_]
    np.testing.assert_allclose(clf.net_.loss_weighting.initial_losses, expected, rtol=1e-5)


@pytest.mark.parametrize("loss_weighting, expected", [
    ("equal", {"emotion": 1.0, "language": 1.0}),
    ({"language": 0.25}, {"emotion": 1.0, "language": 0.25}),
])
def test_constant_loss_weightings(loss_weighting, expected):
    X, y, _ = make_data(n=40)
    clf = MultitaskSERClassifier(loss_weighting=loss_weighting, **FAST).fit(X, y)
    assert clf.history_[-1, "task_weights"] == expected
    # The reported train loss is the weighted sum of the task losses.
    row = clf.history_[-1]
    weighted = sum(w * row[f"train_loss_{task}"] for task, w in expected.items())
    assert row["train_loss"] == pytest.approx(weighted, rel=1e-5)


def test_validation_split_and_early_stopping():
    X, _, _ = make_data(n=80)
    rng = np.random.RandomState(1)
    noise = pd.DataFrame({"emotion": rng.choice(["a", "b", "c"], 80),
                          "language": rng.choice(["de", "en"], 80)})
    params = dict(FAST, max_epochs=60, lr=0.05, patch_size=1, hidden_size=16, shared_size=32,
                  dropout=0.0, validation_fraction=0.25, patience=3)
    # The utterance-level hold-out this test counts warns that it watches training speakers.
    with pytest.warns(UserWarning, match="groups=speakers"):
        clf = MultitaskSERClassifier(**params).fit(X, noise)
    history = clf.history_
    assert clf.n_iter_ < 60  # random labels: validation loss stops improving early
    assert {"valid_loss", "valid_loss_emotion", "valid_loss_language"} <= set(history[-1])
    assert sum(b.get("valid_batch_size", 0) for b in history[-1, "batches"]) == 20
    assert sum(b.get("train_batch_size", 0) for b in history[-1, "batches"]) == 60


def test_same_random_state_gives_identical_predictions():
    X, y, speakers = make_data(n=50)
    params = dict(FAST, validation_fraction=0.2, dropout=0.3)
    first = MultitaskSERClassifier(**params).fit(X, y, groups=speakers).predict_proba(X)
    second = MultitaskSERClassifier(**params).fit(X, y, groups=speakers).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    other = MultitaskSERClassifier(**dict(params, random_state=1)).fit(
        X, y, groups=speakers).predict_proba(X)
    assert not np.allclose(first, other)


def test_ensemble_averages_networks_trained_with_different_seeds():
    X, y, _ = make_data(n=60)
    single = MultitaskSERClassifier(**FAST).fit(X, y)
    ensemble = MultitaskSERClassifier(**dict(FAST, n_ensemble=3)).fit(X, y)
    assert len(ensemble.nets_) == 3 and ensemble.net_ is ensemble.nets_[0]
    assert ensemble.history_ is ensemble.nets_[0].history
    # The first member is the single network of the same random_state.
    first = ensemble.nets_[0].module_.state_dict()
    for name, tensor in single.net_.module_.state_dict().items():
        torch.testing.assert_close(first[name], tensor)
    members = []
    for net in ensemble.nets_:
        member = copy.copy(ensemble)
        member.nets_ = [net]
        members.append(member)
    second = members[1].nets_[0].module_.state_dict()
    assert not all(torch.equal(first[name], second[name]) for name in first)
    np.testing.assert_allclose(
        ensemble.predict_proba(X), np.mean([m.predict_proba(X) for m in members], axis=0)
    )
    np.testing.assert_allclose(
        ensemble.attention_weights(X), np.mean([m.attention_weights(X) for m in members], axis=0)
    )
    np.testing.assert_allclose(
        ensemble.predict_proba_tasks(X)["language"],
        np.mean([m.predict_proba_tasks(X)["language"] for m in members], axis=0),
    )


def test_fit_leaves_the_global_torch_rng_alone():
    X, y, _ = make_data(n=30)
    state = torch.get_rng_state()
    MultitaskSERClassifier(**FAST).fit(X, y)
    assert torch.equal(torch.get_rng_state(), state)


def make_pipeline_with(**params):
    # A stand-in for OpenSmileTransformer: any transformer in front must work.
    return Pipeline([("features", FunctionTransformer(lambda X: X, validate=False)),
                     ("msfl", MultitaskSERClassifier(**params))])


def test_grid_search_with_speaker_groups_and_uar():
    X, y, speakers = make_data(n=60)
    search = GridSearchCV(
        make_pipeline_with(**FAST),
        {"msfl__pooling": ["attention", "mean"]},
        cv=GroupKFold(n_splits=3),
        scoring={"uar": uar_scorer, "wa": wa_scorer},
        refit="uar",
        error_score="raise",
    )
    search.fit(X, y, groups=speakers)
    assert search.best_params_["msfl__pooling"] in {"attention", "mean"}
    assert np.all(np.isfinite(search.cv_results_["mean_test_uar"]))
    assert 0 <= search.score(X, y) <= 1
    assert search.best_estimator_[-1].task_names_ == ["emotion", "language"]


def test_cross_validate_with_default_score_and_2d_y():
    X, y, speakers = make_data(n=45)
    result = cross_validate(MultitaskSERClassifier(**FAST), X, y, groups=speakers,
                            cv=GroupKFold(n_splits=3), error_score="raise")
    assert np.all((result["test_score"] >= 0) & (result["test_score"] <= 1))


def test_clone_keeps_parameters_and_drops_fitted_state():
    X, y, _ = make_data(n=30)
    clf = MultitaskSERClassifier(loss_weighting={"language": 0.5}, **FAST).fit(X, y)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "net_")


def output_library(name):
    """The name of a transform_output container, skipping the test if it is not installed."""
    pytest.importorskip(name)
    return name


@pytest.mark.parametrize("output", ["pandas", "polars"])
def test_global_transform_output_reaches_no_network(output):
    # set_config(transform_output=...) makes transformers return frames, including a
    # scaler inside the estimator; the network must still get a float32 array.
    X, y, _ = make_data(n=40)
    X = X.to_numpy()
    clf = MultitaskSERClassifier(**FAST).fit(X, y)
    pipeline = Pipeline([("scale", StandardScaler()), ("msfl", MultitaskSERClassifier(**FAST))])
    expected = pipeline.fit(X, y).predict_proba(X)
    with config_context(transform_output=output_library(output)):
        np.testing.assert_array_equal(
            MultitaskSERClassifier(**FAST).fit(X, y).predict_proba(X), clf.predict_proba(X)
        )
        np.testing.assert_array_equal(pipeline.fit(X, y).predict_proba(X), expected)
        assert pipeline.predict(X).shape == (40,)
        assert pipeline[-1].attention_weights(pipeline[0].transform(X)).shape == (40, 10)
        assert list(pipeline[-1].predict_tasks(pipeline[0].transform(X)).columns) == [
            "emotion", "language"]


@pytest.mark.parametrize("output", ["pandas", "polars"])
def test_grid_search_under_global_transform_output(output):
    X, y, _ = make_data(n=40)
    pipeline = Pipeline([("scale", StandardScaler()),
                         ("msfl", MultitaskSERClassifier(**dict(FAST, max_epochs=2)))])
    with config_context(transform_output=output_library(output)):
        search = GridSearchCV(pipeline, {"msfl__hidden_size": [4, 8]}, cv=2).fit(X, y)
        assert set(search.cv_results_["param_msfl__hidden_size"]) == {4, 8}
        assert np.isfinite(search.cv_results_["mean_test_score"]).all()
        assert search.predict(X).shape == (40,)


def test_pickled_pipeline_predicts_identically():
    X, y, _ = make_data(n=40)
    pipeline = Pipeline([("msfl", MultitaskSERClassifier(**FAST))]).fit(X, y)
    restored = pickle.loads(pickle.dumps(pipeline))
    np.testing.assert_array_equal(restored.predict_proba(X), pipeline.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), pipeline.predict(X))
    np.testing.assert_array_equal(restored[-1].attention_weights(X),
                                  pipeline[-1].attention_weights(X))
    assert restored[-1].history_[-1, "task_weights"] == pipeline[-1].history_[-1, "task_weights"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="simulates a machine without CUDA")
def test_a_cuda_model_loads_on_a_cpu_only_machine():
    X, y, _ = make_data(n=30)
    clf = MultitaskSERClassifier(**FAST).fit(X, y)
    expected = clf.predict_proba(X)
    # Pretend the model was trained on a GPU: skorch maps it to the CPU on loading.
    clf.net_.device, clf.device_ = "cuda", "cuda"
    with pytest.warns(DeviceWarning):
        restored = pickle.loads(pickle.dumps(clf))
    assert restored.device_ == "cpu"
    np.testing.assert_array_equal(restored.predict_proba(X), expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_trains_on_cuda_and_reloads():
    X, y, _ = make_data(n=40)
    clf = MultitaskSERClassifier(**dict(FAST, device="auto")).fit(X, y)
    assert clf.device_ == "cuda"
    assert next(clf.net_.module_.parameters()).is_cuda
    buffer = io.BytesIO()
    pickle.dump(clf, buffer)
    restored = pickle.loads(buffer.getvalue())
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X))
    assert clf.attention_weights(X).shape == (40, 10)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
def test_auto_device_falls_back_to_cpu_and_cuda_is_refused():
    X, y, _ = make_data(n=20)
    assert MultitaskSERClassifier(**dict(FAST, device="auto")).fit(X, y).device_ == "cpu"
    with pytest.raises(ValueError, match="CUDA is not available"):
        MultitaskSERClassifier(**dict(FAST, device="cuda")).fit(X, y)


def test_attention_weights_cover_every_feature():
    X, y, _ = make_data(n=30)
    clf = MultitaskSERClassifier(**FAST).fit(X, y)  # 10 features, patches of 4
    weights = clf.attention_weights(X)
    assert weights.shape == (30, 10)
    assert np.all(weights > 0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    # Two-level attention: every feature of a patch has a weight of its own.
    assert clf.attention_level_ == "feature"
    assert all(len(np.unique(row)) == 10 for row in weights)

    # Raw patches (embedding="shared"): features of a patch share its weight equally.
    steps = MultitaskSERClassifier(**dict(FAST, embedding="shared", attention_values="states"))
    weights = steps.fit(X, y).attention_weights(X)
    assert steps.attention_level_ == "step"
    np.testing.assert_allclose(weights[:, :4], np.repeat(weights[:, :1], 4, axis=1))
    np.testing.assert_allclose(weights[:, 8], weights[:, 9])

    mean = MultitaskSERClassifier(**dict(FAST, pooling="mean")).fit(X, y)
    assert mean.attention_level_ is None
    expected = np.array([1 / 12] * 8 + [1 / 6] * 2)
    np.testing.assert_allclose(mean.attention_weights(X), np.tile(expected, (30, 1)))


def test_the_paper_architecture_reads_one_feature_per_step():
    X, y, _ = make_data(n=30)
    clf = MultitaskSERClassifier(architecture="paper", max_epochs=2, hidden_size=4,
                                 shared_size=4, random_state=0).fit(X, y)
    module = clf.net_.module_
    assert module.n_steps == X.shape[1] and module.embed is None
    assert module.attention_values == "states" and not module.lstm.bidirectional
    assert clf.predict(X).shape == (30,)
    assert all(len(np.unique(row)) == X.shape[1] for row in clf.attention_weights(X))


def test_embeddings_and_lstm_options_reach_the_network():
    X, y, _ = make_data(n=30)
    params = dict(FAST, embedding="shared", attention_values="states", bidirectional=True,
                  num_layers=2, shared_size=(8, 6), patch_size=3)
    module = MultitaskSERClassifier(**params).fit(X, y).net_.module_
    assert module.embed is None and module.lstm.input_size == 3
    assert module.lstm.bidirectional and module.lstm.num_layers == 2
    assert module.last_shared_layer.out_features == 6
    big_patch = MultitaskSERClassifier(**dict(FAST, patch_size=64)).fit(X, y).net_.module_
    assert big_patch.n_steps == 1 and big_patch.patch_size == 10


#: Every candidate of the accuracy issue at a non-default value.
CANDIDATES = dict(attention_values="both", feature_attention_scale="learned", wide=True,
                  n_members=3, feature_dropout=0.1, input_noise=0.1, weight_averaging="swa",
                  balance="auxiliary", label_smoothing=0.1)


def test_candidate_parameters_reach_the_network_criterion_and_callbacks():
    X, y, _ = make_data(n=40)
    clf = MultitaskSERClassifier(**FAST, **CANDIDATES).fit(X, y)
    module = clf.net_.module_
    assert module.attention_values == "both" and module.feature_attention.log_scale is not None
    assert module.wide is not None and module.n_members == 3
    assert (module.feature_dropout, module.input_noise) == (0.1, 0.1)
    assert clf.net_.criterion_.label_smoothing == 0.1
    assert isinstance(dict(clf.net_.callbacks_)["weight_averaging"], _WeightAveraging)
    assert clf.predict_proba(X).shape == (40, 3)
    assert clone(clf).get_params() == clf.get_params()


def test_the_within_step_scale_defaults_to_the_step_size():
    X, y, _ = make_data(n=40)
    default = MultitaskSERClassifier(**FAST).fit(X, y).predict_proba(X)
    explicit = MultitaskSERClassifier(**FAST, feature_attention_scale=4).fit(X, y)  # patch 4
    np.testing.assert_array_equal(explicit.predict_proba(X), default)
    one = MultitaskSERClassifier(**FAST, feature_attention_scale=1).fit(X, y)
    assert not np.allclose(one.predict_proba(X), default)


def test_member_probabilities_are_the_mean_of_the_members_softmax():
    X, y, _ = make_data(n=40)
    clf = MultitaskSERClassifier(**FAST, n_members=3).fit(X, y)
    module = copy.deepcopy(clf.net_.module_).double().eval()
    inputs = torch.from_numpy(_standardise(clf.scaler_, X.to_numpy()))
    with torch.no_grad():
        emotion, language = (torch.softmax(t, dim=-1).numpy() for t in module(inputs))
    assert emotion.shape == (40, 3, 3)
    np.testing.assert_allclose(clf.predict_proba(X), emotion.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(clf.predict_proba_tasks(X)["language"], language.mean(axis=1),
                               rtol=1e-12)


def test_weight_averaging_and_early_stopping_exclude_each_other():
    X, y, speakers = make_data(n=40)
    clf = MultitaskSERClassifier(**FAST, weight_averaging="ema", validation_fraction=0.2)
    with pytest.raises(ValueError, match="weight_averaging='ema' averages"):
        clf.fit(X, y, groups=speakers)


def test_class_weights():
    X, y, _ = make_data(n=60)
    clf = MultitaskSERClassifier(class_weight="balanced", **FAST).fit(X, y)
    criterion = clf.net_.criterion_
    counts = y["emotion"].value_counts().sort_index().to_numpy()
    np.testing.assert_allclose(criterion.class_weight_0.numpy(), 60 / (3 * counts), rtol=1e-6)
    assert criterion.class_weight_1 is not None

    per_task = {"language": {"de": 3.0}}
    criterion = MultitaskSERClassifier(class_weight=per_task, **FAST).fit(X, y).net_.criterion_
    assert criterion.class_weight_0 is None
    assert criterion.class_weight_1.tolist() == [3.0, 1.0]

    main_only = MultitaskSERClassifier(class_weight={"sad": 2.0}, **FAST).fit(X, y)
    assert main_only.net_.criterion_.class_weight_0.tolist() == [1.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="unknown labels"):
        MultitaskSERClassifier(class_weight={"bored": 2.0}, **FAST).fit(X, y)


def test_constant_features_are_harmless():
    X, y, _ = make_data(n=30)
    X["f3"] = 7.0
    clf = MultitaskSERClassifier(**FAST).fit(X, y)
    assert np.all(np.isfinite(clf.predict_proba(X)))


def test_clear_errors_for_bad_input():
    X, y, _ = make_data(n=30)
    bad = X.to_numpy().copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MultitaskSERClassifier(**FAST).fit(bad, y)
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        MultitaskSERClassifier(**FAST).fit(bad, y)

    clf = MultitaskSERClassifier(**FAST).fit(X.to_numpy(), y)
    with pytest.raises(ValueError, match="X has 9 features, but MultitaskSERClassifier is "
                                         "expecting 10 features"):
        clf.predict(X.to_numpy()[:, :9])

    with pytest.raises(ValueError, match="only 1 class"):
        MultitaskSERClassifier(**FAST).fit(X, np.full(30, "angry"))
    constant_language = y.assign(language="de")
    with pytest.raises(ValueError, match="task 'language'.*1 class"):
        MultitaskSERClassifier(**FAST).fit(X, constant_language)
    with pytest.raises(ValueError, match="missing"):
        MultitaskSERClassifier(**FAST).fit(X, y.assign(language=[None] + ["de"] * 29))
    with pytest.raises(ValueError, match="unique"):
        MultitaskSERClassifier(**FAST).fit(X, pd.concat([y, y["emotion"]], axis=1))


@pytest.mark.parametrize("params, message", [
    (dict(hidden_size=0), "hidden_size"),
    (dict(n_ensemble=0), "n_ensemble"),
    (dict(validation_fraction=1.0), "validation_fraction"),
    (dict(dropout=-0.1), "dropout"),
    (dict(lr=0), "lr"),
    (dict(loss_weighting="uncertainty"), "loss_weighting"),
    (dict(embedding="onehot"), "embedding"),
    (dict(class_weight="auto"), "class_weight"),
    (dict(device="tpu"), "device"),
    (dict(feature_attention_scale=1.0, embedding="shared", attention_values="states"),
     "feature_attention_scale needs"),
    (dict(attention_values="both", embedding="shared"), "attention_values='both' pools"),
])
def test_invalid_hyperparameters_fail_at_fit(params, message):
    X, y, _ = make_data(n=20)
    clf = MultitaskSERClassifier(**dict(FAST, **params))  # __init__ only stores
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)


def test_diverging_training_stops_with_a_clear_message():
    X, y, _ = make_data(n=40)
    X = X * 1e3  # standardised away; the huge learning rate is what diverges
    clf = MultitaskSERClassifier(**dict(FAST, lr=1e30, max_epochs=20, dropout=0.0))
    with pytest.raises(FloatingPointError, match=re.escape("diverged")):
        clf.fit(X, y)


def test_verbose_prints_one_line_per_epoch(capsys):
    X, y, _ = make_data(n=30)
    MultitaskSERClassifier(**dict(FAST, max_epochs=3)).fit(X, y)
    assert capsys.readouterr().out == ""
    MultitaskSERClassifier(**dict(FAST, max_epochs=3, verbose=1)).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss_emotion" in out and "weight_language" in out
    epoch_lines = [line for line in out.splitlines() if re.match(r"\s+\d+\s", line)]
    assert len(epoch_lines) == 3


def test_column_vector_y_warns_like_sklearn():
    X, y, _ = make_data(n=20)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = MultitaskSERClassifier(**FAST).fit(X, y[["emotion"]].to_numpy())
    assert any("column-vector y" in str(w.message) for w in caught)
    assert clf.task_names_ == ["emotion"]
    # A one-column DataFrame names its task explicitly: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=UserWarning)
        assert MultitaskSERClassifier(**FAST).fit(X, y[["language"]]).task_names_ == ["language"]


@pytest.mark.parametrize("n_features, expected_patch", [(10, 1), (88, 6), (1582, 99)])
def test_auto_patch_size_aims_at_sixteen_steps(n_features, expected_patch):
    X = np.random.RandomState(0).normal(size=(40, n_features))
    y = np.repeat(["a", "b"], 20)
    params = dict(FAST, patch_size="auto", max_epochs=1)
    network = MultitaskSERClassifier(**params).fit(X, y).net_.module_
    assert network.patch_size == expected_patch
    assert network.n_steps == -(-n_features // expected_patch) <= 16


@pytest.mark.parametrize("schedule, final_lr_is_lr", [("onecycle", False), ("cosine", False),
                                                      ("constant", True)])
def test_lr_schedule_is_followed_to_the_end(schedule, final_lr_is_lr):
    X, y, _ = make_data()
    clf = MultitaskSERClassifier(**dict(FAST, lr_schedule=schedule)).fit(X, y)
    final_lr = clf.net_.optimizer_.param_groups[0]["lr"]
    if final_lr_is_lr:
        assert final_lr == pytest.approx(FAST["lr"])
    else:
        # Both schedules anneal to (almost) zero by the last batch of the last epoch.
        assert final_lr < 0.05 * FAST["lr"]


@pytest.mark.parametrize("params, match", [({"lr_schedule": "step"}, "lr_schedule"),
                                           ({"patch_size": "big"}, "patch_size"),
                                           ({"patch_size": 0}, "patch_size")])
def test_invalid_schedule_or_patch_size_is_a_clear_error(params, match):
    X, y, _ = make_data()
    with pytest.raises(ValueError, match=match):
        MultitaskSERClassifier(**dict(FAST, **params)).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [{"bidirectional": "no"}, {"hidden_size": "32"}, {"embedding": "big"}, {"pooling": "max"},
     {"attention_values": "keys"}, {"shared_size": "64"}, {"loss_weighting": "sum"},
     {"architecture": "transformer"}, {"dropout": 1.0}, {"n_threads": 0},
     {"feature_attention_scale": 0}, {"feature_attention_scale": "auto"}, {"wide": "yes"},
     {"n_members": 0}, {"feature_dropout": 1.0}, {"input_noise": -0.1},
     {"weight_averaging": "mean"}, {"balance": "corpus"}, {"label_smoothing": 1.0}],
)
def test_invalid_parameters_raise_sklearns_error_at_fit(params):
    from sklearn.utils._param_validation import InvalidParameterError

    X, y, _ = make_data(n=20)
    clf = MultitaskSERClassifier(**params)  # stored unchanged, checked in fit
    name = next(iter(params))
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter"):
        clf.fit(X, y)


def test_a_failed_refit_leaves_the_fitted_estimator_intact():
    X, y, _ = make_data(n=40)
    clf = MultitaskSERClassifier(**FAST).fit(X, y)
    before = clf.predict_proba(X)
    scaler, net = clf.scaler_, clf.net_
    with pytest.raises(ValueError):
        clf.fit(X.iloc[:, :5].assign(f0=np.nan), y)  # NaN features: fails before training
    assert clf.scaler_ is scaler and clf.net_ is net and clf.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(clf.predict_proba(X), before)
