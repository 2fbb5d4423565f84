"""Benchmark: MSFL against an SVM baseline, STL, MTL and ablations on EmoDB, RAVDESS and URDU.

Loads the shared corpora (German, English, Urdu) with the four emotions they share, extracts
IS10 openSMILE functionals once (cached on disk), and trains every model of :data:`MODELS` on
the same speaker-independent folds (:class:`~sklearn_msfl.model_selection.CorpusSpeakerKFold`,
unseen speakers of every corpus in each test fold):

* ``SVM``: StandardScaler + RBF SVC, ``C`` and ``gamma`` tuned by an inner grid search over
  unseen speakers of the training fold (UAR), trained on the pooled languages;
* ``SVM mono``: the same, trained and tested within each language (monolingual);
* ``STL``: MultitaskSERClassifier on the emotion only;
* ``MTL equal``: emotion + language with equal task weights;
* ``MSFL``: emotion + language with GradNorm (the estimator's defaults);
* ``MSFL x5``: the average of five MSFL networks trained with different seeds
  (``n_ensemble=5``);
* ``MSFL mean pooling`` / ``MSFL patch 16``: ablations without attention and with another
  patch size;
* ``SVM LOCO`` / ``MSFL LOCO``: leave one corpus out, i.e. trained on two languages and tested
  on the unseen third; ``... LOCO norm``: the same on features standardised within each corpus
  (:class:`~sklearn_msfl.preprocessing.GroupStandardScaler`; the unseen corpus on its own
  utterances, which needs no labels).

It writes ``multilingual_ser.md`` (UAR and WA per language, mean ± std over folds, paired
comparison of every model with the pooled SVM, stage timings, machine, command and the tuning
notes of ``benchmarks/results/tuning_notes.md``), per-fold scores as CSV and two plots into
``--output`` (default ``benchmarks/results``).

Usage::

    .venv/bin/python benchmarks/multilingual_ser.py                 # the full run
    .venv/bin/python benchmarks/multilingual_ser.py --quick         # smoke run, < 3 minutes
    .venv/bin/python benchmarks/multilingual_ser.py --models SVM MSFL --seeds 0 1 2

``--quick`` takes a few speakers per corpus, 2 folds, 5 epochs and small networks and writes
to ``benchmarks/.cache/quick`` unless ``--output`` says otherwise (never to the committed
results); it exits non-zero unless every model trained and scored on every fold. The corpora
folder is ``--corpora``, else ``$MSFL_CORPORA``, else ``../shared/corpora`` relative to the
repository.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import torch
from sklearn.metrics import recall_score
from sklearn.model_selection import BaseCrossValidator, GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC

from sklearn_msfl.corpora import DEFAULT_EMOTIONS, load_corpora, subset_speakers
from sklearn_msfl.estimator import MultitaskSERClassifier
from sklearn_msfl.evaluation import EvaluationResult, evaluate
from sklearn_msfl.features import OpenSmileTransformer
from sklearn_msfl.metrics import uar_scorer
from sklearn_msfl.model_selection import CorpusSpeakerKFold, LeaveOneCorpusOut
from sklearn_msfl.preprocessing import GroupStandardScaler

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
DEFAULT_CACHE = REPO_ROOT / "benchmarks" / ".cache"
QUICK_OUTPUT = DEFAULT_CACHE / "quick"
TUNING_NOTES = RESULTS_DIR / "tuning_notes.md"
REPORT_NAME = "multilingual_ser.md"
SCORES_NAME = "multilingual_ser_folds.csv"
UAR_PLOT_NAME = "multilingual_ser_uar.png"
WEIGHTS_PLOT_NAME = "multilingual_ser_task_weights.png"

CORPORA = ("emodb", "ravdess", "urdu")
REFERENCE = "SVM"
SPEAKER_FOLDS, LOCO = "speaker folds", "leave one corpus out"
INNER_SPLITS = 3

SVM_GRID = {"svc__C": [0.1, 1.0, 10.0, 100.0], "svc__gamma": ["scale", 1e-4, 1e-3, 1e-2]}
ABLATION_PATCH_SIZE = 16
ENSEMBLE_SIZE = 5

# --quick: the largest speakers of each corpus, a few files per speaker and emotion. URDU
# speakers mostly speak a single emotion, so it needs more of them for every emotion to occur.
QUICK_SPEAKERS = {"emodb": 4, "ravdess": 4, "urdu": 8}
QUICK_FILES_PER_SPEAKER_EMOTION = 4
QUICK_SPLITS = 2
QUICK_MSFL = {"max_epochs": 5, "batch_size": 16, "patch_size": 64, "hidden_size": 16,
              "embedding_dim": 8, "shared_size": 16}
QUICK_SVM_GRID = {"svc__C": [1.0, 10.0], "svc__gamma": ["scale"]}


# --------------------------------------------------------------------------------------------
# Model configurations: edit here. A factory gets the run settings and returns an unfitted
# estimator; MSFL variants are the estimator's defaults, then the run-wide parameters
# (--quick, --epochs), then the variant's own overrides.
# --------------------------------------------------------------------------------------------
@dataclass
class RunSettings:
    """What a model factory needs besides its own overrides."""

    seed: int
    msfl_params: dict
    svm_grid: dict
    speakers: pd.DataFrame  # corpus and speaker of every row of the feature frame

    def msfl_params_for(self, overrides: dict) -> dict:
        return {**self.msfl_params, **overrides, "random_state": self.seed}


Factory = Callable[[RunSettings], object]


def svm(settings: RunSettings, *preprocessing):
    """StandardScaler + RBF SVC with C and gamma tuned on unseen speakers of the training data."""
    return GridSearchCV(
        make_pipeline(*preprocessing, StandardScaler(), SVC(kernel="rbf")),
        settings.svm_grid,
        scoring=uar_scorer,
        cv=InnerSpeakerKFold(settings.speakers, INNER_SPLITS),
    )


def svm_corpus_normalised(settings: RunSettings):
    """The SVM of :func:`svm` on features standardised within each corpus."""
    return svm(settings, *corpus_normalisation(settings))


def corpus_normalisation(settings: RunSettings) -> list:
    """Steps that standardise every corpus on its own statistics (an unseen one on its rows)."""
    return [FunctionTransformer(with_corpus_column, kw_args={"speakers": settings.speakers}),
            GroupStandardScaler(group_column="corpus")]


def with_corpus_column(X: pd.DataFrame, speakers: pd.DataFrame) -> pd.DataFrame:
    """The feature frame (or rows of it) with the corpus of every row as a column."""
    return X.assign(corpus=speakers.loc[X.index, "corpus"].to_numpy())


def msfl(corpus_normalised: bool = False, **overrides) -> Factory:
    """Factory of a MultitaskSERClassifier with ``overrides`` of the run's parameters."""

    def build(settings: RunSettings):
        model = MultitaskSERClassifier(**settings.msfl_params_for(overrides))
        if corpus_normalised:
            return make_pipeline(*corpus_normalisation(settings), model)
        return model

    build.overrides = overrides
    return build


@dataclass(frozen=True)
class ModelConfig:
    """How a model is built and trained.

    ``tasks``: the label columns it is fitted on (emotion only: single task); ``scope``:
    ``"pooled"`` (all languages, speaker folds), ``"monolingual"`` (trained and tested within
    each language on the same folds) or ``"loco"`` (leave one corpus out); ``seeded``: whether
    it is rerun for every ``--seeds`` value.
    """

    factory: Factory
    tasks: tuple[str, ...] = ("emotion", "language")
    scope: str = "pooled"
    seeded: bool = True
    description: str = ""


EMOTION_ONLY = ("emotion",)
MODELS: dict[str, ModelConfig] = {
    "SVM": ModelConfig(svm, EMOTION_ONLY, seeded=False,
                       description="StandardScaler + RBF SVC, grid-searched C, gamma; pooled"),
    "SVM mono": ModelConfig(svm, EMOTION_ONLY, scope="monolingual", seeded=False,
                            description="the same SVM trained and tested within each language"),
    "STL": ModelConfig(msfl(), EMOTION_ONLY, description="MSFL network, emotion head only"),
    "MTL equal": ModelConfig(msfl(loss_weighting="equal"),
                             description="emotion + language, equal task weights"),
    "MSFL": ModelConfig(msfl(), description="emotion + language, GradNorm (defaults)"),
    f"MSFL x{ENSEMBLE_SIZE}": ModelConfig(
        msfl(n_ensemble=ENSEMBLE_SIZE), seeded=False,
        description=f"MSFL averaging {ENSEMBLE_SIZE} networks trained with different seeds "
                    "(run once, for the first seed)"),
    "MSFL mean pooling": ModelConfig(msfl(pooling="mean"),
                                     description="ablation: mean pooling instead of attention"),
    f"MSFL patch {ABLATION_PATCH_SIZE}": ModelConfig(
        msfl(patch_size=ABLATION_PATCH_SIZE), description="ablation: another patch size"),
    "SVM LOCO": ModelConfig(svm, EMOTION_ONLY, scope="loco", seeded=False,
                            description="SVM trained on two corpora, tested on the third"),
    "MSFL LOCO": ModelConfig(msfl(), scope="loco",
                             description="MSFL trained on two corpora, tested on the third"),
    "SVM LOCO norm": ModelConfig(
        svm_corpus_normalised, EMOTION_ONLY, scope="loco", seeded=False,
        description="SVM LOCO on features standardised per corpus (the unseen one on its own)"),
    "MSFL LOCO norm": ModelConfig(
        msfl(corpus_normalised=True), scope="loco",
        description="MSFL LOCO on features standardised per corpus (the unseen one on its own)"),
}


class InnerSpeakerKFold(BaseCrossValidator):
    """Speaker-independent folds for a search inside :func:`evaluate`, which passes no ``groups``.

    ``X`` is the feature frame (or a subset of its rows): the corpus and speaker of each row
    are looked up by ``X.index`` in ``speakers``. The folds are CorpusSpeakerKFold's (unseen
    speakers of every corpus), with fewer folds when a corpus of the training data has fewer
    speakers than ``n_splits``, and GroupKFold's over speakers when a corpus has only one.
    """

    def __init__(self, speakers: pd.DataFrame, n_splits: int = 3):
        self.speakers = speakers
        self.n_splits = n_splits

    def _groups(self, X) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise TypeError("InnerSpeakerKFold needs X as the feature frame (rows by index)")
        return self.speakers.loc[X.index, ["corpus", "speaker"]]

    def _splitter(self, groups: pd.DataFrame):
        fewest = groups.groupby("corpus")["speaker"].nunique().min()
        if fewest >= 2:
            return CorpusSpeakerKFold(int(min(self.n_splits, fewest))), groups
        speakers = groups["corpus"] + "/" + groups["speaker"]
        return GroupKFold(int(min(self.n_splits, speakers.nunique()))), speakers

    def get_n_splits(self, X=None, y=None, groups=None):
        if X is None:
            return self.n_splits
        return self._splitter(self._groups(X))[0].get_n_splits()

    def split(self, X, y=None, groups=None):
        splitter, groups = self._splitter(self._groups(X))
        yield from splitter.split(X, y, groups=groups)


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
    default = REPO_ROOT.parent / "shared" / "corpora"
    for candidate in (option, os.environ.get("MSFL_CORPORA"), default):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    sys.exit("corpora not found: pass --corpora or set MSFL_CORPORA")


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
    labels = frame[["emotion_std", "language"]].rename(columns={"emotion_std": "emotion"})
    return Data(frame, X, labels, load_seconds, extraction_seconds)


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------
@dataclass
class ModelRun:
    """Predictions and timings of one model and seed, on the rows of the full frame."""

    name: str
    seed: int | None
    predictions: pd.DataFrame
    times: pd.DataFrame  # fold, fit_time, predict_time (summed over the monolingual parts)
    fitted: list = field(default_factory=list)  # fitted estimator per fold, if kept
    setting: str = SPEAKER_FOLDS


def restrict_folds(folds, rows: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The folds restricted to ``rows``, as positions within ``rows``."""
    return [(np.flatnonzero(np.isin(rows, train)), np.flatnonzero(np.isin(rows, test)))
            for train, test in folds]


def run_model(name, config, data, folds, settings, *, keep_fitted, n_jobs, verbose) -> ModelRun:
    languages = data.labels["language"].to_numpy()
    if config.scope == "monolingual":
        parts = [np.flatnonzero(languages == language) for language in np.unique(languages)]
    else:
        parts = [np.arange(len(data.X))]
    y = data.labels[list(config.tasks)]
    if len(config.tasks) == 1:
        y = y.iloc[:, 0]
    predictions, times, fitted = [], [], []
    for rows in parts:
        result = evaluate(
            {name: config.factory(settings)},
            data.X.iloc[rows],
            y.iloc[rows],
            languages=languages[rows],
            cv=restrict_folds(folds, rows) if len(parts) > 1 else folds,
            n_jobs=n_jobs,
            verbose=verbose,
            return_estimators=keep_fitted,
        )
        part = result.predictions.copy()
        part["sample"] = rows[part["sample"].to_numpy()]
        predictions.append(part)
        overall = result.scores[result.scores["language"] == "all"]
        times.append(overall[["fold", "fit_time", "predict_time"]])
        if keep_fitted:
            fitted = result.estimators[name]
    times = pd.concat(times).groupby("fold", as_index=False).sum()
    return ModelRun(name, settings.seed if config.seeded else None,
                    pd.concat(predictions, ignore_index=True), times, fitted)


def uar(y_true, y_pred) -> float:
    """UAR over the classes present in ``y_true`` (a language may lack some emotions)."""
    present = np.unique(np.asarray(y_true))
    return float(recall_score(y_true, y_pred, labels=present, average="macro", zero_division=0))


def score_run(run: ModelRun) -> pd.DataFrame:
    """UAR, WA and test size per fold, per language and over all languages ("all")."""
    rows = []
    for fold, part in run.predictions.groupby("fold"):
        for language, subset in [("all", part), *part.groupby("language")]:
            rows.append({
                "estimator": run.name, "seed": run.seed, "fold": fold, "language": language,
                "uar": uar(subset["y_true"], subset["y_pred"]),
                "wa": float(np.mean(subset["y_true"] == subset["y_pred"])),
                "n_test": len(subset),
            })
    return pd.DataFrame(rows).merge(run.times, on="fold", how="left")


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


def run_all(args, data: Data):
    """Every requested model and seed; returns runs, raw per-fold scores and failures."""
    groups = data.frame[["corpus", "speaker"]]
    folds = {
        SPEAKER_FOLDS: list(CorpusSpeakerKFold(args.n_splits).split(data.X, groups=groups)),
        LOCO: list(LeaveOneCorpusOut().split(data.X, groups=groups)),
    }
    runs, failures = [], {}
    msfl_params = dict(QUICK_MSFL) if args.quick else {}
    if args.epochs is not None:
        msfl_params["max_epochs"] = args.epochs
    for name in args.models:
        config = MODELS[name]
        setting = LOCO if config.scope == "loco" else SPEAKER_FOLDS
        for seed in args.seeds if config.seeded else args.seeds[:1]:
            settings = RunSettings(seed, msfl_params,
                                   QUICK_SVM_GRID if args.quick else SVM_GRID, groups)
            start = time.perf_counter()
            try:
                run = run_model(
                    name, config, data, folds[setting], settings,
                    # the GradNorm weights plot needs MSFL's fitted models
                    keep_fitted=name == "MSFL" and seed == args.seeds[0],
                    n_jobs=args.n_jobs, verbose=not args.quick,
                )
            except Exception:  # report every failing model, not only the first
                failures[name] = traceback.format_exc()
                print(f"FAILED {name} (seed {seed}):\n{failures[name]}", file=sys.stderr)
                break
            run.setting = setting
            runs.append(run)
            print(f"{name:20s} seed {seed}: {time.perf_counter() - start:7.1f} s", flush=True)
    raw = [score_run(run).assign(setting=run.setting) for run in runs]
    raw = pd.concat(raw, ignore_index=True) if raw else pd.DataFrame(
        columns=["estimator", "seed", "fold", "language", "uar", "wa", "n_test", "fit_time",
                 "predict_time", "setting"])
    return runs, raw, folds, failures


def check_complete(args, raw: pd.DataFrame, folds, failures) -> list[str]:
    """Problems that make a run incomplete: failed models, missing or non-finite scores."""
    problems = [f"{name}: raised an exception" for name in failures]
    for name in args.models:
        if name in failures:
            continue
        setting = LOCO if MODELS[name].scope == "loco" else SPEAKER_FOLDS
        rows = raw[(raw["estimator"] == name) & (raw["language"] == "all")]
        seeds = len(args.seeds) if MODELS[name].seeded else 1
        expected = len(folds[setting]) * seeds
        if len(rows) != expected or not np.isfinite(rows[["uar", "wa"]].to_numpy()).all():
            problems.append(f"{name}: {len(rows)} of {expected} fold scores, or non-finite")
    return problems


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_lines(loads) -> list[str]:
    import opensmile
    import skorch

    return [
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores "
        f"({len(os.sched_getaffinity(0))} available), torch threads {torch.get_num_threads()}",
        f"- Load average (1 min) at start / end: {loads[0]:.2f} / {loads[1]:.2f} "
        "(the machine may be shared with other processes)",
        f"- Python {platform.python_version()}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}, skorch {skorch.__version__}, opensmile {opensmile.__version__}, "
        f"numpy {np.__version__}, pandas {pd.__version__}",
    ]


def data_table(frame: pd.DataFrame) -> str:
    counts = frame.groupby(["corpus", "emotion_std"]).size().unstack(fill_value=0)
    counts["speakers"] = frame.groupby("corpus")["speaker"].nunique()
    counts["total"] = counts.drop(columns="speakers").sum(axis=1)
    header = ["corpus", *counts.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [f"| {corpus} | " + " | ".join(str(v) for v in row) + " |"
              for corpus, row in counts.iterrows()]
    return "\n".join(lines)


def config_lines(args) -> list[str]:
    defaults = MultitaskSERClassifier().get_params()
    run_wide = dict(QUICK_MSFL) if args.quick else {}
    if args.epochs is not None:
        run_wide["max_epochs"] = args.epochs
    grid = QUICK_SVM_GRID if args.quick else SVM_GRID
    lines = [
        "MultitaskSERClassifier defaults: " + ", ".join(
            f"`{k}={v!r}`" for k, v in defaults.items() if k not in ("verbose",)),
        "",
        f"Run-wide overrides of the MSFL models: `{run_wide}`" if run_wide
        else "Run-wide overrides of the MSFL models: none",
        "",
        f"SVM grid (inner {INNER_SPLITS}-fold speaker-independent search, scoring UAR): "
        f"`{grid}`",
        "",
        "| model | trained on | setting | overrides | description |",
        "|---|---|---|---|---|",
    ]
    for name in args.models:
        config = MODELS[name]
        overrides = getattr(config.factory, "overrides", None)
        lines.append(
            f"| {name} | {' + '.join(config.tasks)} | {config.scope} | "
            f"{'' if overrides is None else f'`{overrides}`'} | {config.description} |"
        )
    return lines


def comparison_table(result: EvaluationResult, reference: str) -> str:
    lines = [
        "| model | language | Δ UAR (pp) | t-test p | Wilcoxon p | Δ WA (pp) | t-test p | "
        "Wilcoxon p |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in result.estimator_names:
        if name == reference:
            continue
        for language in result.languages:
            cells = []
            for metric in ("uar", "wa"):
                try:
                    c = result.compare(name, reference, metric=metric, language=language)
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
        "| model | setting | fits | fit s per fold (mean ± std) | fit s total | "
        "predict s per fold | predict ms per utterance |",
        "|---|---|---|---|---|---|---|",
    ]
    overall = raw[raw["language"] == "all"]
    for (name, setting), rows in overall.groupby(["estimator", "setting"], sort=False):
        per_utterance = 1000 * rows["predict_time"].sum() / rows["n_test"].sum()
        lines.append(
            f"| {name} | {setting} | {len(rows)} | {rows['fit_time'].mean():.1f} ± "
            f"{rows['fit_time'].std():.1f} | {rows['fit_time'].sum():.0f} | "
            f"{rows['predict_time'].mean():.2f} | {per_utterance:.2f} |"
        )
    return "\n".join(lines)


def render_report(args, data, results, raw, failures, stages, loads, plots) -> str:
    seeds = ", ".join(map(str, args.seeds))
    quick = "**Quick smoke run** (speaker subset, tiny networks): the numbers mean nothing. "
    loco = "Leave one corpus out: 3 folds, each tests one unseen corpus. "
    lines = [
        "# Multilingual speech emotion recognition: MSFL vs SVM, STL, MTL and ablations",
        "",
        f"{quick if args.quick else ''}"
        f"Run on {datetime.datetime.now().isoformat(timespec='minutes')}.",
        "",
        "## Data and protocol",
        "",
        f"EmoDB (de), RAVDESS (en) and URDU (ur), emotions {', '.join(DEFAULT_EMOTIONS)}; "
        f"{len(data.frame)} utterances, IS10 functionals ({data.X.shape[1]} features). "
        f"Speaker-independent folds within every corpus (CorpusSpeakerKFold({args.n_splits})): "
        "every test fold holds unseen speakers of every corpus, all models share the folds. "
        f"{loco if LOCO in results else ''}"
        f"Neural models ran with seeds {seeds}; their per-fold scores are averaged over seeds "
        "before the spread and the paired tests.",
        "",
        data_table(data.frame),
        "",
        "## Models",
        "",
        *config_lines(args),
        "",
    ]
    if failures:
        lines += ["## Failed models", ""]
        lines += [f"- **{name}**: `{text.strip().splitlines()[-1]}`" for name, text in
                  failures.items()]
        lines.append("")
    if SPEAKER_FOLDS in results:
        result = results[SPEAKER_FOLDS]
        lines += [
            "## Results: speaker-independent folds",
            "",
            f"UAR and WA (%) per test language and over all languages, mean ± std over the "
            f"{args.n_splits} folds:",
            "",
            result.to_markdown(),
            "",
        ]
        if REFERENCE not in result.estimator_names:
            lines += [f"No pooled `{REFERENCE}` in this run: no paired comparison.", ""]
        elif len(result.estimator_names) > 1:
            lines += [
                f"Paired difference to the pooled `{REFERENCE}` over the folds (model − "
                f"{REFERENCE}, percentage points, mean ± std), paired t-test and Wilcoxon "
                "signed-rank test (two-sided):",
                "",
                comparison_table(result, REFERENCE),
                "",
            ]
        if UAR_PLOT_NAME in plots:
            lines += [f"![UAR per language]({UAR_PLOT_NAME})", ""]
        if WEIGHTS_PLOT_NAME in plots:
            lines += ["GradNorm task weights over the epochs (MSFL, every fold, first seed):",
                      "", f"![GradNorm task weights]({WEIGHTS_PLOT_NAME})", ""]
    if LOCO in results:
        result = results[LOCO]
        lines += [
            "## Results: leave one corpus out",
            "",
            "Trained on two corpora, tested on the unseen third (the language column); "
            "'all' averages the three held-out corpora:",
            "",
            result.to_markdown(),
            "",
        ]
        for model, reference in (("MSFL LOCO", "SVM LOCO"), ("MSFL LOCO norm", "SVM LOCO norm")):
            if {model, reference} <= set(result.estimator_names):
                lines += [str(result.compare(model, reference)), ""]
    lines += [
        "## Wall time",
        "",
        f"- Loading the corpus tables: {stages['load']:.1f} s",
        f"- IS10 extraction of {len(data.frame)} files (n_jobs={args.extraction_jobs}, cache "
        f"`{display_path(args.cache)}`, files already cached are loaded): "
        f"{stages['extraction']:.1f} s",
        f"- Training and prediction of all models: {stages['models']:.1f} s",
        f"- Total: {stages['total']:.1f} s",
        "",
        timing_table(raw),
        "",
        "## Machine",
        "",
        *machine_lines(loads),
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


def save_plots(results, runs, output: Path) -> list[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plots", file=sys.stderr)
        return []
    saved = []
    if SPEAKER_FOLDS in results:
        result = results[SPEAKER_FOLDS]
        figure, ax = plt.subplots(figsize=(3 + 1.1 * len(result.estimator_names), 4.2),
                                  layout="constrained")
        result.plot_languages("uar", ax=ax)
        ax.set_title("UAR per test language, speaker-independent folds")
        ax.legend(fontsize=7, ncols=2)
        figure.savefig(output / UAR_PLOT_NAME, dpi=120)
        plt.close(figure)
        saved.append(UAR_PLOT_NAME)
    fitted = next((run.fitted for run in runs if run.name == "MSFL" and run.fitted), None)
    if fitted:
        figure, ax = plt.subplots(figsize=(6, 3.8), layout="constrained")
        colors = {}
        for fold, model in enumerate(fitted):
            weights = pd.DataFrame(list(model.history_[:, "task_weights"]))
            epochs = np.arange(1, len(weights) + 1)
            for task in weights.columns:
                line, = ax.plot(epochs, weights[task], color=colors.get(task), alpha=0.8,
                                label=task if fold == 0 else None)
                colors[task] = line.get_color()
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("epoch")
        ax.set_ylabel("task weight")
        ax.set_title("GradNorm task weights (one line per fold)")
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
                        help="smoke run: speaker subset, 2 folds, 5 epochs, tiny networks")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS),
                        metavar="NAME", help=f"models to run (default all: {', '.join(MODELS)})")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0],
                        help="random_state values of the neural models (default: 0)")
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
                        help="torch threads (default: torch's; quick: 1)")
    args = parser.parse_args(argv)
    args.command = shlex.join(["python", "benchmarks/multilingual_ser.py",
                               *(sys.argv[1:] if argv is None else argv)])
    if args.n_splits is None:
        args.n_splits = QUICK_SPLITS if args.quick else 5
    if args.output is None:
        args.output = QUICK_OUTPUT if args.quick else RESULTS_DIR
    if args.quick and args.output.resolve() == RESULTS_DIR.resolve():
        parser.error("--quick must not overwrite the committed results: choose another --output")
    if args.threads is None and args.quick:
        args.threads = 1
    args.models = list(dict.fromkeys(args.models))
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    # URDU speakers mostly speak one emotion each, so the inner folds of the monolingual URDU
    # search often test a single emotion; scikit-learn's metrics warn about it on every fit.
    warnings.filterwarnings("ignore", "y_pred contains classes not in y_true")
    warnings.filterwarnings("ignore", "A single label was found")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    loads = [os.getloadavg()[0]]
    start = time.perf_counter()
    data = load_data(args)
    print(f"{len(data.frame)} utterances, features {data.X.shape}, extraction "
          f"{data.extraction_seconds:.1f} s", flush=True)

    models_start = time.perf_counter()
    runs, raw, folds, failures = run_all(args, data)
    stages = {"load": data.load_seconds, "extraction": data.extraction_seconds,
              "models": time.perf_counter() - models_start}
    results = {}
    for setting in (SPEAKER_FOLDS, LOCO):
        setting_runs = [run for run in runs if run.setting == setting]
        if setting_runs:
            results[setting] = combine(setting_runs, raw[raw["setting"] == setting],
                                       data.labels["emotion"], folds[setting])

    args.output.mkdir(parents=True, exist_ok=True)
    raw.to_csv(args.output / SCORES_NAME, index=False)
    plots = save_plots(results, runs, args.output)
    stages["total"] = time.perf_counter() - start
    loads.append(os.getloadavg()[0])
    report = render_report(args, data, results, raw, failures, stages, loads, plots)
    (args.output / REPORT_NAME).write_text(report)
    for setting, result in results.items():
        print(f"\n{setting}\n{result.to_markdown()}")
    print(f"\nreport: {args.output / REPORT_NAME} ({stages['total']:.0f} s)")

    problems = check_complete(args, raw, folds, failures)
    if problems:
        print("INCOMPLETE:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
