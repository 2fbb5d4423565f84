"""Tests of the speaker-level bootstrap of the pooled-score difference."""

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from sklearn_msfl.evaluation._bootstrap import _resample_weights, bootstrap_difference
from sklearn_msfl.evaluation import evaluate
from sklearn_msfl.metrics import ALL, score_predictions

CLASSES = np.array(["anger", "happiness", "neutral", "sadness"])
# The benchmark's corpora: EmoDB, RAVDESS, URDU, SAVEE, CASIA speakers.
BENCHMARK_SPEAKERS = (10, 24, 29, 4, 4)


def simulate(rng, n_speakers=BENCHMARK_SPEAKERS, difference=0.03):
    """Predictions of models a and b whose recall differs by ``difference`` in every class.

    Every speaker has an ability shared by both models and one of each model's own (both
    uniform with mean 0), 5-24 utterances per class; an utterance is hard for both models
    alike (one uniform draw decides both), so their errors are paired. In the population
    of speakers every class's recall of a is ``difference`` above b's, and so is the pooled
    UAR (the mean over languages of the mean over classes).
    """
    per_speaker = rng.integers(5, 25, size=(sum(n_speakers), len(CLASSES)))
    speaker = np.repeat(np.arange(per_speaker.size) // len(CLASSES), per_speaker.ravel())
    label = np.repeat(np.tile(np.arange(len(CLASSES)), sum(n_speakers)), per_speaker.ravel())
    language = np.repeat(np.arange(len(n_speakers)), n_speakers)[speaker]
    shared = rng.uniform(-0.15, 0.15, sum(n_speakers))[speaker]
    own = rng.uniform(-0.05, 0.05, (2, sum(n_speakers)))[:, speaker]
    base = np.array([0.55, 0.45, 0.65, 0.6])[label] + shared
    hardness = rng.random(len(label))
    frames = []
    for name, recall in (("a", base + difference + own[0]), ("b", base + own[1])):
        wrong = (label + rng.integers(1, len(CLASSES), len(label))) % len(CLASSES)
        predicted = np.where(hardness < recall, label, wrong)
        frames.append(pd.DataFrame({
            "estimator": name, "sample": np.arange(len(label)),
            "language": np.array([f"l{i}" for i in range(len(n_speakers))])[language],
            "y_true": CLASSES[label], "y_pred": CLASSES[predicted]}))
    return pd.concat(frames, ignore_index=True), speaker


def language_mean(predictions, name, metric="uar"):
    scores = score_predictions(predictions[predictions["estimator"] == name], ["estimator"])
    return scores[scores["language"] != ALL][metric].mean()


def test_the_interval_covers_the_true_difference_at_about_the_nominal_rate():
    # Speakers clustered by corpus as in the benchmark (two corpora of 4 speakers).
    rng = np.random.default_rng(0)
    truth, covered = 0.03, []
    for seed in range(200):
        predictions, speakers = simulate(rng, difference=truth)
        result = bootstrap_difference(predictions, "a", "b", speakers, random_state=seed)
        covered.append(result.low <= truth <= result.high)
    assert 0.90 <= np.mean(covered) <= 0.99


def test_observed_difference_is_the_pooled_score_difference():
    rng = np.random.default_rng(1)
    predictions, speakers = simulate(rng, n_speakers=(3, 5))
    for metric in ("uar", "wa"):
        result = bootstrap_difference(predictions, "a", "b", speakers, metric=metric,
                                      n_resamples=50, random_state=0)
        expected = language_mean(predictions, "a", metric) - language_mean(predictions, "b",
                                                                            metric)
        assert result.difference == pytest.approx(expected)
        assert result.speakers == {"l0": 3, "l1": 5}
        assert len(result.differences) == result.n_resamples == 50


def test_rows_of_several_seeds_give_the_mean_over_seeds():
    rng = np.random.default_rng(2)
    first, speakers = simulate(rng, n_speakers=(4, 6))
    changed = rng.random(len(first)) < 0.3  # the same samples, other predictions
    second = first.assign(y_pred=np.where(changed, rng.choice(CLASSES, len(first)),
                                          first["y_pred"]))
    both = pd.concat([first.assign(seed=0), second.assign(seed=1)], ignore_index=True)
    result = bootstrap_difference(both, "a", "b", speakers, n_resamples=10, random_state=0)
    per_seed = [language_mean(part, "a") - language_mean(part, "b") for part in (first, second)]
    assert result.difference == pytest.approx(np.mean(per_seed))


def test_identical_models_never_differ():
    rng = np.random.default_rng(3)
    predictions, speakers = simulate(rng, n_speakers=(4, 6))
    same = pd.concat([predictions[predictions["estimator"] == "a"],
                      predictions[predictions["estimator"] == "a"].assign(estimator="c")])
    result = bootstrap_difference(same, "a", "c", speakers, random_state=0)
    assert (result.difference, result.low, result.high, result.win_share) == (0, 0, 0, 0)


def test_speakers_are_drawn_n_minus_one_times_within_each_language():
    strata = [np.array([0, 1, 2, 3]), np.array([4]), np.array([5, 6])]
    weights = _resample_weights(strata, 7, 100, random_state=0)
    assert (weights[:, :4].sum(axis=1) == 3).all()
    assert (weights[:, 4] == 1).all()  # a single speaker is always there
    assert (weights[:, 5:].sum(axis=1) == 1).all()


def test_corpus_and_speaker_columns_tell_speakers_of_different_corpora_apart():
    predictions = pd.DataFrame({
        "estimator": ["a"] * 4 + ["b"] * 4, "sample": [0, 1, 2, 3] * 2,
        "language": ["de", "de", "de", "de"] * 2, "y_true": ["x", "y"] * 4,
        "y_pred": ["x", "y", "x", "x", "x", "x", "x", "x"]})
    speakers = pd.DataFrame({"corpus": ["c1", "c1", "c2", "c2"], "speaker": ["1"] * 4})
    assert bootstrap_difference(predictions, "a", "b", speakers).speakers == {"de": 2}
    assert bootstrap_difference(predictions, "a", "b", ["1"] * 4).speakers == {"de": 1}


def test_evaluation_result_method_and_clear_errors():
    X = np.random.RandomState(0).normal(size=(80, 3))
    y = (X[:, 0] > 0).astype(int)
    speakers = np.arange(80) % 8
    result = evaluate({"logreg": LogisticRegression(), "chance": DummyClassifier()}, X, y,
                      groups=speakers, languages=np.where(speakers < 4, "de", "en"), cv=4,
                      verbose=False)
    boot = result.bootstrap_difference("logreg", "chance", speakers, n_resamples=200,
                                       random_state=0)
    means = result.language_mean("uar")
    assert boot.difference == pytest.approx(means["logreg"] - means["chance"])
    assert boot.low > 0 and boot.win_share == 1.0
    assert "speaker-bootstrap interval" in str(boot)
    with pytest.raises(KeyError, match="Unknown estimator"):
        result.bootstrap_difference("svm", "chance", speakers)
    with pytest.raises(ValueError, match="Unknown metric"):
        result.bootstrap_difference("logreg", "chance", speakers, metric="f1")
    with pytest.raises(ValueError, match="speaker of every row"):
        result.bootstrap_difference("logreg", "chance", speakers[:10])
    partial = result.predictions.drop(index=result.predictions.index[0])
    with pytest.raises(ValueError, match="different samples"):
        bootstrap_difference(partial, "logreg", "chance", speakers)
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_difference(result.predictions, "logreg", "chance", speakers, confidence=95)
