"""Benchmark: MSFL against the strongest baselines, STL, MTL and an ablation on five corpora.

Loads the shared corpora (EmoDB de, RAVDESS en-US, URDU ur, SAVEE en-GB, CASIA zh) with the
four emotions they share, extracts IS10 openSMILE functionals once (cached on disk), and
evaluates every model of :data:`MODELS` on two corpus sets of :data:`CORPUS_SETS`, each on its
own folds and trained on that set only: all five corpora, and the MSFL paper's three (EmoDB,
CASIA, SAVEE). Within a set all models share the speaker-independent folds
(:class:`~sklearn_msfl.model_selection.CorpusSpeakerKFold`: unseen speakers of every corpus in
each test fold; SAVEE and CASIA, 4 speakers each, leave one speaker out within them):

* baselines trained on the pooled corpora: ``SVM`` and ``SVM corpus-norm``
  (:func:`~sklearn_msfl.baselines.make_svm_baseline`, ``C`` and ``gamma`` tuned on inner
  speaker folds, on globally and on per-corpus standardised features), ``LogReg``
  (:func:`~sklearn_msfl.baselines.make_logreg_baseline`), ``MLP``
  (:func:`~sklearn_msfl.baselines.make_mlp_baseline`), both tuned the same way, and ``TabM``
  (:func:`~sklearn_msfl.baselines.make_tabm_baseline`, published defaults, not tuned);
* ``SVM per corpus``: the SVM trained and tested within each corpus (reported apart: not
  pooled training);
* ``STL``: the MSFL network on the emotion only;
* ``MTL equal``: emotion + language with equal task weights;
* ``MSFL``: the recommended pipeline, :func:`~sklearn_msfl.baselines.make_msfl_pipeline`
  (the tuned input normalisation, the estimator's defaults: emotion + language, GradNorm);
* ``MSFL mean pooling``: ablation without attention;
* ``... LOCO``: leave one corpus out, i.e. trained on the other corpora and tested on the
  unseen one (SVM, LogReg, TabM, MSFL); ``... LOCO norm``: the same with every corpus
  standardised on its own statistics (the unseen one on its own utterances, which needs no
  labels).

The headline compares every model with the *best baseline* of its setting: the baseline
(:attr:`ModelConfig.baseline`) with the highest pooled UAR, with a speaker-level bootstrap
interval of the difference
(:meth:`~sklearn_msfl.evaluation.EvaluationResult.bootstrap_difference`) and the pooled UAR
of every seed.

The language label of every corpus is its "language" column, the multitask models' auxiliary
task and the grouping of the per-language tables: RAVDESS ``en-US`` and SAVEE ``en-GB`` are
both English, told apart by accent, so there is one label per corpus and the per-language
tables are per-corpus tables. "Pooled UAR" is the mean over corpora of each corpus's UAR on its
predictions pooled over the folds (:meth:`~sklearn_msfl.evaluation.EvaluationResult.language_mean`).

It writes ``multilingual_ser.md`` (per-corpus UAR and WA, pooled UAR with the differences to
the best baseline and their speaker-bootstrap intervals, paired per-fold comparisons by the
corrected resampled t-test and the Wilcoxon test, the wall time of one fit of every model,
stage timings, machine, command and the tuning notes of
``benchmarks/results/tuning_notes.md``), per-fold scores as CSV and two plots into ``--output``
(default ``benchmarks/results``).

Every finished run (model, seed, corpus set, setting) is saved to ``--runs`` (default
``benchmarks/.cache/runs``) as soon as it finishes; after an interruption, ``--resume`` reuses
the saved runs whose model parameters, data, folds and package source are unchanged, trains
the rest, and renders the report from all of them.

Usage::

    .venv/bin/python benchmarks/multilingual_ser.py                 # the full run, seeds 0 1 2
    .venv/bin/python benchmarks/multilingual_ser.py --resume        # continue an interrupted one
    .venv/bin/python benchmarks/multilingual_ser.py --quick         # smoke run, < 2 minutes
    .venv/bin/python benchmarks/multilingual_ser.py --models SVM MSFL --corpus-sets "paper's three"

``--quick`` takes a few speakers per corpus, 2 folds, 5 epochs, small networks and one seed,
and writes to ``benchmarks/.cache/quick`` unless ``--output`` says otherwise (never to the
committed results); it exits non-zero unless every model trained and scored on every fold. The
corpora folder is ``--corpora``, else :func:`~sklearn_msfl.corpora.default_corpora_dir`
(``$MSFL_CORPORA``, else ``../shared/corpora`` relative to the repository).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import pickle
import platform
import re
import shlex
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import sklearn
import torch
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402  (shared by the benchmark scripts)

from sklearn_msfl.baselines import (  # noqa: F401  (InnerSpeakerKFold: the benchmark's name)
    LOGREG_PARAM_GRID,
    MLP_PARAM_GRID,
    SVM_PARAM_GRID,
    InnerSpeakerKFold,
    corpus_normalisation,
    make_logreg_baseline,
    make_mlp_baseline,
    make_msfl_pipeline,
    make_svm_baseline,
    make_tabm_baseline,
)
from sklearn_msfl.corpora import (DEFAULT_EMOTIONS, default_corpora_dir, load_corpora,
                                  subset_speakers)
from sklearn_msfl.evaluation import EvaluationResult, PairedComparison, evaluate
from sklearn_msfl.features import OpenSmileTransformer
from sklearn_msfl.metrics import ALL, score_predictions
from sklearn_msfl.model_selection import CorpusSpeakerKFold, LeaveOneCorpusOut
from sklearn_msfl.msfl import MultitaskSERClassifier

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
DEFAULT_CACHE = REPO_ROOT / "benchmarks" / ".cache"
QUICK_OUTPUT = DEFAULT_CACHE / "quick"
DEFAULT_RUNS = DEFAULT_CACHE / "runs"
TUNING_NOTES = RESULTS_DIR / "tuning_notes.md"
REPORT_NAME = "multilingual_ser.md"
SCORES_NAME = "multilingual_ser_folds.csv"
UAR_PLOT_NAME = "multilingual_ser_uar.png"
WEIGHTS_PLOT_NAME = "multilingual_ser_task_weights.png"

#: Corpus -> the label of its "language" column: the auxiliary task of the multitask models and
#: the grouping of every per-language table. RAVDESS and SAVEE are both English, so the
#: language is told apart by accent (North American / British): one label per corpus, and the
#: per-language tables are per-corpus tables.
LANGUAGES = {"emodb": "de", "ravdess": "en-US", "urdu": "ur", "savee": "en-GB", "casia": "zh"}
CORPORA = tuple(LANGUAGES)
#: Corpus sets, each evaluated on its own (own folds, models trained on that set only):
#: all five corpora, and the three of the MSFL paper.
CORPUS_SETS = {"five corpora": CORPORA, "paper's three": ("emodb", "casia", "savee")}
SPEAKER_FOLDS, LOCO = "speaker folds", "leave one corpus out"
SETTINGS = (SPEAKER_FOLDS, LOCO)
INNER_SPLITS = 3
DEFAULT_SEEDS = [0, 1, 2]
#: Speaker-bootstrap resamples of every headline difference (fixed seed: the report is
#: reproducible from the runs).
BOOTSTRAP_RESAMPLES = 1000

#: Search spaces of the tuned baselines (their factories' defaults).
GRIDS = {"svm": SVM_PARAM_GRID, "logreg": LOGREG_PARAM_GRID, "mlp": MLP_PARAM_GRID}

# --quick: the largest speakers of each corpus, a few files per speaker and emotion. URDU
# speakers mostly speak a single emotion, so it needs more of them for every emotion to occur.
QUICK_SPEAKERS = {"emodb": 4, "ravdess": 4, "urdu": 8, "savee": 4, "casia": 4}
QUICK_FILES_PER_SPEAKER_EMOTION = 3
QUICK_SPLITS = 2
QUICK_INNER_SPLITS = 2
QUICK_MSFL = {"max_epochs": 5, "batch_size": 16, "patch_size": 64, "hidden_size": 16,
              "embedding_dim": 8, "shared_size": 16}
QUICK_SVM_GRID = {"svc__C": [1.0, 10.0], "svc__gamma": ["scale"]}
QUICK_GRIDS = {"svm": QUICK_SVM_GRID, "logreg": {"logisticregression__C": [0.01, 1.0]},
               "mlp": {"mlpclassifier__hidden_layer_sizes": [(16,)],
                       "mlpclassifier__alpha": [1.0], "mlpclassifier__max_iter": [50]}}
QUICK_TABM = {"k": 4, "d_block": 16, "max_epochs": 5}


# --------------------------------------------------------------------------------------------
# Model configurations: edit here. A factory gets the run settings and returns an unfitted
# estimator; MSFL variants are the recommended pipeline (make_msfl_pipeline: the tuned input
# normalisation, the estimator's defaults), then the run-wide parameters (--quick, --epochs,
# --threads), then the variant's own overrides.
# --------------------------------------------------------------------------------------------
@dataclass
class RunSettings:
    """What a model factory needs besides its own overrides."""

    seed: int
    msfl_params: dict
    grids: dict  # "svm", "logreg", "mlp" -> the param grid of that baseline's search
    speakers: pd.DataFrame  # corpus and speaker of every row of the feature frame
    inner_splits: int = INNER_SPLITS
    tabm_params: dict = field(default_factory=dict)

    def msfl_params_for(self, overrides: dict) -> dict:
        return {**self.msfl_params, **overrides, "random_state": self.seed}

    def steps(self, normalisation: str) -> list:
        """Steps before a baseline's own scaler: per-corpus standardisation, or none."""
        return corpus_normalisation(self.speakers) if normalisation == "corpus" else []


Factory = Callable[[RunSettings], object]


def svm(normalisation: str = "global") -> Factory:
    """Factory of the tuned SVM (make_svm_baseline), optionally on corpus-normalised features."""

    def build(settings: RunSettings):
        return make_svm_baseline(settings.speakers, param_grid=settings.grids["svm"],
                                 n_splits=settings.inner_splits,
                                 preprocessing=settings.steps(normalisation))

    build.normalisation = normalisation
    return build


def logreg() -> Factory:
    """Factory of the tuned logistic regression (make_logreg_baseline)."""

    def build(settings: RunSettings):
        return make_logreg_baseline(settings.speakers, param_grid=settings.grids["logreg"],
                                    n_splits=settings.inner_splits)

    build.normalisation = "global"
    return build


def mlp() -> Factory:
    """Factory of the tuned MLP (make_mlp_baseline), seeded by the run."""

    def build(settings: RunSettings):
        return make_mlp_baseline(settings.speakers, param_grid=settings.grids["mlp"],
                                 n_splits=settings.inner_splits, random_state=settings.seed)

    build.normalisation = "global"
    return build


def tabm() -> Factory:
    """Factory of TabM at its published defaults (make_tabm_baseline), seeded by the run."""

    def build(settings: RunSettings):
        return make_tabm_baseline(**settings.tabm_params, random_state=settings.seed)

    build.normalisation = "global"
    return build


def msfl(normalisation: str | None = None, **overrides) -> Factory:
    """Factory of make_msfl_pipeline with ``overrides`` of the run's parameters.

    ``normalisation`` None: the recommended pipeline's (tuned) normalisation.
    """

    def build(settings: RunSettings):
        return make_msfl_pipeline(settings.speakers, normalisation=normalisation,
                                  **settings.msfl_params_for(overrides))

    build.overrides = overrides
    build.normalisation = normalisation
    return build


@dataclass(frozen=True)
class ModelConfig:
    """How a model is built and trained.

    ``tasks``: the label columns it is fitted on (emotion only: single task); ``scope``:
    ``"pooled"`` (all corpora of the set, speaker folds), ``"monolingual"`` (trained and tested
    within each corpus on the same folds) or ``"loco"`` (leave one corpus out); ``seeded``:
    whether it is rerun for every ``--seeds`` value; ``baseline``: a candidate for the best
    baseline of its setting, which the headline compares every model with.
    """

    factory: Factory
    tasks: tuple[str, ...] = ("emotion", "language")
    scope: str = "pooled"
    seeded: bool = True
    description: str = ""
    baseline: bool = False


EMOTION_ONLY = ("emotion",)
MODELS: dict[str, ModelConfig] = {
    "SVM": ModelConfig(svm("global"), EMOTION_ONLY, seeded=False, baseline=True,
                       description="make_svm_baseline (C, gamma on inner speaker folds), "
                                   "pooled corpora, global standardisation"),
    "SVM corpus-norm": ModelConfig(svm("corpus"), EMOTION_ONLY, seeded=False, baseline=True,
                                   description="the same SVM on features standardised per "
                                               "corpus"),
    "LogReg": ModelConfig(logreg(), EMOTION_ONLY, seeded=False, baseline=True,
                          description="make_logreg_baseline (C on inner speaker folds)"),
    "MLP": ModelConfig(mlp(), EMOTION_ONLY, baseline=True,
                       description="make_mlp_baseline: scikit-learn's MLPClassifier, width "
                                   "and alpha on inner speaker folds"),
    "TabM": ModelConfig(tabm(), EMOTION_ONLY, baseline=True,
                        description="make_tabm_baseline: TabM at its published defaults "
                                    "(not tuned)"),
    "SVM per corpus": ModelConfig(svm("global"), EMOTION_ONLY, scope="monolingual",
                                  seeded=False,
                                  description="the same SVM trained and tested within each "
                                              "corpus (not pooled training: not a candidate "
                                              "for the best baseline)"),
    "STL": ModelConfig(msfl(loss_weighting={"language": 0.0}),
                       description="MSFL network trained on the emotion alone (language loss "
                                   "weight 0: the language labels only balance the corpora, "
                                   "as the default balance='auto' does for MSFL)"),
    "MTL equal": ModelConfig(msfl(loss_weighting="equal"),
                             description="emotion + language, equal task weights"),
    "MSFL": ModelConfig(msfl(), description="make_msfl_pipeline(): the recommended pipeline "
                                            "(emotion + language, GradNorm, the defaults)"),
    "MSFL narrow": ModelConfig(msfl(wide=False),
                               description="MSFL without the wide path (wide=False): every "
                                           "input passes the attention, the setting for "
                                           "explanations"),
    "MSFL mean pooling": ModelConfig(msfl(pooling="mean"),
                                     description="ablation: mean pooling instead of attention"),
    "SVM LOCO": ModelConfig(svm("global"), EMOTION_ONLY, scope="loco", seeded=False,
                            baseline=True,
                            description="SVM trained on the other corpora, tested on the "
                                        "unseen one"),
    "LogReg LOCO": ModelConfig(logreg(), EMOTION_ONLY, scope="loco", seeded=False,
                               baseline=True, description="logistic regression, LOCO"),
    "TabM LOCO": ModelConfig(tabm(), EMOTION_ONLY, scope="loco", baseline=True,
                             description="TabM, LOCO"),
    "MSFL LOCO": ModelConfig(msfl("global"), scope="loco",
                             description="MSFL trained on the other corpora, tested on the "
                                         "unseen one"),
    "SVM LOCO norm": ModelConfig(
        svm("corpus"), EMOTION_ONLY, scope="loco", seeded=False, baseline=True,
        description="SVM LOCO on features standardised per corpus (the unseen one on its own)"),
    "MSFL LOCO norm": ModelConfig(
        msfl("corpus"), scope="loco",
        description="MSFL LOCO on features standardised per corpus (the unseen one on its own)"),
}


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------
@dataclass
class Data:
    frame: pd.DataFrame  # one row per utterance (corpus loader columns)
    X: pd.DataFrame  # IS10 features, index = frame.index
    labels: pd.DataFrame  # columns emotion, language
    load_seconds: float
    extraction_seconds: float


def find_corpora(option: Path | None) -> Path:
    """``--corpora``, else the library's rule: ``$MSFL_CORPORA``, else ``../shared/corpora``."""
    if option is not None:
        if Path(option).is_dir():
            return Path(option)
        sys.exit(f"corpora not found: {option} is not a folder")
    found = default_corpora_dir(fallback=REPO_ROOT.parent / "shared" / "corpora")
    if found is None:
        sys.exit("corpora not found: pass --corpora or set MSFL_CORPORA")
    return found


def load_frame(root: Path, quick: bool) -> pd.DataFrame:
    """The utterances of the shared emotions, or a small fixed speaker subset with ``quick``."""
    frame = load_corpora({name: root / name for name in CORPORA}, emotions=DEFAULT_EMOTIONS)
    if not quick:
        return frame
    parts = [
        subset_speakers(frame[frame["corpus"] == name], n, largest=True)
        for name, n in QUICK_SPEAKERS.items()
    ]
    subset = pd.concat(parts, ignore_index=True).groupby(["speaker", "emotion_std"], sort=False)
    return subset.head(QUICK_FILES_PER_SPEAKER_EMOTION).reset_index(drop=True)


def load_data(args) -> Data:
    start = time.perf_counter()
    frame = load_frame(find_corpora(args.corpora), args.quick)
    load_seconds = time.perf_counter() - start
    start = time.perf_counter()
    smile = OpenSmileTransformer(feature_set="IS10", cache=args.cache,
                                 n_jobs=args.extraction_jobs, verbose=not args.quick)
    features = smile.fit_transform(frame)
    extraction_seconds = time.perf_counter() - start
    X = pd.DataFrame(features, columns=smile.get_feature_names_out(), index=frame.index)
    labels = pd.DataFrame({"emotion": frame["emotion_std"],
                           "language": frame["corpus"].map(LANGUAGES)}, index=frame.index)
    return Data(frame, X, labels, load_seconds, extraction_seconds)


def subset(data: Data, corpora) -> Data:
    """The rows of ``corpora`` (their frame index kept, so speakers are found by index)."""
    rows = data.frame["corpus"].isin(corpora).to_numpy()
    return Data(data.frame[rows], data.X[rows], data.labels[rows], data.load_seconds,
                data.extraction_seconds)


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------
@dataclass
class ModelRun:
    """Predictions and timings of one model and seed, on the rows of one corpus set."""

    name: str
    seed: int | None
    predictions: pd.DataFrame
    times: pd.DataFrame  # fold, fit_time, predict_time (summed over the monolingual parts)
    task_weights: list = field(default_factory=list)  # per fold, if kept: GradNorm weights
    setting: str = SPEAKER_FOLDS
    corpus_set: str = ""
    reused: bool = False  # loaded from the run cache (--resume), not trained now


def restrict_folds(
    folds, rows: np.ndarray
) -> tuple[list[int], list[tuple[np.ndarray, np.ndarray]]]:
    """The folds restricted to ``rows``, as positions within ``rows``, and their numbers.

    A fold that tests none of ``rows`` is left out: a corpus with fewer speakers than folds
    (SAVEE: 4 speakers, 5 folds) has nothing to predict there.
    """
    restricted = [(np.flatnonzero(np.isin(rows, train)), np.flatnonzero(np.isin(rows, test)))
                  for train, test in folds]
    kept = [number for number, (_, test) in enumerate(restricted) if len(test)]
    return kept, [restricted[number] for number in kept]


def task_weights(model) -> pd.DataFrame:
    """A fitted MSFL pipeline's GradNorm task weights, one row per epoch."""
    network = model[-1] if hasattr(model, "steps") else model
    return pd.DataFrame(list(network.history_[:, "task_weights"]))


def run_model(name, config, data, folds, settings, *, keep_weights, n_jobs, verbose) -> ModelRun:
    languages = data.labels["language"].to_numpy()
    if config.scope == "monolingual":
        parts = [np.flatnonzero(languages == language) for language in np.unique(languages)]
    else:
        parts = [np.arange(len(data.X))]
    y = data.labels[list(config.tasks)]
    if len(config.tasks) == 1:
        y = y.iloc[:, 0]
    predictions, times, weights = [], [], []
    for rows in parts:
        # Pooled: rows are all rows, and every fold keeps its number and positions.
        numbers, part_folds = restrict_folds(folds, rows)
        numbers = np.asarray(numbers)
        result = evaluate(
            {name: config.factory(settings)},
            data.X.iloc[rows],
            y.iloc[rows],
            languages=languages[rows],
            cv=part_folds,
            n_jobs=n_jobs,
            verbose=verbose,
            return_estimators=keep_weights,
        )
        part = result.predictions.copy()
        part["sample"] = rows[part["sample"].to_numpy()]
        part["fold"] = numbers[part["fold"].to_numpy()]
        predictions.append(part)
        overall = result.scores[result.scores["language"] == ALL].copy()
        overall["fold"] = numbers[overall["fold"].to_numpy()]
        times.append(overall[["fold", "fit_time", "predict_time"]])
        if keep_weights:
            weights = [task_weights(model) for model in result.estimators[name]]
    times = pd.concat(times).groupby("fold", as_index=False).sum()
    return ModelRun(name, settings.seed if config.seeded else None,
                    pd.concat(predictions, ignore_index=True), times, weights)


def score_run(run: ModelRun) -> pd.DataFrame:
    """UAR, WA and test size per fold, per corpus and over all corpora ("all"), with timings."""
    scores = score_predictions(run.predictions, by=["fold"])
    scores.insert(0, "estimator", run.name)
    scores.insert(1, "seed", run.seed)
    return scores.merge(run.times, on="fold", how="left")


def combine(runs: list[ModelRun], raw: pd.DataFrame, labels, folds) -> EvaluationResult:
    """One EvaluationResult over models, with per-fold scores averaged over seeds."""
    names = list(dict.fromkeys(run.name for run in runs))
    scores = raw[raw["estimator"].isin(names)].groupby(
        ["estimator", "fold", "language"], sort=False, as_index=False
    )[["uar", "wa", "n_test", "fit_time", "predict_time"]].mean()
    scores["estimator"] = pd.Categorical(scores["estimator"], names)
    scores = scores.sort_values(["estimator", "fold"], kind="stable")
    scores["estimator"] = scores["estimator"].astype(str)
    predictions = pd.concat([run.predictions for run in runs], ignore_index=True)
    return EvaluationResult(scores=scores.reset_index(drop=True), predictions=predictions,
                            labels=np.unique(labels), folds=folds)


def make_folds(data: Data, n_splits: int) -> dict[str, list]:
    groups = data.frame[["corpus", "speaker"]]
    return {
        SPEAKER_FOLDS: list(CorpusSpeakerKFold(n_splits).split(data.X, groups=groups)),
        LOCO: list(LeaveOneCorpusOut().split(data.X, groups=groups)),
    }


def source_hash() -> str:
    """Hash of the imported package's source: a cached run is reused only with the same code."""
    import sklearn_msfl

    package = Path(sklearn_msfl.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class RunCache:
    """Finished runs on disk, one file per corpus set, setting, model and seed.

    Every run is saved as soon as it finishes; with ``resume`` a saved run is reused when
    its fingerprint matches: the unfitted model (all its parameters), the folds, the data,
    the package source and whether its task weights were kept.
    """

    def __init__(self, folder: Path, resume: bool):
        self.folder, self.resume = Path(folder), resume

    def path(self, corpus_set: str, setting: str, name: str, seed) -> Path:
        parts = [corpus_set, setting, name, "unseeded" if seed is None else f"seed{seed}"]
        return self.folder.joinpath(*(re.sub(r"[^a-z0-9]+", "-", part.lower()).strip("-")
                                      for part in parts)).with_suffix(".pkl")

    def load(self, path: Path, fingerprint: str) -> ModelRun | None:
        if not (self.resume and path.is_file()):
            return None
        with open(path, "rb") as file:
            saved = pickle.load(file)
        if saved["fingerprint"] != fingerprint:
            return None
        return ModelRun(**{**saved["run"], "reused": True})

    def save(self, path: Path, fingerprint: str, run: ModelRun) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with open(partial, "wb") as file:
            # the fields, not the class: a run saved by the script (__main__) loads anywhere
            pickle.dump({"fingerprint": fingerprint, "run": vars(run)}, file)
        partial.replace(path)  # a run interrupted while saving leaves no half file


def run_settings(args, seed: int, speakers: pd.DataFrame) -> RunSettings:
    """The factories' settings of one seed: --quick, --epochs and --threads applied."""
    msfl_params = dict(QUICK_MSFL) if args.quick else {}
    tabm_params = dict(QUICK_TABM) if args.quick else {}
    if args.epochs is not None:
        msfl_params["max_epochs"] = args.epochs
    if args.threads is not None:
        msfl_params["n_threads"] = tabm_params["n_threads"] = args.threads
    return RunSettings(seed, msfl_params, QUICK_GRIDS if args.quick else GRIDS, speakers,
                       QUICK_INNER_SPLITS if args.quick else INNER_SPLITS, tabm_params)


def run_all(args, data: Data):
    """Every requested corpus set, model and seed: runs, raw per-fold scores, folds, failures.

    ``folds`` and ``failures`` are keyed by corpus set; ``raw`` has a ``corpus_set`` column.
    Finished runs are saved to ``args.runs``; with ``args.resume`` saved ones are reused.
    """
    runs, folds, failures = [], {}, {}
    cache, source = RunCache(args.runs, args.resume), source_hash()
    speakers = data.frame[["corpus", "speaker"]]
    for corpus_set in args.corpus_sets:
        part = subset(data, CORPUS_SETS[corpus_set])
        folds[corpus_set] = make_folds(part, args.n_splits)
        data_hash = joblib.hash((part.X, part.labels, part.frame[["corpus", "speaker"]]))
        failures[corpus_set] = {}
        for name in args.models:
            config = MODELS[name]
            setting = LOCO if config.scope == "loco" else SPEAKER_FOLDS
            for seed in args.seeds if config.seeded else args.seeds[:1]:
                settings = run_settings(args, seed, speakers)
                # the GradNorm weights plot needs MSFL's fitted models
                keep_weights = name == "MSFL" and seed == args.seeds[0]
                path = cache.path(corpus_set, setting, name, seed if config.seeded else None)
                fingerprint = joblib.hash((config.factory(settings), config.tasks, config.scope,
                                           folds[corpus_set][setting], data_hash, source,
                                           keep_weights))
                run = cache.load(path, fingerprint)
                if run is not None:
                    runs.append(run)
                    print(f"{corpus_set:14s} {name:18s} seed {seed}: reused {path}", flush=True)
                    continue
                start = time.perf_counter()
                try:
                    run = run_model(name, config, part, folds[corpus_set][setting], settings,
                                    keep_weights=keep_weights, n_jobs=args.n_jobs,
                                    verbose=not args.quick)
                except Exception:  # report every failing model, not only the first
                    failures[corpus_set][name] = traceback.format_exc()
                    print(f"FAILED {name} on {corpus_set} (seed {seed}):\n"
                          f"{failures[corpus_set][name]}", file=sys.stderr)
                    break
                run.setting, run.corpus_set = setting, corpus_set
                cache.save(path, fingerprint, run)
                runs.append(run)
                print(f"{corpus_set:14s} {name:18s} seed {seed}: "
                      f"{time.perf_counter() - start:7.1f} s", flush=True)
    raw = [score_run(run).assign(setting=run.setting, corpus_set=run.corpus_set)
           for run in runs]
    raw = pd.concat(raw, ignore_index=True) if raw else pd.DataFrame(
        columns=["estimator", "seed", "fold", "language", "uar", "wa", "n_test", "fit_time",
                 "predict_time", "setting", "corpus_set"])
    return runs, raw, folds, failures


def check_complete(args, raw: pd.DataFrame, folds, failures) -> list[str]:
    """Problems that make a run incomplete: failed models, missing or non-finite scores.

    ``folds`` and ``failures`` are keyed by corpus set, like :func:`run_all`'s.
    """
    problems = []
    for corpus_set in args.corpus_sets:
        failed = failures.get(corpus_set, {})
        problems += [f"{name}: raised an exception ({corpus_set})" for name in failed]
        for name in args.models:
            if name in failed:
                continue
            setting = LOCO if MODELS[name].scope == "loco" else SPEAKER_FOLDS
            rows = raw[(raw["estimator"] == name) & (raw["language"] == ALL)
                       & (raw["corpus_set"] == corpus_set)]
            seeds = len(args.seeds) if MODELS[name].seeded else 1
            expected = len(folds[corpus_set][setting]) * seeds
            if len(rows) != expected or not np.isfinite(rows[["uar", "wa"]].to_numpy()).all():
                problems.append(f"{name}: {len(rows)} of {expected} fold scores, or non-finite "
                                f"({corpus_set})")
    return problems


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
def machine_lines(args, loads) -> list[str]:
    import opensmile
    import skorch

    return [
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores "
        f"({len(os.sched_getaffinity(0))} available), torch threads {torch.get_num_threads()}",
        f"- Load average (1 min) at start / end: {loads[0]:.2f} / {loads[1]:.2f} "
        "(the machine may be shared with other processes)",
        f"- BLAS threads (numpy, scipy): {args.blas_threads}",
        f"- Python {platform.python_version()}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}, skorch {skorch.__version__}, opensmile {opensmile.__version__}, "
        f"numpy {np.__version__}, pandas {pd.__version__}",
    ]


def data_table(frame: pd.DataFrame) -> str:
    counts = frame.groupby(["corpus", "emotion_std"]).size().unstack(fill_value=0)
    counts = counts.reindex([c for c in CORPORA if c in counts.index])
    counts.insert(0, "language", [LANGUAGES[corpus] for corpus in counts.index])
    counts["speakers"] = frame.groupby("corpus")["speaker"].nunique()
    counts["total"] = counts.drop(columns=["language", "speakers"]).sum(axis=1)
    header = ["corpus", *counts.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [f"| {corpus} | " + " | ".join(str(v) for v in row) + " |"
              for corpus, row in counts.iterrows()]
    return "\n".join(lines)


def config_lines(args) -> list[str]:
    from sklearn_msfl import TabMClassifier
    from sklearn_msfl.baselines import MSFL_NORMALISATION

    defaults = MultitaskSERClassifier().get_params()
    settings = run_settings(args, args.seeds[0], None)
    inner = QUICK_INNER_SPLITS if args.quick else INNER_SPLITS
    tabm_params = {**TabMClassifier().get_params(), **settings.tabm_params}
    lines = [
        "MultitaskSERClassifier defaults: " + ", ".join(
            f"`{k}={v!r}`" for k, v in defaults.items() if k not in ("verbose",)),
        "",
        f"Input normalisation of the MSFL pipeline, chosen by `benchmarks/tune.py` (nested inner "
        f"speaker folds, [tuning.md](tuning.md)): `{MSFL_NORMALISATION}` "
        "(`make_msfl_pipeline`). The SVM runs with both: \"global\" (standardised over all "
        "training rows) and \"corpus\" (every corpus on its own statistics, "
        "`GroupStandardScaler`).",
        "",
        f"Run-wide overrides of the MSFL models: `{settings.msfl_params}`"
        if settings.msfl_params else "Run-wide overrides of the MSFL models: none",
        "",
        f"Tuned baselines: grid search on inner {inner}-fold speaker-independent folds of the "
        "training rows, scoring UAR; grids "
        + "; ".join(f"{kind} `{grid}`" for kind, grid in settings.grids.items()) + ".",
        "",
        "TabM is not tuned: it keeps the published defaults of `TabMClassifier` (the `tabm` "
        "package's `TabM.make` on standardised inputs clipped to ±5): "
        + ", ".join(f"`{k}={v!r}`" for k, v in tabm_params.items() if k != "random_state")
        + ".",
        "",
        "| model | trained on | setting | normalisation | overrides | baseline | description |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in args.models:
        config = MODELS[name]
        overrides = getattr(config.factory, "overrides", None)
        normalisation = getattr(config.factory, "normalisation", None) or MSFL_NORMALISATION
        lines.append(
            f"| {name} | {' + '.join(config.tasks)} | {config.scope} | {normalisation} | "
            f"{'' if overrides is None else f'`{overrides}`'} | "
            f"{'yes' if config.baseline else ''} | {config.description} |"
        )
    return lines


def fold_mean_scores(result: EvaluationResult, metric: str = "uar") -> pd.DataFrame:
    """Per fold and estimator: the mean over corpora of the per-fold per-corpus scores."""
    per = result.scores[result.scores["language"] != ALL]
    return per.groupby(["fold", "estimator"])[metric].mean().unstack("estimator")


def compare_mean(result: EvaluationResult, a: str, b: str, metric="uar") -> PairedComparison:
    """Paired comparison on the per-fold mean over corpora (corrected resampled t-test)."""
    table = fold_mean_scores(result, metric)[[a, b]].dropna()
    ratio = float(np.mean([len(test) / max(len(train), 1) for train, test in result.folds]))
    return PairedComparison.from_scores(a, b, table[a], table[b], metric=metric,
                                        language="mean", test_train_ratio=ratio)


def best_baseline(result: EvaluationResult) -> str | None:
    """The baseline candidate (ModelConfig.baseline) of ``result`` with the highest pooled UAR."""
    means = result.language_mean("uar")
    candidates = [name for name in result.estimator_names if MODELS[name].baseline]
    return max(candidates, key=lambda name: means[name]) if candidates else None


def seed_scores(runs: list[ModelRun]) -> dict[str, list[float]]:
    """The pooled UAR (mean over corpora) of every run, per model in seed order."""
    scores: dict[str, list[float]] = {}
    for run in sorted(runs, key=lambda run: -1 if run.seed is None else run.seed):
        per = score_predictions(run.predictions, ["estimator"])
        scores.setdefault(run.name, []).append(float(per.loc[per["language"] != ALL,
                                                             "uar"].mean()))
    return scores


def pooled_table(result: EvaluationResult, best: str | None, runs: list[ModelRun],
                 speakers: pd.DataFrame, score: str = "pooled UAR") -> str:
    """Pooled UAR (``score``) of every model, its seeds, and the speaker bootstrap of its
    difference to the best baseline."""
    means = result.language_mean("uar")
    per_seed = seed_scores(runs)
    lines = [f"| model | {score} | {score} per seed | Δ to {best or '–'} (pp) | "
             "95% speaker-bootstrap interval of Δ (pp) | resamples with Δ > 0 |",
             "|---|---|---|---|---|---|"]
    for name in result.estimator_names:
        seeds = per_seed.get(name, [])
        cells = [f"{100 * means[name]:.1f}",
                 " / ".join(f"{100 * score:.1f}" for score in seeds) if len(seeds) > 1 else "",
                 "", "", ""]
        if best is not None and name != best:
            boot = result.bootstrap_difference(name, best, speakers,
                                               n_resamples=BOOTSTRAP_RESAMPLES, random_state=0)
            cells[2:] = [f"{100 * boot.difference:+.1f}",
                         f"[{100 * boot.low:+.1f}, {100 * boot.high:+.1f}]",
                         f"{100 * boot.win_share:.1f}%"]
        lines.append(f"| {name}{' (best baseline)' if name == best else ''} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def pooled_notes(best: str | None, candidates: list[str]) -> str:
    """What every column of :func:`pooled_table` estimates."""
    if best is None:
        return "No baseline in this run: no differences."
    return (
        f"*Best baseline*: of the baselines {', '.join(candidates)}, the one with the highest "
        f"pooled UAR here ({best}); chosen on these test predictions, which favours the "
        "baseline (the conservative choice for a claim that a model beats it). "
        "*Pooled UAR*: the mean over corpora of each corpus's UAR on its predictions pooled "
        "over folds and seeds, i.e. the mean over seeds of each seed's pooled UAR; *per seed*: "
        "each seed's pooled UAR (the spread over training seeds). *Δ*: pooled UAR of the "
        f"model minus {best}'s. *Interval* and *resamples with Δ > 0*: speaker-level "
        f"bootstrap of Δ ({BOOTSTRAP_RESAMPLES} resamples; within every corpus n − 1 of its "
        "n speakers drawn with replacement, both models rescored on the same speakers, each "
        "model's seeds pooled): the 95% percentile interval and the share of resamples in "
        "which the model's pooled UAR is the higher. It holds the uncertainty from which "
        "speakers the corpora hold, not from the training seeds (see *per seed*). No "
        "p-value is printed here: the t-tests below test means of per-fold scores, other "
        "quantities."
    )


def comparison_table(result: EvaluationResult, reference: str) -> str:
    lines = [
        "| model | corpus | Δ UAR (pp) | corrected t-test p | Wilcoxon p | Δ WA (pp) | "
        "corrected t-test p | Wilcoxon p |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in result.estimator_names:
        if name == reference:
            continue
        for language in [*result.languages, "mean"]:
            cells = []
            for metric in ("uar", "wa"):
                try:
                    c = (compare_mean(result, name, reference, metric) if language == "mean"
                         else result.compare(name, reference, metric=metric, language=language))
                except KeyError:
                    cells += ["–"] * 3
                    continue
                cells += [f"{100 * c.mean_difference:+.1f} ± {100 * c.std_difference:.1f}",
                          f"{c.t_pvalue:.3g}", f"{c.wilcoxon_pvalue:.3g}"]
            lines.append(f"| {name} | {language} | " + " | ".join(cells) + " |")
    note = result.compare(result.estimator_names[-1], reference).note if len(
        result.estimator_names) > 1 else ""
    return "\n".join(lines) + (f"\n\n{note}" if note else "")


def timing_table(raw: pd.DataFrame) -> str:
    lines = [
        "| model | corpus set | setting | fits | one fit, s (mean ± std over folds and seeds) "
        "| fit s total | predict s per fold | predict ms per utterance |",
        "|---|---|---|---|---|---|---|---|",
    ]
    overall = raw[raw["language"] == ALL]
    for (name, corpus_set, setting), rows in overall.groupby(
            ["estimator", "corpus_set", "setting"], sort=False):
        per_utterance = 1000 * rows["predict_time"].sum() / rows["n_test"].sum()
        lines.append(
            f"| {name} | {corpus_set} | {setting} | {len(rows)} | {rows['fit_time'].mean():.1f} "
            f"± {rows['fit_time'].std():.1f} | {rows['fit_time'].sum():.0f} | "
            f"{rows['predict_time'].mean():.2f} | {per_utterance:.2f} |"
        )
    return "\n".join(lines)


def set_section(args, corpus_set, data, results, runs, failures, plots) -> list[str]:
    corpora = CORPUS_SETS[corpus_set]
    part = subset(data, corpora)
    speakers = part.frame[["corpus", "speaker"]].reset_index(drop=True)  # by sample position
    names = ", ".join(f"{corpus} ({LANGUAGES[corpus]})" for corpus in corpora)
    lines = [f"## {corpus_set[0].upper() + corpus_set[1:]}: {names}", "",
             data_table(part.frame), ""]
    if failures:
        lines += ["### Failed models", ""]
        lines += [f"- **{name}**: `{text.strip().splitlines()[-1]}`" for name, text in
                  failures.items()]
        lines.append("")
    if SPEAKER_FOLDS in results:
        result = results[SPEAKER_FOLDS]
        setting_runs = [run for run in runs if run.setting == SPEAKER_FOLDS]
        best = best_baseline(result)
        lines += [
            "### Speaker-independent folds",
            "",
            f"`CorpusSpeakerKFold({args.n_splits})` over these corpora. UAR and WA (%) per "
            "test corpus on the predictions pooled over the folds; *mean* is the pooled UAR "
            "(WA): the mean over corpora.",
            "",
            result.to_markdown(),
            "",
            "Pooled UAR (the headline), each model against the best pooled-training baseline "
            "(*SVM per corpus* trains within each corpus: reported, not a candidate):",
            "",
            pooled_table(result, best, setting_runs, speakers),
            "",
            pooled_notes(best, [name for name in result.estimator_names
                                if MODELS[name].baseline]),
            "",
        ]
        if best is not None and len(result.estimator_names) > 1:
            lines += [
                f"Paired difference to the best baseline ({best}) over the folds (model − "
                f"{best}, percentage points, mean ± std of the per-fold differences; scores "
                "of a model's seeds averaged per fold), the corrected resampled t-test "
                "(Nadeau & Bengio 2003) and the Wilcoxon signed-rank test (two-sided). "
                "Estimand of each row: the mean over folds of the per-fold difference in "
                "that corpus's UAR (WA); *all*: in the UAR (WA) over all test rows of a fold; "
                "*mean*: in the per-fold mean over corpora, which averages different corpora "
                "in folds that lack a corpus's test rows (4-speaker corpora) and is not the "
                "pooled UAR of the headline:",
                "",
                comparison_table(result, best),
                "",
            ]
        if corpus_set == args.corpus_sets[0]:
            if UAR_PLOT_NAME in plots:
                lines += [f"![UAR per corpus]({UAR_PLOT_NAME})", ""]
            if WEIGHTS_PLOT_NAME in plots:
                lines += ["GradNorm task weights over the epochs (MSFL, every fold, first seed):",
                          "", f"![GradNorm task weights]({WEIGHTS_PLOT_NAME})", ""]
    if LOCO in results:
        result = results[LOCO]
        best = best_baseline(result)
        lines += [
            "### Leave one corpus out",
            "",
            f"Trained on the other {len(corpora) - 1} corpora, tested on the unseen one; "
            "*mean* averages the held-out corpora:",
            "",
            result.to_markdown(),
            "",
            "Mean UAR over the held-out corpora, each model against the best LOCO baseline "
            "(the bootstrap resamples the speakers of every held-out corpus):",
            "",
            pooled_table(result, best, [run for run in runs if run.setting == LOCO], speakers,
                         score="mean UAR"),
            "",
            pooled_notes(best, [name for name in result.estimator_names
                                if MODELS[name].baseline]),
            "",
        ]
        if best is not None:
            lines += [
                f"Corrected resampled t-test and Wilcoxon test over the held-out corpora "
                f"(a fold tests one corpus, so the estimand, the mean over held-out corpora of "
                f"the UAR difference, is Δ of the table above), against {best}:",
                "",
            ]
            lines += [f"- {result.compare(name, best)}" for name in result.estimator_names
                      if not MODELS[name].baseline]
            lines.append("")
    return lines


def render_report(args, data, results, runs, raw, failures, stages, loads, plots) -> str:
    seeds = ", ".join(map(str, args.seeds))
    quick = "**Quick smoke run** (speaker subset, tiny networks): the numbers mean nothing. "
    lines = [
        "# Multilingual speech emotion recognition: MSFL vs the strongest baselines, STL, MTL "
        "and an ablation",
        "",
        f"{quick if args.quick else ''}"
        f"Run on {datetime.datetime.now().isoformat(timespec='minutes')}.",
        "",
        "## Data and protocol",
        "",
        f"Emotions {', '.join(DEFAULT_EMOTIONS)}; {len(data.frame)} utterances, IS10 "
        f"functionals ({data.X.shape[1]} features). Corpus sets: "
        + "; ".join(f"{name} ({', '.join(corpora)})" for name, corpora in CORPUS_SETS.items()
                    if name in args.corpus_sets)
        + ". Each set is evaluated on its own folds, its models trained on that set only. "
        "Speaker-independent folds within every corpus (`CorpusSpeakerKFold`; 4-speaker "
        "corpora leave one speaker out within them), shared by all models of a set; leave one "
        "corpus out tests each corpus once. The language label of RAVDESS is `en-US` and of "
        "SAVEE `en-GB`: one label per corpus, the auxiliary task of the multitask models and "
        "the columns of the per-corpus tables. *Pooled UAR* is the mean over corpora of each "
        "corpus's UAR on its predictions pooled over the folds. Neural models ran with seeds "
        f"{seeds} (MLP and TabM too; the SVM and logistic regression are deterministic); their "
        "per-fold scores are averaged over seeds before the spread and the paired tests, their "
        "predictions pooled over seeds and folds. Every model is compared with the *best "
        "baseline* of its setting, the baseline with the highest pooled UAR.",
        "",
        "## Models",
        "",
        *config_lines(args),
        "",
    ]
    for corpus_set in args.corpus_sets:
        lines += set_section(args, corpus_set, data, results.get(corpus_set, {}),
                             [run for run in runs if run.corpus_set == corpus_set],
                             failures.get(corpus_set, {}), plots)
    lines += [
        "## Wall time",
        "",
        f"- Loading the corpus tables: {stages['load']:.1f} s",
        f"- IS10 extraction of {len(data.frame)} files (n_jobs={args.extraction_jobs}, cache "
        f"`{display_path(args.cache)}`, files already cached are loaded): "
        f"{stages['extraction']:.1f} s",
        f"- Training and prediction of the models trained in this invocation: "
        f"{stages['models']:.1f} s ({sum(run.reused for run in runs)} of {len(runs)} runs "
        f"reused from `{display_path(args.runs)}` by `--resume`; the table below shows the "
        "times of their original runs)",
        f"- Total: {stages['total']:.1f} s",
        "",
        timing_table(raw),
        "",
        "## Machine",
        "",
        *machine_lines(args, loads),
        f"- Command: `{args.command}`",
        "",
        "## What we tried",
        "",
        TUNING_NOTES.read_text().strip() if TUNING_NOTES.is_file()
        else "_No tuning notes yet (benchmarks/results/tuning_notes.md)._",
        "",
    ]
    return "\n".join(lines)


def display_path(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def save_plots(results, runs, output: Path, corpus_set: str) -> list[str]:
    """UAR per corpus and the GradNorm weights of MSFL, for one corpus set."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plots", file=sys.stderr)
        return []
    saved = []
    results = results.get(corpus_set, {})
    if SPEAKER_FOLDS in results:
        result = results[SPEAKER_FOLDS]
        figure, ax = plt.subplots(figsize=(3 + 1.1 * len(result.estimator_names), 4.2),
                                  layout="constrained")
        result.plot_languages("uar", ax=ax)
        ax.set_title(f"UAR per test corpus, speaker-independent folds ({corpus_set})")
        ax.legend(fontsize=7, ncols=2)
        figure.savefig(output / UAR_PLOT_NAME, dpi=120)
        plt.close(figure)
        saved.append(UAR_PLOT_NAME)
    weights_per_fold = next((run.task_weights for run in runs if run.name == "MSFL"
                             and run.task_weights and run.corpus_set == corpus_set), None)
    if weights_per_fold:
        figure, ax = plt.subplots(figsize=(6, 3.8), layout="constrained")
        colors = {}
        for fold, weights in enumerate(weights_per_fold):
            epochs = np.arange(1, len(weights) + 1)
            for task in weights.columns:
                line, = ax.plot(epochs, weights[task], color=colors.get(task), alpha=0.8,
                                label=task if fold == 0 else None)
                colors[task] = line.get_color()
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("epoch")
        ax.set_ylabel("task weight")
        ax.set_title(f"GradNorm task weights (one line per fold, {corpus_set})")
        ax.legend()
        figure.savefig(output / WEIGHTS_PLOT_NAME, dpi=120)
        plt.close(figure)
        saved.append(WEIGHTS_PLOT_NAME)
    return saved


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: speaker subset, 2 folds, 5 epochs, tiny networks, "
                        "one seed")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS),
                        metavar="NAME", help=f"models to run (default all: {', '.join(MODELS)})")
    parser.add_argument("--corpus-sets", nargs="+", choices=list(CORPUS_SETS),
                        default=list(CORPUS_SETS), metavar="SET",
                        help=f"corpus sets (default both: {', '.join(CORPUS_SETS)})")
    parser.add_argument("--seeds", nargs="+", type=int, default=None,
                        help="random_state values of the neural models (default: 0 1 2; "
                        "quick: 0)")
    parser.add_argument("--n-splits", type=int, default=None,
                        help=f"speaker-independent folds (default 5, quick {QUICK_SPLITS})")
    parser.add_argument("--epochs", type=int, default=None,
                        help="max_epochs of the neural models (default: estimator's / quick 5)")
    parser.add_argument("--corpora", type=Path, default=None,
                        help="shared corpora folder (default $MSFL_CORPORA or ../shared/corpora)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="IS10 feature cache folder (default benchmarks/.cache)")
    parser.add_argument("--output", type=Path, default=None,
                        help="folder for the report, CSV and plots (default benchmarks/results; "
                        "quick: benchmarks/.cache/quick)")
    parser.add_argument("--extraction-jobs", type=int, default=2,
                        help="openSMILE worker processes (default 2)")
    parser.add_argument("--n-jobs", type=int, default=None,
                        help="folds trained in parallel by evaluate() (default 1)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads of every network (the estimator's n_threads; "
                        "default: the estimator's own choice)")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads of numpy and scipy (logistic regression, MLP; "
                        "default 1, like the networks' torch threads: on a shared machine, "
                        "threads that wait for busy cores slow every fit down)")
    parser.add_argument("--runs", type=Path, default=None,
                        help="folder where every finished run (model, seed, corpus set, "
                        "setting) is saved (default benchmarks/.cache/runs; quick: "
                        "OUTPUT/runs)")
    parser.add_argument("--resume", action="store_true",
                        help="reuse the runs saved in --runs whose model, data, folds and "
                        "package source are unchanged; train only the others")
    args = parser.parse_args(argv)
    args.command = shlex.join(["python", "benchmarks/multilingual_ser.py",
                               *(sys.argv[1:] if argv is None else argv)])
    if args.n_splits is None:
        args.n_splits = QUICK_SPLITS if args.quick else 5
    if args.seeds is None:
        args.seeds = [0] if args.quick else list(DEFAULT_SEEDS)
    if args.output is None:
        args.output = QUICK_OUTPUT if args.quick else RESULTS_DIR
    if args.quick and args.output.resolve() == RESULTS_DIR.resolve():
        parser.error("--quick must not overwrite the committed results: choose another --output")
    if args.runs is None:
        args.runs = args.output / "runs" if args.quick else DEFAULT_RUNS
    args.models = list(dict.fromkeys(args.models))
    args.corpus_sets = list(dict.fromkeys(args.corpus_sets))
    return args


def ignore_single_emotion_fold_warnings() -> None:
    """Silence scikit-learn's warnings about inner folds that test a single emotion.

    URDU speakers mostly speak one emotion each, so the inner folds of the SVM searches often
    test a single emotion; scikit-learn's metrics warn about it on every fit.
    """
    warnings.filterwarnings("ignore", "y_pred contains classes not in y_true")
    warnings.filterwarnings("ignore", "A single label was found")


def main(argv=None) -> int:
    args = parse_args(argv)
    ignore_single_emotion_fold_warnings()
    loads = [os.getloadavg()[0]]
    start = time.perf_counter()
    data = load_data(args)
    print(f"{len(data.frame)} utterances, features {data.X.shape}, extraction "
          f"{data.extraction_seconds:.1f} s", flush=True)

    models_start = time.perf_counter()
    with threadpool_limits(args.blas_threads, user_api="blas"):
        runs, raw, folds, failures = run_all(args, data)
    stages = {"load": data.load_seconds, "extraction": data.extraction_seconds,
              "models": time.perf_counter() - models_start}
    results: dict[str, dict[str, EvaluationResult]] = {}
    for corpus_set in args.corpus_sets:
        for setting in SETTINGS:
            setting_runs = [run for run in runs
                            if run.setting == setting and run.corpus_set == corpus_set]
            if setting_runs:
                rows = raw[(raw["setting"] == setting) & (raw["corpus_set"] == corpus_set)]
                results.setdefault(corpus_set, {})[setting] = combine(
                    setting_runs, rows, data.labels["emotion"], folds[corpus_set][setting])

    args.output.mkdir(parents=True, exist_ok=True)
    raw.to_csv(args.output / SCORES_NAME, index=False)
    plots = save_plots(results, runs, args.output, args.corpus_sets[0])
    stages["total"] = time.perf_counter() - start
    loads.append(os.getloadavg()[0])
    report = render_report(args, data, results, runs, raw, failures, stages, loads, plots)
    (args.output / REPORT_NAME).write_text(report)
    for corpus_set, by_setting in results.items():
        for setting, result in by_setting.items():
            print(f"\n{corpus_set}, {setting}\n{result.to_markdown()}")
    print(f"\nreport: {args.output / REPORT_NAME} ({stages['total']:.0f} s)")

    problems = check_complete(args, raw, folds, failures)
    if problems:
        print("INCOMPLETE:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
