"""Smoke tests of the benchmark scripts: their quick modes run end to end and report every model."""

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO_ROOT / "benchmarks"


def load_script(name):
    """Import a benchmark script (not a package module) by its path."""
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def multilingual():
    return load_script("multilingual_ser")


@pytest.fixture(scope="module")
def training_speed():
    return load_script("training_speed")


def run_script(name, *args, timeout=240):
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), *map(str, args)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
    )


# ---------------------------------------------------------------------------- multilingual_ser
def test_restrict_folds_skips_folds_without_test_rows_and_keeps_their_numbers(multilingual):
    folds = [(np.array([2, 3, 4]), np.array([0, 1])), (np.array([0, 1, 4]), np.array([2, 3])),
             (np.array([0, 1, 2, 3]), np.array([4]))]
    rows = np.array([0, 1, 4])  # a corpus none of whose rows fold 1 tests
    numbers, restricted = multilingual.restrict_folds(folds, rows)
    assert numbers == [0, 2]
    assert [(train.tolist(), test.tolist()) for train, test in restricted] == [
        ([2], [0, 1]), ([0, 1], [2])]


@pytest.mark.corpora
@pytest.mark.slow
def test_multilingual_quick_run_scores_every_model(multilingual, corpora_dir, tmp_path):
    completed = run_script("multilingual_ser", "--quick", "--corpora", corpora_dir,
                           "--output", tmp_path, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]

    scores = pd.read_csv(tmp_path / multilingual.SCORES_NAME)
    assert list(dict.fromkeys(scores["corpus_set"])) == list(multilingual.CORPUS_SETS)
    for corpus_set, corpora in multilingual.CORPUS_SETS.items():
        in_set = scores[scores["corpus_set"] == corpus_set]
        assert list(dict.fromkeys(in_set["estimator"])) == list(multilingual.MODELS)
        overall = in_set[in_set["language"] == "all"]
        for name, config in multilingual.MODELS.items():
            rows = overall[overall["estimator"] == name]
            expected_folds = len(corpora) if config.scope == "loco" else multilingual.QUICK_SPLITS
            assert sorted(rows["fold"]) == list(range(expected_folds)), (corpus_set, name)
            assert np.isfinite(rows[["uar", "wa", "fit_time", "predict_time"]]).all().all(), name
            assert ((rows["uar"] >= 0) & (rows["uar"] <= 1)).all(), name
        # pooled models are scored per test corpus too; LOCO tests one corpus per fold
        languages = {multilingual.LANGUAGES[corpus] for corpus in corpora}
        pooled = in_set[(in_set["estimator"] == "MSFL") & (in_set["fold"] == 0)]
        assert set(pooled["language"]) == languages | {"all"}
        loco = in_set[(in_set["estimator"] == "MSFL LOCO") & (in_set["language"] != "all")]
        assert sorted(loco["language"]) == sorted(languages)

    report = (tmp_path / multilingual.REPORT_NAME).read_text()
    for section in ("## Five corpora", "## Paper's three", "### Speaker-independent folds",
                    "### Leave one corpus out", "Pooled UAR", "corrected resampled t-test",
                    "## Wall time", "## Machine", "## What we tried", "Paired difference"):
        assert section in report
    for name in multilingual.MODELS:
        assert f"| {name} " in report
    assert "--quick" in report  # the exact command
    for plot in (multilingual.UAR_PLOT_NAME, multilingual.WEIGHTS_PLOT_NAME):
        assert (tmp_path / plot).stat().st_size > 0
        assert f"]({plot})" in report
    for statistic in ("speaker-bootstrap interval", "(best baseline)", "per seed",
                      "Estimand of each row"):
        assert statistic in report
    # the committed full results are never touched by a quick run
    assert tmp_path.resolve() != multilingual.RESULTS_DIR.resolve()

    # Every run was saved as it finished: --resume trains nothing and reports the same.
    resumed = run_script("multilingual_ser", "--quick", "--corpora", corpora_dir,
                         "--output", tmp_path, "--resume", timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    n_runs = sum(len(multilingual.CORPUS_SETS) for _ in multilingual.MODELS)
    assert resumed.stdout.count(": reused ") == n_runs
    again = (tmp_path / multilingual.REPORT_NAME).read_text()
    section = report.index("## Five corpora"), report.index("## Wall time")
    assert again[again.index("## Five corpora"):again.index("## Wall time")] == report[
        slice(*section)]


def test_multilingual_quick_refuses_the_committed_results(multilingual):
    with pytest.raises(SystemExit):
        multilingual.parse_args(["--quick", "--output", str(multilingual.RESULTS_DIR)])
    args = multilingual.parse_args(["--quick"])
    assert args.output == multilingual.QUICK_OUTPUT
    assert (args.seeds, args.threads) == ([0], None)  # no forced thread count


def test_multilingual_model_subset_and_options(multilingual):
    args = multilingual.parse_args(["--models", "MSFL", "SVM", "MSFL", "--seeds", "1", "2",
                                    "--n-splits", "4", "--corpus-sets", "paper's three"])
    assert args.models == ["MSFL", "SVM"]
    assert (args.seeds, args.n_splits, args.output) == ([1, 2], 4, multilingual.RESULTS_DIR)
    assert args.corpus_sets == ["paper's three"]
    assert multilingual.parse_args([]).seeds == [0, 1, 2]  # three seeds for every network row
    with pytest.raises(SystemExit):
        multilingual.parse_args(["--models", "no such model"])


def test_corpus_sets_and_languages(multilingual):
    assert set(multilingual.CORPORA) == {"emodb", "ravdess", "urdu", "savee", "casia"}
    assert multilingual.CORPUS_SETS["paper's three"] == ("emodb", "casia", "savee")
    # one language label per corpus: the per-language tables are per-corpus tables
    assert len(set(multilingual.LANGUAGES.values())) == len(multilingual.LANGUAGES)


def test_msfl_factories_layer_defaults_run_settings_and_overrides(multilingual):
    from sklearn_msfl.baselines import MSFL_NORMALISATION

    speakers = pd.DataFrame({"corpus": ["a"], "speaker": ["1"]})
    settings = multilingual.RunSettings(seed=7, msfl_params={"max_epochs": 2, "patch_size": 64},
                                        grids=multilingual.GRIDS, speakers=speakers)
    ablation = multilingual.MODELS["MSFL mean pooling"].factory(settings)
    params = ablation.get_params()
    assert params["msfl__pooling"] == "mean"  # the model's override wins
    assert (params["msfl__max_epochs"], params["msfl__random_state"]) == (2, 7)
    equal = multilingual.MODELS["MTL equal"].factory(settings).get_params()
    assert (equal["msfl__loss_weighting"], equal["msfl__patch_size"]) == ("equal", 64)
    model = multilingual.MODELS["MSFL"].factory(settings)
    assert model.get_params()["msfl__pooling"] == "attention"
    assert ("groupstandardscaler" in model.named_steps) == (MSFL_NORMALISATION == "corpus")
    # the LOCO rows: raw and per-corpus normalised, whatever the tuned default
    assert "groupstandardscaler" not in multilingual.MODELS["MSFL LOCO"].factory(
        settings).named_steps
    assert "groupstandardscaler" in multilingual.MODELS["MSFL LOCO norm"].factory(
        settings).named_steps
    svm_norm = multilingual.MODELS["SVM LOCO norm"].factory(settings)
    assert "groupstandardscaler" in dict(svm_norm.estimator.steps)


def test_baseline_rows_are_the_strongest_settings_of_every_baseline(multilingual):
    from sklearn_msfl import TabMClassifier

    models = multilingual.MODELS
    pooled = [name for name, config in models.items()
              if config.baseline and config.scope == "pooled"]
    assert pooled == ["SVM", "SVM corpus-norm", "LogReg", "MLP", "TabM"]
    assert not models["SVM per corpus"].baseline  # trained within each corpus: reported apart
    assert {"SVM LOCO", "LogReg LOCO", "TabM LOCO", "SVM LOCO norm"} <= {
        name for name, config in models.items() if config.baseline and config.scope == "loco"}
    assert not any(config.baseline for name, config in models.items() if "MSFL" in name)

    speakers = pd.DataFrame({"corpus": ["a"], "speaker": ["1"]})
    settings = multilingual.RunSettings(seed=4, msfl_params={}, grids=multilingual.GRIDS,
                                        speakers=speakers, tabm_params={"n_threads": 2})
    steps = {name: [step for step, _ in models[name].factory(settings).estimator.steps]
             for name in ("SVM", "SVM corpus-norm", "LogReg", "MLP")}
    assert steps["SVM"] == ["standardscaler", "svc"]
    assert steps["SVM corpus-norm"] == [
        "functiontransformer", "groupstandardscaler", "standardscaler", "svc"]
    assert steps["LogReg"] == ["standardscaler", "logisticregression"]
    mlp = models["MLP"].factory(settings)
    assert mlp.estimator[-1].random_state == 4 and mlp.param_grid == multilingual.GRIDS["mlp"]
    assert (models["MLP"].seeded, models["TabM"].seeded, models["LogReg"].seeded) == (
        True, True, False)
    tabm = models["TabM"].factory(settings)[-1]
    assert isinstance(tabm, TabMClassifier)
    assert (tabm.random_state, tabm.n_threads, tabm.k, tabm.max_epochs) == (4, 2, 16, 40)


def predictions_of(scores_by_model):
    """Predictions of models on one corpus of 4 rows: 1 = right, 0 = wrong, per row."""
    frames = []
    for name, right in scores_by_model.items():
        y_true = np.array(["a", "b", "a", "b"])
        y_pred = np.where(np.array(right) == 1, y_true, np.where(y_true == "a", "b", "a"))
        frames.append(pd.DataFrame({"estimator": name, "fold": [0, 0, 1, 1],
                                    "sample": np.arange(4), "language": "de",
                                    "y_true": y_true, "y_pred": y_pred}))
    return pd.concat(frames, ignore_index=True)


def test_best_baseline_and_the_headline_table(multilingual):
    from sklearn_msfl.evaluation import EvaluationResult
    from sklearn_msfl.metrics import score_predictions

    predictions = predictions_of({"SVM": [1, 1, 0, 0], "TabM": [1, 1, 1, 0],
                                  "SVM per corpus": [1, 1, 1, 1], "MSFL": [1, 0, 1, 1]})
    scores = score_predictions(predictions, ["estimator", "fold"]).assign(
        fit_time=1.0, predict_time=0.1)
    result = EvaluationResult(scores, predictions, np.array(["a", "b"]), folds=[])
    # SVM per corpus scores highest but is no candidate: TabM is the best baseline
    assert multilingual.best_baseline(result) == "TabM"
    runs = [multilingual.ModelRun(name, seed, predictions[predictions["estimator"] == name],
                                  pd.DataFrame()) for name, seed in
            (("SVM", None), ("TabM", 0), ("SVM per corpus", None), ("MSFL", 0))]
    speakers = pd.DataFrame({"corpus": "emodb", "speaker": ["1", "1", "2", "2"]})
    table = multilingual.pooled_table(result, "TabM", runs, speakers)
    assert "| TabM (best baseline) | 75.0 |" in table
    assert "| MSFL | 75.0 |  | +0.0 |" in table and "| SVM | 50.0 |  | -25.0 |" in table


def test_run_cache_reuses_a_run_only_with_the_same_fingerprint(multilingual, tmp_path):
    run = multilingual.ModelRun("MSFL", 1, pd.DataFrame({"y_pred": ["a"]}), pd.DataFrame())
    cache = multilingual.RunCache(tmp_path, resume=True)
    path = cache.path("paper's three", multilingual.LOCO, "MSFL LOCO norm", 1)
    assert path == tmp_path / "paper-s-three" / "leave-one-corpus-out" / "msfl-loco-norm" / (
        "seed1.pkl")
    assert cache.path("five corpora", multilingual.LOCO, "SVM LOCO", None).name == (
        "unseeded.pkl")
    assert cache.load(path, "abc") is None  # nothing saved yet
    cache.save(path, "abc", run)
    assert not list(tmp_path.rglob("*.partial"))
    loaded = cache.load(path, "abc")
    assert loaded.reused and loaded.predictions.equals(run.predictions)
    assert cache.load(path, "other model or data") is None
    assert multilingual.RunCache(tmp_path, resume=False).load(path, "abc") is None


def test_resume_trains_only_what_changed(multilingual, tmp_path, monkeypatch):
    rng = np.random.RandomState(0)
    corpora = multilingual.CORPUS_SETS["paper's three"]
    frame = pd.DataFrame({"corpus": np.repeat(corpora, 16),
                          "speaker": np.tile(np.repeat(["1", "2", "3", "4"], 4), 3),
                          "emotion_std": np.tile(["anger", "sadness"], 24)})
    labels = pd.DataFrame({"emotion": frame["emotion_std"],
                           "language": frame["corpus"].map(multilingual.LANGUAGES)})
    X = pd.DataFrame(rng.normal(size=(48, 3)) + (labels["emotion"] == "anger").to_numpy()[:, None])
    data = multilingual.Data(frame, X, labels, 0.0, 0.0)
    args = argparse.Namespace(quick=True, epochs=None, threads=None, seeds=[0], n_splits=2,
                              corpus_sets=["paper's three"], models=["SVM", "LogReg"],
                              n_jobs=None, runs=tmp_path, resume=False)
    trained = []
    run_model = multilingual.run_model

    def counting(name, *positional, **keywords):
        trained.append(name)
        return run_model(name, *positional, **keywords)

    monkeypatch.setattr(multilingual, "run_model", counting)
    first, raw, _, _ = multilingual.run_all(args, data)
    assert trained == ["SVM", "LogReg"] and not any(run.reused for run in first)
    args.resume = True
    again, raw_again, _, _ = multilingual.run_all(args, data)
    assert trained == ["SVM", "LogReg"] and all(run.reused for run in again)
    pd.testing.assert_frame_equal(raw_again, raw)
    data.X.iloc[0, 0] += 1.0  # other data: trained again
    multilingual.run_all(args, data)
    assert trained == ["SVM", "LogReg"] * 2


def test_inner_speaker_folds_look_up_speakers_by_row(multilingual):
    from sklearn_msfl.baselines import InnerSpeakerKFold

    assert multilingual.InnerSpeakerKFold is InnerSpeakerKFold  # the library's, one home
    speakers = pd.DataFrame({
        "corpus": ["a"] * 6 + ["b"] * 6,
        "speaker": ["1", "1", "2", "2", "3", "3", "1", "2", "3", "4", "5", "6"],
    }, index=np.arange(100, 112))
    X = pd.DataFrame({"f": np.arange(12.0)}, index=speakers.index)
    cv = multilingual.InnerSpeakerKFold(speakers, n_splits=3)
    subset = X.iloc[2:]  # a training fold: its rows keep their index
    folds = list(cv.split(subset))
    assert len(folds) == cv.get_n_splits(subset) == 2  # corpus a has 2 speakers left
    for train, test in folds:
        train_speakers = set(map(tuple, speakers.loc[subset.index[train]].to_numpy()))
        test_speakers = set(map(tuple, speakers.loc[subset.index[test]].to_numpy()))
        assert not train_speakers & test_speakers
        assert {corpus for corpus, _ in test_speakers} == {"a", "b"}


def test_score_run_uses_the_library_scoring(multilingual):
    predictions = pd.DataFrame({
        "estimator": "m", "fold": [0, 0, 0, 1], "sample": [0, 1, 2, 3],
        "language": ["de", "de", "zh", "zh"], "y_true": ["a", "b", "a", "a"],
        "y_pred": ["a", "a", "a", "b"]})
    times = pd.DataFrame({"fold": [0, 1], "fit_time": [1.0, 2.0], "predict_time": [0.1, 0.2]})
    run = multilingual.ModelRun("m", 0, predictions, times)
    scores = multilingual.score_run(run).set_index(["fold", "language"])
    assert scores.loc[(0, "de"), "uar"] == 0.5 and scores.loc[(0, "all"), "wa"] == 2 / 3
    assert scores.loc[(1, "zh"), "uar"] == 0.0 and scores.loc[(1, "all"), "fit_time"] == 2.0
    assert not hasattr(multilingual, "uar")  # no private copy of the metric


def test_corpus_lookup_follows_the_library_rule(multilingual, tmp_path, monkeypatch):
    monkeypatch.setenv("MSFL_CORPORA", str(tmp_path))
    assert multilingual.find_corpora(None) == tmp_path
    assert multilingual.find_corpora(tmp_path) == tmp_path
    with pytest.raises(SystemExit):
        multilingual.find_corpora(tmp_path / "missing")


def test_check_complete_reports_failed_missing_and_nan_models(multilingual):
    args = argparse.Namespace(models=["SVM", "STL", "MSFL", "MSFL LOCO"], seeds=[0],
                              corpus_sets=["five corpora"])
    folds = {"five corpora": {multilingual.SPEAKER_FOLDS: [None, None],
                              multilingual.LOCO: [None] * 5}}
    raw = pd.DataFrame({
        "estimator": ["SVM", "SVM", "STL", "STL"], "language": "all", "fold": [0, 1, 0, 1],
        "uar": [0.5, 0.6, 0.4, np.nan], "wa": [0.5, 0.6, 0.4, 0.4],
        "corpus_set": "five corpora",
    })
    problems = multilingual.check_complete(args, raw, folds,
                                           {"five corpora": {"MSFL LOCO": "Traceback"}})
    assert [problem.split(":")[0] for problem in problems] == ["MSFL LOCO", "STL", "MSFL"]


# ---------------------------------------------------------------------------- tune
@pytest.fixture(scope="module")
def tune():
    return load_script("tune")


@pytest.mark.corpora
@pytest.mark.slow
def test_tune_quick_run_reports_every_candidate(tune, corpora_dir, tmp_path):
    completed = run_script("tune", "--quick", "--corpora", corpora_dir, "--output", tmp_path,
                           "--candidates", "MSFL", "MSFL corpus norm", "SVM", timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report_name, scores_name = tune.output_names(tune.MODES["quick"])
    scores = pd.read_csv(tmp_path / scores_name)
    means = scores[scores["language"] == "mean"]
    quick = tune.MODES["quick"]
    assert len(means) == quick.outer_folds * quick.repeats * 3
    assert sorted(set(means["repeat"])) == list(range(quick.repeats))
    assert np.isfinite(means[["uar", "fit_seconds"]]).all().all()
    report = (tmp_path / report_name).read_text()
    for text in ("## Protocol", "**Noise.**", "**Rule.**", "## Decisions", "spread",
                 "MSFL input normalisation", "quick: would", "## Wall time of one fit",
                 "training speakers only", "--quick"):
        assert text in report
    assert "SVM input normalisation" not in report  # its challenger did not run


def test_tune_never_sees_the_outer_test_speakers(tune, monkeypatch):
    """Every inner fit and prediction uses rows of the outer fold's training part only."""
    rng = np.random.RandomState(0)
    speakers = pd.DataFrame({"corpus": np.repeat(["emodb", "casia"], 24),
                             "speaker": np.repeat([f"s{i}" for i in range(8)], 6)},
                            index=np.arange(500, 548))
    labels = pd.DataFrame({"emotion": np.tile(["anger", "neutral"], 24),
                           "language": np.repeat(["de", "zh"], 24)}, index=speakers.index)
    X = pd.DataFrame(rng.normal(size=(48, 3)), index=speakers.index)
    seen = []

    def fake_evaluate(models, X_inner, y, cv, **kwargs):
        seen.append((set(X_inner.index), cv))
        raise StopIteration

    monkeypatch.setattr(tune, "evaluate", fake_evaluate)
    context = tune.Context(speakers, {}, {})
    mode = tune.Mode(2, 2, 1, 2, "", "test")
    folds = list(tune.CorpusSpeakerKFold(2).split(X, groups=speakers.reset_index(drop=True)))
    for outer, (train, test) in enumerate(folds):
        with pytest.raises(StopIteration):
            tune.inner_validation("SVM", outer, 0, train, X, labels, context, mode)
        rows, inner = seen[-1]
        assert not rows & set(X.index[test])
        for inner_train, inner_test in inner:  # and the inner folds are speaker independent
            names = speakers.loc[sorted(rows), "speaker"].to_numpy()
            assert not set(names[inner_train]) & set(names[inner_test])


def test_tune_repeats_draw_other_partitions_and_seeds(tune):
    speakers = pd.DataFrame({"corpus": np.repeat(["emodb", "urdu"], 30),
                             "speaker": np.repeat([f"s{i}" for i in range(12)], 5)})
    partitions = {tuple(tuple(test) for _, test in tune.inner_folds(speakers, tune.MODES["full"],
                                                                      repeat))
                  for repeat in range(3)}
    assert len(partitions) == 3
    built = tune.CANDIDATES["MSFL"].factory(tune.Context(speakers, {}, {}, seed=2))
    assert built[-1].random_state == 2


def test_tune_loco_mode_holds_out_whole_corpora_outer_and_inner(tune):
    """--loco: the outer test corpus is unseen, and every inner test fold is a training corpus
    that its inner fit has not seen."""
    corpora = ["emodb", "casia", "savee"]
    frame = pd.DataFrame({"corpus": np.repeat(corpora, 8),
                          "speaker": np.repeat([f"s{i}" for i in range(6)], 4)},
                         index=np.arange(100, 124))
    data = SimpleNamespace(frame=frame, X=pd.DataFrame(np.zeros((24, 2)), index=frame.index))
    mode = tune.MODES["loco"]
    outer = tune.outer_folds(data, mode)
    assert sorted(frame["corpus"].iloc[test].unique()[0] for _, test in outer) == sorted(corpora)
    for train, test in outer:
        assert set(frame["corpus"].iloc[train]).isdisjoint(frame["corpus"].iloc[test])
        inner_rows = frame.iloc[train]
        inner = tune.inner_folds(inner_rows, mode, repeat=1)
        again = tune.inner_folds(inner_rows, mode, repeat=0)  # only the seeds vary
        assert [list(test) for _, test in inner] == [list(test) for _, test in again]
        assert len(inner) == 2
        for inner_train, inner_test in inner:
            held_out = set(inner_rows["corpus"].iloc[inner_test])
            assert len(held_out) == 1
            assert held_out.isdisjoint(inner_rows["corpus"].iloc[inner_train])


def mean_scores(values: dict) -> pd.DataFrame:
    """Score rows of candidate -> [[repeats of outer fold 0], [repeats of outer fold 1], ...]."""
    return pd.DataFrame([
        {"outer_fold": outer, "repeat": repeat, "candidate": name, "language": "mean", "uar": v}
        for name, folds in values.items() for outer, repeats in enumerate(folds)
        for repeat, v in enumerate(repeats)])


def test_tune_rule_needs_a_gain_above_the_spread_and_a_majority(tune):
    steady = [[0.50, 0.52, 0.48]] * 5

    def decide(challenger):
        (outcome,) = tune.decide(mean_scores({"MSFL": steady, "MSFL corpus norm": challenger}))
        return outcome

    # +5 points on every fold and repeat: no spread, a majority
    outcome = decide([[0.55, 0.57, 0.53]] * 5)
    assert outcome["adopted"] and outcome["winner"] == "MSFL corpus norm"
    assert outcome["challenger_wins"] == 5 and outcome["spread"] == pytest.approx(0, abs=1e-12)
    assert outcome["gain"] == pytest.approx(0.05)
    # the same mean gain with repeats that disagree by more: below the noise
    outcome = decide([[0.62, 0.50, 0.53]] * 5)
    assert outcome["gain"] == pytest.approx(0.05) and outcome["spread"] > 0.05
    assert not outcome["adopted"] and outcome["winner"] == "MSFL"
    # a gain above the spread from two large wins is not enough without a majority
    outcome = decide([[0.70, 0.72, 0.68]] * 2 + [[0.49, 0.51, 0.47]] * 3)
    assert outcome["gain"] > outcome["spread"] and outcome["challenger_wins"] == 2
    assert not outcome["adopted"]
    # a majority of wins with a lower mean is not enough either
    outcome = decide([[0.51, 0.53, 0.49]] * 3 + [[0.1, 0.1, 0.1]] * 2)
    assert outcome["challenger_wins"] == 3 and not outcome["adopted"]


def test_tune_spread_is_the_pooled_std_over_repeats_of_the_difference(tune):
    incumbent = [[0.5, 0.5, 0.5], [0.6, 0.6, 0.6]]
    challenger = [[0.5, 0.6, 0.7], [0.6, 0.6, 0.6]]  # differences 0, .1, .2 and 0, 0, 0
    (outcome,) = tune.decide(mean_scores({"SVM": incumbent, "SVM corpus norm": challenger}))
    assert outcome["spread"] == pytest.approx(np.sqrt((0.01 + 0) / 2))
    assert outcome["gain"] == pytest.approx(0.05)
    # one repeat measures no noise, and nothing is adopted without it
    (outcome,) = tune.decide(mean_scores({"SVM": [[0.5]] * 3, "SVM corpus norm": [[0.9]] * 3}))
    assert np.isnan(outcome["spread"]) and not outcome["adopted"]


def test_tune_compares_loss_weighting_on_the_winning_normalisation(tune):
    values = {"MSFL": [[0.50, 0.51]] * 3, "MSFL corpus norm": [[0.60, 0.61]] * 3,
              "MSFL equal": [[0.70, 0.71]] * 3, "MSFL corpus norm equal": [[0.55, 0.56]] * 3}
    outcomes = {o["question"]: o for o in tune.decide(mean_scores(values))}
    assert outcomes["MSFL input normalisation"]["adopted"]
    weighting = outcomes["MSFL loss weighting"]
    assert (weighting["incumbent"], weighting["challenger"]) == (
        "MSFL corpus norm", "MSFL corpus norm equal")
    assert weighting["winner"] == "MSFL corpus norm"


def test_tune_options(tune):
    with pytest.raises(SystemExit):
        tune.parse_args(["--quick", "--output", str(tune.bench.RESULTS_DIR)])
    with pytest.raises(SystemExit):
        tune.parse_args(["--quick", "--screen"])
    args = tune.parse_args(["--candidates", "SVM", "MSFL", "SVM"])
    assert args.candidates == ["SVM", "MSFL"]
    assert args.mode_name == "full" and args.n_jobs == 1
    full, screen = tune.MODES["full"], tune.MODES["screen"]
    assert (full.outer_folds, full.repeats, full.inner_splits) == (5, 3, 3)
    assert screen.outer_folds < full.outer_folds and screen.repeats >= 3
    assert tune.output_names(full) == ("tuning.md", "tuning_scores.csv")
    assert tune.parse_args(["--screen"]).mode is screen
    assert set(tune.RUN_ORDER) == set(tune.CANDIDATES)


def test_tune_resume_refuses_scores_of_another_protocol(tune, tmp_path):
    path = tmp_path / "scores.csv"
    pd.DataFrame({"outer_fold": [4], "repeat": [0], "candidate": ["SVM"]}).to_csv(path)
    with pytest.raises(SystemExit):
        tune.load_done(path, True, tune.MODES["screen"])  # outer fold 4 is not screened
    assert tune.load_done(path, True, tune.MODES["full"]) is not None
    tune.load_done(path, False, tune.MODES["full"])
    assert not path.exists()


# ---------------------------------------------------------------------------- training_speed
@pytest.mark.slow
def test_training_speed_quick_run_writes_the_table(training_speed, tmp_path):
    output = tmp_path / "speed.md"
    completed = run_script("training_speed", "--quick", "--dims", 88, "--patch-sizes", 16, "auto",
                           "--latency-repeats", 1, "--output", output)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = output.read_text()
    rows = [line for line in report.splitlines() if line.startswith("| 88 |")]
    assert len(rows) == 2 and rows[1].startswith("| 88 | auto (6) | 15 |")
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        plain, skorch, gradnorm = map(float, cells[3:6])
        assert 0 < plain and 0 < skorch and 0 < gradnorm
        assert cells[6].endswith("%")
    assert "## Prediction latency" in report and "whole pipeline" in report
    assert "--quick" in report and "Load average" in report


def test_training_speed_skips_combinations_over_the_limit(training_speed):
    args = training_speed.parse_args(["--quick", "--max-seconds", "0", "--epochs", "2"])
    row = training_speed.benchmark_combination(88, 16, args)
    assert "plain" not in row and row["estimate"] > 0
    table = "\n".join(training_speed.training_table([row], args))
    assert "skipped: estimated" in table


def test_training_speed_tries_fewer_samples_before_skipping(training_speed):
    args = training_speed.parse_args(["--n-samples", "512", "--repeats", "2"])
    assert training_speed.plans(args) == [(512, 2), (512, 1), (256, 1), (128, 1)]
    assert training_speed.plans(training_speed.parse_args(["--quick"])) == [(64, 1)]
    row = {"d": 6373, "patch": 1, "steps": 6373, "estimate": 900.0, "reduced": (128, 1),
           "wall": 200.0, "overhead": 0.1, "plain": 10.0, "skorch": 10.5, "+GradNorm": 11.0}
    (line,) = training_speed.training_table([row], args)[2:]
    assert "| 10.000 | 10.500 | 11.000 | +10.0% | yes |" in line
    assert "1 run instead of 2, 128 samples scaled to 512" in line and "15 min" in line


def test_training_speed_device_and_output_checks(training_speed):
    args = training_speed.parse_args([])
    assert (args.n_samples, args.epochs, args.device) == (256, 3, "cpu")
    assert args.output == training_speed.DEFAULT_OUTPUT
    with pytest.raises(SystemExit):
        training_speed.parse_args(["--quick", "--output", str(training_speed.DEFAULT_OUTPUT)])
    with pytest.raises(SystemExit):
        training_speed.parse_args(["--epochs", "1"])
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit):
            training_speed.parse_args(["--device", "cuda"])


@pytest.mark.parametrize("patch_size", [4, "auto"])
def test_plain_loop_trains_the_estimators_network(training_speed, patch_size):
    from sklearn_msfl.msfl import MultitaskSERClassifier

    X, y = training_speed.make_data(32, 40)
    network = training_speed.build_network(40, patch_size)
    clf = MultitaskSERClassifier(patch_size=patch_size, max_epochs=1, random_state=0).fit(X, y)
    assert network.n_steps == clf.net_.module_.n_steps
    assert [p.shape for p in network.parameters()] == [
        p.shape for p in clf.net_.module_.parameters()]
    assert len(training_speed.plain_epoch_seconds(X, y, patch_size, 2, "cpu")) == 2


# ---------------------------------------------------------------------------- threads
@pytest.fixture(scope="module")
def threads():
    return load_script("threads")


def test_threads_measures_and_reports_on_synthetic_data(threads, monkeypatch):
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.standard_normal((48, 12)))
    y = pd.DataFrame({"emotion": rng.choice(["anger", "neutral"], 48),
                      "language": np.repeat(["de", "en"], 24)})
    monkeypatch.setitem(threads.DATA, "X", X)
    monkeypatch.setitem(threads.DATA, "y", y)
    args = threads.parse_args(["--quick"])
    before = torch.get_num_threads()
    rows = threads.run_fits(args, "quiet")
    with threads.busy_cores(1, spin_up=0.1) as pids:
        assert len(pids) == 1
        rows += threads.run_fits(args, "busy")
    assert torch.get_num_threads() == before  # (b) restores the caller's setting
    assert [row["threads"] for row in rows[:3]] == [1, 1, min(2, before)]
    assert all(row["seconds"] > 0 and row["epochs"] >= 1 for row in rows)
    report = threads.render_report(args, "48 synthetic vectors", rows, before,
                                   [(0.0,) * 3] * 2, 1.0)
    assert report.count("| quiet | (a) library") == 1 and report.count("| busy | (b) inside") == 1
    assert "(a) within 1.3x of (b), busy" in report and "--quick" in report
    assert "(c) cross_validate" not in report  # not measured here


def test_threads_quick_refuses_the_committed_results(threads):
    with pytest.raises(SystemExit):
        threads.parse_args(["--quick", "--output", str(threads.DEFAULT_OUTPUT)])
    args = threads.parse_args([])
    assert (args.repeats, args.epochs, args.output) == (3, None, threads.DEFAULT_OUTPUT)


# ---------------------------------------------------------------------------- fit_time
@pytest.fixture(scope="module")
def fit_time():
    return load_script("fit_time")


def test_fit_time_interleaves_the_versions_and_reports_ratios_of_medians(fit_time):
    rounds = fit_time.schedule("abc1234", repeats=3, candidate_repeats=1)
    base = ["abc1234 default", "default", "default + ensembles"]
    assert [[name for name, _, _ in fits] for fits in rounds[1:]] == [base, base]
    assert [name for name, _, _ in rounds[0]] == base + list(fit_time.CANDIDATES)
    assert [version for _, version, _ in rounds[0][:3]] == ["old", "new", "new"]
    seconds = {"abc1234 default": [10.0, 30.0], "default": [8.0, 10.0],
               "default + ensembles": [12.0, 14.0], "wide=True": [18.0]}
    rows = [{"row": name, "round": i + 1, "seconds": value, "epochs": 60, "load_before": 1.0,
             "load_after": 2.0} for name, values in seconds.items() for i, value in enumerate(values)]
    args = fit_time.parse_args(["--old", "abc1234", "--repeats", "2"])
    info = {"date": "today", "n_rows": 2511, "n_features": 1582, "cpu": "cpu", "torch": "2",
            "commit": "HEAD", "load_start": 1.0, "command": "python benchmarks/fit_time.py"}
    report = fit_time.report(args, rows, info)
    assert "| default + ensembles | `{'n_members': 32, 'weight_averaging': 'swa'}` | 60 | 12.0, " \
           "14.0 | 13.0 | 0.65x |" in report
    # The goal is on the default fit; the ensembles are not on by default.
    assert ("Default / abc1234 default: 0.45x (goal <= 1.5x: met); default + ensembles / "
            "abc1234 default: 0.65x") in report
    # Against the default of the same round (8.0), not of all rounds.
    assert "| wide=True | `{'wide': True}` | 60 | 18.0 | 18.0 | 2.25x |" in report
    assert "| input_noise=0.1 | `{'input_noise': 0.1}` | – |" in report  # not measured yet


def test_fit_time_worker_fits_with_the_code_it_is_given(fit_time, tmp_path):
    rng = np.random.RandomState(0)
    data = tmp_path / "features.npz"
    np.savez(data, X=rng.normal(size=(80, 12)), emotion=rng.choice(["anger", "sad"], 80),
             language=np.repeat(["de", "en"], 40))
    worker = fit_time.Worker(REPO_ROOT, data)
    try:
        assert Path(worker.info["module"]).is_relative_to(REPO_ROOT)
        result = worker.fit({"max_epochs": 2, "hidden_size": 4})
    finally:
        worker.close()
    assert result["epochs"] == 2 and result["seconds"] > 0
    assert worker.process.returncode == 0


def test_fit_time_quick_refuses_the_committed_results(fit_time):
    with pytest.raises(SystemExit):
        fit_time.parse_args(["--quick", "--output", str(fit_time.DEFAULT_OUTPUT)])
    args = fit_time.parse_args(["--quick"])
    assert (args.repeats, args.candidate_repeats, args.output) == (1, 1, fit_time.QUICK_OUTPUT)


@pytest.mark.corpora
@pytest.mark.slow
def test_fit_time_quick_run_times_both_versions(fit_time, corpora_dir, tmp_path):
    known = subprocess.run(["git", "-C", str(REPO_ROOT), "cat-file", "-e",
                            f"{fit_time.OLD_COMMIT}^{{commit}}"], capture_output=True)
    if known.returncode != 0:
        pytest.skip(f"commit {fit_time.OLD_COMMIT} is not in this clone")
    output = tmp_path / "fit_time.md"
    completed = run_script("fit_time", "--quick", "--corpora", corpora_dir, "--output", output,
                           timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = output.read_text()
    assert f"Default / {fit_time.OLD_COMMIT} default:" in report
    assert report.count("| 2 | ") == 3 + len(fit_time.CANDIDATES)  # every row fitted, 2 epochs


# ---------------------------------------------------------------------------- explanation_dev
@pytest.fixture(scope="module")
def explanation_dev():
    return load_script("explanation_dev")


def test_explanation_dev_never_uses_the_scored_seeds(explanation_dev):
    assert explanation_dev.parse_args([]).seeds == [5, 6, 7, 8, 9]
    with pytest.raises(SystemExit):
        explanation_dev.parse_args(["--seeds", "4", "5"])
    with pytest.raises(SystemExit):  # the tests' seeds 0-4, by the test module's own list
        explanation_dev.parse_args(["--seeds", "0"])


def test_explanation_dev_candidates_reach_the_network(explanation_dev):
    from sklearn_msfl.msfl import MSFLNetwork

    def scale():
        net = MSFLNetwork(n_features=40, n_classes=[2], patch_size=8, embedding="per_feature",
                          attention_values="inputs")
        return net.feature_attention.logit_scale

    default = scale()
    assert default == 8.0  # the step's feature count
    with explanation_dev.feature_attention_variant(20.0):
        assert scale() == 20.0
    with explanation_dev.feature_attention_variant(lambda k: 3.0 * k):
        assert scale() == 24.0
    with explanation_dev.feature_attention_variant(None):
        assert scale() == default
    assert scale() == default
    with explanation_dev.feature_attention_variant({"value_term": False}):
        net = MSFLNetwork(n_features=40, n_classes=[2], patch_size=8, embedding="per_feature")
        assert not net.feature_attention.value_term
        assert net.feature_attention.logit_scale == 8.0


def test_explanation_dev_report_counts_cases_and_breaks_ties_on_more_seeds(explanation_dev):
    args = explanation_dev.parse_args(["--seeds", "5", "6"])
    rows = [{"candidate": name, "feature_set": "IS10", "seed": seed, "shared cue": "met",
             "own cues": "met", "concentration": 1.0, "seconds": 1.0}
            for name in ("1 (unscaled)", "2 ln k") for seed in (5, 6)]
    report = explanation_dev.report(pd.DataFrame(rows), args)
    assert "| 1 (unscaled) |      4 |     4 |" in report
    assert "a tie between 1 (unscaled) and 2 ln k (4 each), broken on seeds" in report
    tiebreak = explanation_dev.parse_args(["--seeds", "10", "--report", "tiebreak.md"])
    assert "becomes the default: **1 (unscaled)**" in explanation_dev.report(
        pd.DataFrame(rows), tiebreak)  # still tied: the incumbent stays
    rows[0]["shared cue"] = "no: temporal 2.00 first, pitch 1.50"
    report = explanation_dev.report(pd.DataFrame(rows), args)
    assert "becomes the default: **2 ln k**" in report


def test_explanation_dev_round2_needs_a_win_on_both_seed_halves(explanation_dev):
    args = explanation_dev.parse_args(["--round", "2", "--seeds", "5", "15"])
    assert args.candidates == ["2 ln k", "k", "20 ln k"]
    assert explanation_dev.parse_args(["--round", "2"]).seeds == list(range(5, 25))

    def table(met_by_candidate):
        return pd.DataFrame([
            {"candidate": name, "feature_set": "IS10", "seed": seed,
             "shared cue": "met" if met[i] else "no: pitch second", "own cues": "met",
             "concentration": 1.0, "seconds": 1.0}
            for name, met in met_by_candidate.items() for i, seed in enumerate((5, 15))])

    # k wins on seeds 15-24 only, 20 ln k on both halves: 20 ln k replaces the incumbent
    report = explanation_dev.report(table(
        {"2 ln k": (False, False), "k": (False, True), "20 ln k": (True, True)}), args)
    assert "**20 ln k**" in report
    # a win on one half only keeps the incumbent
    report = explanation_dev.report(table(
        {"2 ln k": (False, False), "k": (True, False), "20 ln k": (False, False)}), args)
    assert "**2 ln k**" in report


def test_explanation_dev_round3_is_judged_by_round2s_rule(explanation_dev):
    args = explanation_dev.parse_args(["--round", "3", "--seeds", "5", "15"])
    assert args.candidates == ["k", "k, no value term"]
    assert explanation_dev.parse_args(["--round", "3"]).seeds == list(range(5, 25))

    def table(met_by_candidate):
        return pd.DataFrame([
            {"candidate": name, "feature_set": "IS10", "seed": seed, "shared cue": "met",
             "own cues": "met" if met[i] else "no: qab's tilt 1.00, qaa's model 1.10",
             "concentration": 1.0, "seconds": 1.0}
            for name, met in met_by_candidate.items() for i, seed in enumerate((5, 15))])

    assert "**k, no value term**" in explanation_dev.report(
        table({"k": (False, False), "k, no value term": (True, True)}), args)
    assert "**k**" in explanation_dev.report(
        table({"k": (False, True), "k, no value term": (True, True)}), args)


def test_explanation_dev_summary_counts_each_case_once_and_gives_the_odds(tmp_path):
    summary = load_script("explanation_dev_summary")
    explanation_dev = load_script("explanation_dev")

    def report(rows, name):
        args = explanation_dev.parse_args(["--seeds", "5", "6"])
        (tmp_path / name).write_text(explanation_dev.report(pd.DataFrame(rows), args))

    def row(name, seed, shared, feature_set="IS10"):
        return {"candidate": name, "feature_set": feature_set, "seed": seed,
                "shared cue": "met" if shared else "no: pitch second", "own cues": "met",
                "concentration": 1.0, "seconds": 1.0}

    report([row("a", 5, False), row("a", 6, True), row("a", 5, True, "eGeMAPSv02")],
           summary.REPORTS[0])
    report([row("a", 5, True)], summary.REPORTS[2])  # a later round replaces seed 5's case
    cases = summary.dev_cases(tmp_path)
    assert len(cases) == 3 and cases["n_met"].tolist() == [2, 2, 2]
    odds = summary.odds(cases, ("eGeMAPSv02", "IS10"), n_seeds=5)
    assert odds.loc["a", "P(all 20)"] == 1.0
    report([row("a", 5, False), row("a", 6, True)], summary.REPORTS[2])
    odds = summary.odds(summary.dev_cases(tmp_path), ("eGeMAPSv02", "IS10"), n_seeds=5)
    assert odds.loc["a", "rate IS10"] == 0.75
    assert odds.loc["a", "expected of 20"] == 10 * (1.0 + 0.75)
    assert odds.loc["a", "P(all 20)"] == pytest.approx(0.75 ** 10)
    kinds = summary.failures(summary.dev_cases(tmp_path))
    assert kinds.loc["shared cue: another family first", "a"] == 1  # "pitch second"
    assert summary.failure_kind("own cues", "no: qab's tilt 1.12, qaa's model 1.15") == (
        "own cue: tilt")
    assert summary.failure_kind("shared cue", "met") is None


# ------------------------------------------------------------------ explanation_agreement_dev
@pytest.fixture(scope="module")
def agreement_dev():
    return load_script("explanation_agreement_dev")


def test_explanation_agreement_dev_never_uses_the_scored_seeds(agreement_dev):
    assert agreement_dev.parse_args([]).seeds == list(range(5, 25))
    with pytest.raises(SystemExit):
        agreement_dev.parse_args(["--seeds", "0", "5"])


def test_explanation_agreement_dev_counts_the_cases_at_the_tests_threshold(agreement_dev):
    threshold = agreement_dev.ground_truth_module().MIN_FAMILY_SPEARMAN
    table = pd.DataFrame([
        {"setting": setting, "feature_set": feature_set, "seed": 5, "spearman": rho,
         "met": rho >= threshold, "seconds": 1.0}
        for setting, values in {"defaults": (0.2, 0.9), "wide=False": (0.7, 0.8)}.items()
        for feature_set, rho in zip(("eGeMAPSv02", "IS10"), values)])
    counts = agreement_dev.summary(table)
    assert counts.loc[("defaults", "all"), "met"] == 1
    assert counts.loc[("wide=False", "all"), "met"] == 2
    assert counts.loc[("defaults", "all"), "cases"] == 2
    assert counts.loc[("wide=False", "all"), "median"] == pytest.approx(0.75)


# ---------------------------------------------------------------------------- svm_speed
@pytest.fixture(scope="module")
def svm_speed():
    return load_script("svm_speed")


def test_svm_speed_compares_the_grid_before_issue_25_with_the_baseline_of_today(svm_speed):
    from sklearn_msfl.baselines import SVM_PARAM_GRID

    speakers = pd.DataFrame({"corpus": ["a", "b"], "speaker": ["1", "2"]})
    old = svm_speed.build("old", "global", speakers)
    assert old.param_grid == {"svc__C": [0.1, 1.0, 10.0, 100.0],
                              "svc__gamma": ["scale", 1e-4, 1e-3, 1e-2]}
    assert [name for name, _ in old.estimator.steps] == ["standardscaler", "svc"]
    new = svm_speed.build("new", "corpus", speakers)
    assert new.param_grid == SVM_PARAM_GRID
    assert "groupstandardscaler" in dict(new.estimator.steps)
    with pytest.raises(SystemExit):
        svm_speed.parse_args(["--quick"])  # would overwrite the committed results


@pytest.mark.corpora
@pytest.mark.slow
def test_svm_speed_quick_run_writes_the_report(corpora_dir, tmp_path):
    completed = run_script("svm_speed", "--quick", "--corpora", corpora_dir, "--output",
                           tmp_path, "--normalisations", "global", timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = (tmp_path / "svm_speed.md").read_text()
    for text in ("new / old", "Pooled UAR", "Paired per-fold differences", "## Why the new grid",
                 "Inner-fold results of the old search", "--quick"):
        assert text in report


# ---------------------------------------------------------------------------- readme_example
@pytest.fixture(scope="module")
def readme_example():
    return load_script("readme_example")


def test_readme_example_runs_the_readme_block_and_reads_the_bars(readme_example):
    code = readme_example.readme_example()
    assert "evaluate(models, frame" in code and 'cache="feature-cache"' in code
    assert "```" not in code
    stderr = ("a:   0%|  | 0/2 [00:00<?]\ra:  50%|# | 1/2 [00:01<00:01]\nwarning\n"
              "b:   0%|  | 0/1 [00:00<?]/x.py:3: UserWarning: stop\r"
              "a: 100%|##| 2/2 [00:02<00:00]\nb: 100%|##| 1/1 [00:01<00:00]\r\n")
    assert readme_example.final_bar_states(stderr) == [
        "a: 100%|##| 2/2 [00:02<00:00]", "warning", "b: 100%|##| 1/1 [00:01<00:00]",
        "/x.py:3: UserWarning: stop"]


@pytest.mark.slow
def test_readme_example_counts_extractions_in_worker_processes(readme_example, tmp_path):
    from sklearn_msfl.datasets import make_emotional_speech

    files, _ = make_emotional_speech(4, n_languages=1, n_speakers_per_language=2,
                                     duration=(0.5, 0.6), random_state=0,
                                     output_dir=tmp_path / "wav")
    code = ("from sklearn_msfl import OpenSmileTransformer\n"
            f"OpenSmileTransformer(feature_set='eGeMAPSv02', n_jobs=2, cache='feature-cache')"
            f".fit_transform({files!r})\n")
    outcome = readme_example.run_example(code, tmp_path)
    assert outcome["returncode"] == 0, outcome["stderr"][-2000:]
    assert sorted(outcome["extracted"]) == sorted(files)
    assert outcome["cache_files"] == 4


@pytest.fixture(scope="module")
def faithfulness():
    return load_script("explanation_faithfulness")


def test_faithfulness_controls_match_the_top_k_step_by_step(faithfulness):
    names = [f"f{i}" for i in range(40)]
    ranking = pd.DataFrame({"feature": ["f3", "f5", "f31", "f8", "f22", "f0"]})
    sets = faithfulness.removal_sets(ranking, names, patch_size=10, k=5,
                                     rng=np.random.default_rng(0))
    assert sorted(sets["attention"]) == [3, 5, 8, 22, 31]
    # Same steps: as many features from each step of 10 columns as the top 5 has there.
    steps = lambda positions: sorted(np.asarray(positions) // 10)  # noqa: E731
    assert steps(sets["same steps"]) == steps(sets["attention"]) == [0, 0, 0, 2, 3]
    assert len(set(sets["same steps"])) == 5
    assert len(set(sets["random"])) == 5 and max(sets["random"]) < 40


def test_faithfulness_margin_is_judged_against_the_seed_spread(faithfulness):
    rows = [{"seed": seed, "condition": condition, "k": 10, "uar": uar}
            for seed, (top, same, rand) in enumerate([(50, 55, 56), (51, 55, 50), (52, 56, 49)])
            for condition, uar in zip(faithfulness.CONDITIONS, (top, same, rand))]
    pooled = pd.DataFrame(rows)
    folds = pooled.assign(fold=0)
    table = faithfulness.faithfulness(pooled, folds, [10]).set_index("control")
    # Same steps: margins 5, 4, 4 (mean 4.3 > sd 0.6); random: 6, -1, -3 (mean 0.7 < sd 4.7).
    assert table.loc["same steps", "faithful"] == "yes"
    assert table.loc["random", "faithful"] == "no"
