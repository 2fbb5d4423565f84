"""Nested tuning protocol: choose defaults on inner speaker folds, never on the test speakers.

For every outer fold of the benchmark's outer splitter (``CorpusSpeakerKFold(5)`` over the five
shared corpora, the folds of ``benchmarks/multilingual_ser.py``), the candidates of
:data:`CANDIDATES` are cross-validated on **inner** speaker-independent folds of that outer
fold's training speakers only (:class:`~sklearn_msfl.baselines.InnerSpeakerKFold`: unseen
speakers of every corpus in each inner test fold). A candidate's score on an outer fold is its
inner pooled UAR: the mean over corpora of each corpus's UAR on the inner predictions pooled
over the inner folds. The outer test speakers are never fitted, predicted or scored.

Every question of :data:`DECISIONS` compares an incumbent (the current default) with a
challenger. **Rule**: the challenger becomes the default only if (1) its inner pooled UAR,
averaged over the outer folds, is higher than the incumbent's, and (2) it beats the incumbent
on the inner validation of a strict majority of the outer folds. Otherwise the incumbent stays.
A question may build on an earlier one (``after``): the loss weighting is compared on top of
the normalisation that won.

Writes ``tuning.md`` (protocol, rule, per-outer-fold scores and winners, decisions, wall time of
one fit of every candidate) and ``tuning_scores.csv`` (one row per outer fold, candidate and
corpus) into ``--output`` (default ``benchmarks/results``). Scores are appended to the CSV as
they arrive, so that an interrupted run can be resumed (``--resume``) or reported.

Usage::

    .venv/bin/python benchmarks/tune.py                    # the full protocol
    .venv/bin/python benchmarks/tune.py --quick            # smoke run, < 2 minutes
    .venv/bin/python benchmarks/tune.py --candidates "SVM" "SVM corpus norm" --n-jobs 2
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

sys.path.insert(0, str(Path(__file__).resolve().parent))
import multilingual_ser as bench  # noqa: E402  (the benchmark's data, folds and report helpers)

from sklearn_msfl.baselines import (  # noqa: E402
    SVM_PARAM_GRID,
    InnerSpeakerKFold,
    corpus_normalisation,
    make_msfl_pipeline,
    make_svm_baseline,
)
from sklearn_msfl.evaluation import evaluate  # noqa: E402
from sklearn_msfl.model_selection import CorpusSpeakerKFold  # noqa: E402
from sklearn_msfl.msfl import MultitaskSERClassifier  # noqa: E402

REPORT_NAME = "tuning.md"
SCORES_NAME = "tuning_scores.csv"
OUTER_SPLITS = 5  # the benchmark's outer folds
INNER_SPLITS = 2  # inner speaker folds of every outer training part (halves of its speakers)
SEED = 0
QUICK_OUTER_SPLITS = 2
QUICK_INNER_SPLITS = 2


# --------------------------------------------------------------------------------------------
# Candidates: edit here. A factory gets the context (speakers of every row, run-wide network
# parameters, SVM grid) and returns an unfitted estimator; everything else is the defaults.
# --------------------------------------------------------------------------------------------
@dataclass
class Context:
    speakers: pd.DataFrame  # corpus and speaker of every row of the feature frame
    msfl_params: dict  # run-wide parameters (quick mode) and the seed
    svm_grid: dict


@dataclass(frozen=True)
class Candidate:
    factory: Callable[[Context], object]
    multitask: bool  # fitted on emotion + language (else emotion only)
    description: str


def msfl(normalisation: str, **overrides) -> Callable[[Context], object]:
    def build(context: Context):
        return make_msfl_pipeline(context.speakers, normalisation=normalisation,
                                  **context.msfl_params, **overrides)

    return build


def svm(normalised: bool) -> Callable[[Context], object]:
    def build(context: Context):
        steps = corpus_normalisation(context.speakers) if normalised else ()
        return make_svm_baseline(context.speakers, param_grid=context.svm_grid,
                                 preprocessing=steps)

    return build


CANDIDATES: dict[str, Candidate] = {
    "MSFL": Candidate(msfl("global"), True,
                      "estimator defaults: its own global standardisation, GradNorm"),
    "MSFL corpus norm": Candidate(msfl("corpus"), True,
                                  "GroupStandardScaler by corpus before the estimator, GradNorm"),
    "MSFL equal": Candidate(msfl("global", loss_weighting="equal"), True,
                            "global standardisation, equal task weights"),
    "MSFL corpus norm equal": Candidate(msfl("corpus", loss_weighting="equal"), True,
                                        "GroupStandardScaler by corpus, equal task weights"),
    "SVM": Candidate(svm(False), False,
                     "make_svm_baseline: StandardScaler + RBF SVC, C/gamma on inner folds"),
    "SVM corpus norm": Candidate(svm(True), False,
                                 "GroupStandardScaler by corpus before make_svm_baseline"),
}


@dataclass(frozen=True)
class Decision:
    """Incumbent vs challenger; ``after``: build on the outcome of an earlier decision."""

    incumbent: str
    challenger: str
    after: str | None = None
    # when ``after`` adopted its challenger, compare these instead
    if_changed: tuple[str, str] | None = None


DECISIONS: dict[str, Decision] = {
    "MSFL input normalisation": Decision("MSFL", "MSFL corpus norm"),
    "MSFL loss weighting": Decision("MSFL", "MSFL equal", after="MSFL input normalisation",
                                    if_changed=("MSFL corpus norm", "MSFL corpus norm equal")),
    "SVM input normalisation": Decision("SVM", "SVM corpus norm"),
}

#: Which candidates run first (over all outer folds) when the run is resumed or cut short.
RUN_ORDER = {"MSFL": 0, "MSFL corpus norm": 0, "SVM": 1, "SVM corpus norm": 1,
             "MSFL equal": 2, "MSFL corpus norm equal": 2}


# --------------------------------------------------------------------------------------------
# Protocol
# --------------------------------------------------------------------------------------------
def outer_folds(data, n_splits: int):
    groups = data.frame[["corpus", "speaker"]]
    return list(CorpusSpeakerKFold(n_splits).split(data.X, groups=groups))


def inner_validation(name: str, outer: int, train: np.ndarray, features: pd.DataFrame,
                     all_labels: pd.DataFrame, context: Context,
                     inner_splits: int) -> pd.DataFrame:
    """Inner pooled scores of one candidate on the training speakers of one outer fold."""
    warnings.filterwarnings("ignore", "y_pred contains classes not in y_true")
    warnings.filterwarnings("ignore", "A single label was found")
    candidate = CANDIDATES[name]
    X = features.iloc[train]  # keeps the frame's index: speakers are looked up by it
    labels = all_labels.iloc[train]
    y = labels if candidate.multitask else labels["emotion"]
    inner = list(InnerSpeakerKFold(context.speakers, inner_splits).split(X))
    start = time.perf_counter()
    result = evaluate({name: candidate.factory(context)}, X, y,
                      languages=labels["language"].to_numpy(), cv=inner, verbose=False)
    seconds = time.perf_counter() - start
    summary = result.summary().loc[name]
    fit_time = float(result.scores.loc[result.scores["language"] == "all", "fit_time"].mean())
    rows = [{"outer_fold": outer, "candidate": name, "language": language,
             "uar": summary.loc[language, "uar_pooled"], "wa": summary.loc[language, "wa_pooled"],
             "n_inner_folds": len(inner), "n_train": len(train),
             "fit_seconds": fit_time, "wall_seconds": seconds}
            for language in summary.index]
    rows.append({**rows[0], "language": "mean", "uar": float(result.language_mean("uar")[name]),
                 "wa": float(result.language_mean("wa")[name])})
    return pd.DataFrame(rows)


def run(args, data) -> pd.DataFrame:
    folds = outer_folds(data, args.outer_splits)
    context = Context(
        speakers=data.frame[["corpus", "speaker"]],
        msfl_params={**(bench.QUICK_MSFL if args.quick else {}), "random_state": SEED},
        svm_grid=bench.QUICK_SVM_GRID if args.quick else SVM_PARAM_GRID,
    )
    path = args.output / SCORES_NAME
    done = pd.read_csv(path) if args.resume and path.is_file() else None
    if done is None and path.exists():
        path.unlink()
    # Pair by pair (RUN_ORDER), so that an interrupted run has settled the first questions.
    todo = sorted(
        ((outer, name) for outer in range(len(folds)) for name in args.candidates
         if done is None or not ((done["outer_fold"] == outer)
                                 & (done["candidate"] == name)).any()),
        key=lambda task: (RUN_ORDER.get(task[1], len(RUN_ORDER)), task[0], task[1]))
    args.n_run = len(todo)
    print(f"{len(todo)} inner validations ({len(folds)} outer folds x "
          f"{len(args.candidates)} candidates, {args.inner_splits} inner folds each)", flush=True)
    tasks = (delayed(inner_validation)(name, outer, folds[outer][0], data.X, data.labels, context,
                                       args.inner_splits) for outer, name in todo)
    for part in Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(tasks):
        part.to_csv(path, mode="a", header=not path.exists(), index=False)
        first = part.iloc[0]
        print(f"outer {first['outer_fold']} {first['candidate']:24s} inner pooled UAR "
              f"{100 * part.loc[part['language'] == 'mean', 'uar'].iloc[0]:.1f}  "
              f"fit {first['fit_seconds']:.1f} s", flush=True)
    return pd.read_csv(path)


def decide(scores: pd.DataFrame) -> list[dict]:
    """Apply the rule to every decision whose candidates were run, in order."""
    table = scores[scores["language"] == "mean"].pivot(
        index="outer_fold", columns="candidate", values="uar")
    outcomes: dict[str, dict] = {}
    for question, decision in DECISIONS.items():
        incumbent, challenger = decision.incumbent, decision.challenger
        if decision.after and outcomes.get(decision.after, {}).get("adopted"):
            incumbent, challenger = decision.if_changed
        if decision.after and decision.after not in outcomes:
            continue
        if not {incumbent, challenger} <= set(table.columns):
            continue
        pair = table[[incumbent, challenger]].dropna()
        wins = int((pair[challenger] > pair[incumbent]).sum())
        means = pair.mean()
        adopted = bool(means[challenger] > means[incumbent] and wins > len(pair) / 2)
        outcomes[question] = {
            "question": question, "incumbent": incumbent, "challenger": challenger,
            "incumbent_mean": means[incumbent], "challenger_mean": means[challenger],
            "challenger_wins": wins, "n_outer": len(pair), "adopted": adopted,
            "winner": challenger if adopted else incumbent,
            "complete": len(pair) == table.index.nunique(),
        }
    return list(outcomes.values())


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
def score_table(scores: pd.DataFrame, names: list[str]) -> str:
    table = scores[scores["language"] == "mean"].pivot(
        index="outer_fold", columns="candidate", values="uar").reindex(columns=names)
    lines = ["| outer fold | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for outer, row in table.iterrows():
        best = row.max()
        cells = [("–" if np.isnan(v) else (f"**{100 * v:.1f}**" if v == best else
                                            f"{100 * v:.1f}")) for v in row]
        lines.append(f"| {outer} | " + " | ".join(cells) + " |")
    lines.append("| mean | " + " | ".join(
        "–" if np.isnan(v) else f"{100 * v:.1f}" for v in table.mean()) + " |")
    return "\n".join(lines)


def corpus_table(scores: pd.DataFrame, names: list[str]) -> str:
    per = scores[~scores["language"].isin(["all", "mean"])]
    table = per.groupby(["candidate", "language"])["uar"].mean().unstack().reindex(names)
    languages = list(table.columns)
    lines = ["| candidate | " + " | ".join(languages) + " |",
             "|---|" + "---|" * len(languages)]
    for name, row in table.iterrows():
        lines.append(f"| {name} | " + " | ".join(f"{100 * v:.1f}" for v in row) + " |")
    return "\n".join(lines)


def decision_table(outcomes: list[dict], scores: pd.DataFrame) -> str:
    table = scores[scores["language"] == "mean"].pivot(
        index="outer_fold", columns="candidate", values="uar")
    lines = ["| question | incumbent | challenger | winner per outer fold | mean inner UAR "
             "(incumbent / challenger) | challenger wins | decision |",
             "|---|---|---|---|---|---|---|"]
    for o in outcomes:
        pair = table[[o["incumbent"], o["challenger"]]].dropna()
        per_fold = ", ".join(
            f"{outer}: {'C' if row[o['challenger']] > row[o['incumbent']] else 'I'}"
            for outer, row in pair.iterrows())
        verdict = (f"**adopt {o['challenger']}**" if o["adopted"]
                   else f"keep {o['incumbent']}")
        if not o["complete"]:
            verdict += " (incomplete: not every outer fold ran)"
        lines.append(
            f"| {o['question']} | {o['incumbent']} | {o['challenger']} | {per_fold} | "
            f"{100 * o['incumbent_mean']:.1f} / {100 * o['challenger_mean']:.1f} | "
            f"{o['challenger_wins']} of {o['n_outer']} | {verdict} |")
    return "\n".join(lines) + "\n\nI: the incumbent won that outer fold's inner validation, " \
                              "C: the challenger did."


def timing_table(scores: pd.DataFrame, names: list[str]) -> str:
    first = scores[scores["language"] == "mean"]
    lines = ["| candidate | fit s (mean over inner fits) | training rows per inner fit "
             "(mean) | inner validations |", "|---|---|---|---|"]
    for name in names:
        rows = first[first["candidate"] == name]
        if rows.empty:
            continue
        n_fit = (rows["n_train"] * (rows["n_inner_folds"] - 1) / rows["n_inner_folds"]).mean()
        lines.append(f"| {name} | {rows['fit_seconds'].mean():.1f} ± "
                     f"{rows['fit_seconds'].std():.1f} | {n_fit:.0f} | {len(rows)} |")
    return "\n".join(lines)


def render(args, data, scores, outcomes, seconds, loads) -> str:
    names = [name for name in CANDIDATES if name in set(scores["candidate"])]
    defaults = MultitaskSERClassifier().get_params()
    corpora = ", ".join(f"{corpus} ({bench.LANGUAGES[corpus]})" for corpus in bench.CORPORA)
    quick = "**Quick smoke run** (speaker subset, tiny networks): the numbers mean nothing.\n\n"
    lines = [
        "# Nested tuning: candidates compared on inner speaker folds of every outer fold",
        "",
        (quick if args.quick else "")
        + f"Run on {datetime.datetime.now().isoformat(timespec='minutes')}, "
        f"`{args.command}`.",
        "",
        "## Protocol",
        "",
        f"Data: {corpora}; emotions {', '.join(bench.DEFAULT_EMOTIONS)}; {len(data.frame)} "
        f"utterances, IS10 functionals ({data.X.shape[1]} features). The language label of "
        "RAVDESS is `en-US` and of SAVEE `en-GB`, so the auxiliary task and the per-corpus "
        "scores have one label per corpus.",
        "",
        f"Outer folds: `CorpusSpeakerKFold({args.outer_splits})` over all corpora, the "
        "benchmark's outer folds (SAVEE and CASIA, 4 speakers each, leave one speaker out "
        "within them). For every outer fold, each candidate is cross-validated on "
        f"`InnerSpeakerKFold(n_splits={args.inner_splits})` folds of that outer fold's "
        "**training speakers only** (unseen speakers of every corpus in each inner test fold). "
        "Its score on that outer fold is the *inner pooled UAR*: the mean over corpora of each "
        "corpus's UAR on the inner predictions pooled over the inner folds. The outer test "
        "speakers are never fitted, predicted or scored here. One seed "
        f"(`random_state={SEED}`) for the networks; the SVM's grid is fixed in advance "
        f"(`{'QUICK_SVM_GRID' if args.quick else 'SVM_PARAM_GRID'}` = "
        f"`{bench.QUICK_SVM_GRID if args.quick else SVM_PARAM_GRID}`), searched on "
        "inner-inner speaker folds of every inner training part.",
        "",
        "**Rule.** Each question compares an incumbent (the current default) with a "
        "challenger. The challenger becomes the default only if (1) its inner pooled UAR "
        "averaged over the outer folds is higher than the incumbent's **and** (2) it beats "
        "the incumbent on the inner validation of a strict majority of the outer folds "
        "(3 of 5). Otherwise the incumbent stays. The loss weighting is compared on top of "
        "the normalisation that won.",
        "",
        "## Candidates",
        "",
        "| candidate | task columns | what |",
        "|---|---|---|",
        *[f"| {name} | {'emotion + language' if CANDIDATES[name].multitask else 'emotion'} "
          f"| {CANDIDATES[name].description} |" for name in names],
        "",
        "MultitaskSERClassifier defaults at this run: " + ", ".join(
            f"`{k}={v!r}`" for k, v in defaults.items() if k != "verbose"),
        "",
        "Run-wide overrides of the networks: "
        + (f"`{bench.QUICK_MSFL}`" if args.quick else "none"),
        "",
        "## Inner pooled UAR (%) per outer fold",
        "",
        "Best candidate of each outer fold in bold (over all candidates, SVM included).",
        "",
        score_table(scores, names),
        "",
        "Per corpus (inner pooled UAR, mean over outer folds):",
        "",
        corpus_table(scores, names),
        "",
        "## Decisions",
        "",
        decision_table(outcomes, scores) if outcomes else "_No complete question._",
        "",
        "## Wall time of one fit",
        "",
        "Seconds of one `fit` on an inner training part (the SVM's include its inner grid "
        "search: 16 settings x inner-inner folds, and the refit), measured while the machine "
        "was shared with other processes:",
        "",
        timing_table(scores, names),
        "",
        f"This invocation ran {args.n_run} of the {len(scores[scores['language'] == 'mean'])} "
        f"inner validations in {seconds:.0f} s with n_jobs={args.n_jobs}"
        + (" (the others were already in the CSV: `--resume`)" if args.resume else "")
        + f"; load average (1 min) at start / end {loads[0]:.2f} / {loads[1]:.2f}, "
        f"{os.cpu_count()} logical cores. Raw scores: `{SCORES_NAME}`.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: speaker subset, 2 outer and 2 inner folds, tiny networks")
    parser.add_argument("--candidates", nargs="+", choices=list(CANDIDATES),
                        default=list(CANDIDATES), metavar="NAME",
                        help=f"candidates to run (default all: {', '.join(CANDIDATES)})")
    parser.add_argument("--corpora", type=Path, default=None,
                        help="shared corpora folder (default $MSFL_CORPORA or ../shared/corpora)")
    parser.add_argument("--cache", type=Path, default=bench.DEFAULT_CACHE,
                        help="IS10 feature cache folder (default benchmarks/.cache)")
    parser.add_argument("--output", type=Path, default=None,
                        help="folder for tuning.md and the CSV (default benchmarks/results; "
                        "quick: benchmarks/.cache/quick)")
    parser.add_argument("--extraction-jobs", type=int, default=2,
                        help="openSMILE worker processes (default 2)")
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="inner validations run in parallel processes (default 1)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the scores already in the CSV and run only the missing ones")
    args = parser.parse_args(argv)
    args.command = shlex.join(["python", "benchmarks/tune.py",
                               *(sys.argv[1:] if argv is None else argv)])
    args.outer_splits = QUICK_OUTER_SPLITS if args.quick else OUTER_SPLITS
    args.inner_splits = QUICK_INNER_SPLITS if args.quick else INNER_SPLITS
    if args.output is None:
        args.output = bench.QUICK_OUTPUT if args.quick else bench.RESULTS_DIR
    if args.quick and args.output.resolve() == bench.RESULTS_DIR.resolve():
        parser.error("--quick must not overwrite the committed results: choose another --output")
    args.candidates = list(dict.fromkeys(args.candidates))
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    loads = [os.getloadavg()[0]]
    start = time.perf_counter()
    data = bench.load_data(args)
    print(f"{len(data.frame)} utterances, features {data.X.shape}", flush=True)
    args.output.mkdir(parents=True, exist_ok=True)
    scores = run(args, data)
    outcomes = decide(scores)
    loads.append(os.getloadavg()[0])
    report = render(args, data, scores, outcomes, time.perf_counter() - start, loads)
    (args.output / REPORT_NAME).write_text(report)
    for outcome in outcomes:
        print(f"{outcome['question']}: {outcome['winner']} "
              f"({'adopted' if outcome['adopted'] else 'kept'})")
    print(f"report: {args.output / REPORT_NAME}")
    complete = scores[scores["language"] == "mean"]
    expected = args.outer_splits * len(args.candidates)
    if len(complete) < expected or not np.isfinite(complete["uar"]).all():
        print(f"INCOMPLETE: {len(complete)} of {expected} inner validations", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
