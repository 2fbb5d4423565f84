"""Nested tuning protocol: choose defaults on inner speaker folds, above the noise, never on the test speakers.

For every outer fold of the benchmark's outer splitter (``CorpusSpeakerKFold(5)`` over the five
shared corpora, the folds of ``benchmarks/multilingual_ser.py``), the candidates of
:data:`CANDIDATES` are cross-validated on **inner** speaker-independent folds of that outer
fold's training speakers only (``CorpusSpeakerKFold(n_inner, shuffle=True)``: unseen speakers
of every corpus in each inner test fold). A candidate's score on an outer fold and repeat is its
inner pooled UAR: the mean over corpora of each corpus's UAR on the inner predictions pooled
over the inner folds. The outer test speakers are never fitted, predicted or scored.

**Repeats and noise.** Every outer fold is validated several times (repeats ``r = 0, 1, ...``):
repeat ``r`` draws its own speaker partition of the inner folds (``random_state=r``) and, for the
networks, its own seed (``random_state=r``); every candidate of a repeat sees the same partition.
The noise a decision is compared against is the *spread*: the standard deviation over repeats of
the challenger-minus-incumbent difference of the inner pooled UAR, within each outer fold, pooled
over the outer folds (root mean of the per-fold variances). For the networks it holds the
seed-to-seed noise (and the partition's); for deterministic models (the SVM) it is the spread over
repeated speaker partitions. The report prints it next to the incumbent's own spread over repeats.

Every question of :data:`DECISIONS` compares an incumbent (the current default) with a
challenger. **Rule**: the challenger becomes the default only if (1) its mean gain (inner pooled
UAR minus the incumbent's, averaged over repeats and outer folds) is larger than the spread, and
(2) its mean over repeats beats the incumbent's on a strict majority of the outer folds.
Otherwise the incumbent stays. A question may build on an earlier one (``after``): the loss
weighting is compared on top of the normalisation that won.

Modes (:data:`MODES`): the full protocol (5 outer folds, 3 repeats, 3 inner folds) for
decisions; ``--screen`` (outer folds 0 and 1 of the same five, 3 repeats, 3 inner folds) to try
candidates at 2/5 of the cost, whose verdicts are not decisions; ``--loco`` (the unseen-corpus
setting: ``LeaveOneCorpusOut`` outer folds, the benchmark's LOCO folds, and ``LeaveOneCorpusOut``
inner folds of each outer fold's training corpora, 3 repeats that differ in the networks' seeds)
decides what a model for unseen corpora uses; ``--quick`` (speaker subset, tiny networks) to
check the machinery.

Writes ``tuning.md`` (protocol, rule, per-outer-fold scores, decisions with the spread, wall
time of one fit of every candidate) and ``tuning_scores.csv`` (one row per outer fold, repeat,
candidate and corpus) into ``--output`` (default ``benchmarks/results``; ``--screen`` writes
``tuning_screen.md`` and ``tuning_screen_scores.csv``). Scores are appended to the CSV as they
arrive, so that an interrupted run can be resumed (``--resume``) or reported.

Usage::

    .venv/bin/python benchmarks/tune.py --candidates SVM "SVM corpus norm"  # full protocol
    .venv/bin/python benchmarks/tune.py --screen --candidates MSFL "MSFL equal"
    .venv/bin/python benchmarks/tune.py --loco --candidates "MSFL corpus norm" \
        "MSFL corpus norm adversarial"
    .venv/bin/python benchmarks/tune.py --quick                             # smoke run
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
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

sys.path.insert(0, str(Path(__file__).resolve().parent))
import multilingual_ser as bench  # noqa: E402  (the benchmark's data, folds and report helpers)

from sklearn_msfl.baselines import (  # noqa: E402
    SVM_PARAM_GRID,
    corpus_normalisation,
    make_msfl_pipeline,
    make_svm_baseline,
)
from sklearn_msfl.evaluation import evaluate  # noqa: E402
from sklearn_msfl.model_selection import CorpusSpeakerKFold, LeaveOneCorpusOut  # noqa: E402
from sklearn_msfl.msfl import MultitaskSERClassifier  # noqa: E402


@dataclass(frozen=True)
class Mode:
    outer_splits: int  # CorpusSpeakerKFold(outer_splits) over all corpora
    outer_folds: int  # the first this many of its folds are validated
    repeats: int  # inner speaker partitions, each with its own network seed
    inner_splits: int
    suffix: str  # of the output files: tuning<suffix>.md, tuning<suffix>_scores.csv
    what: str
    # outer and inner folds leave one corpus out (the unseen-corpus setting); inner_splits is
    # then the number of training corpora of an outer fold
    loco: bool = False


MODES = {
    "full": Mode(5, 5, 3, 3, "", "the full protocol, for decisions"),
    "screen": Mode(5, 2, 3, 3, "_screen", "screening: outer folds 0 and 1 of the five only, "
                   "to try candidates; its verdicts are not decisions"),
    "quick": Mode(2, 2, 2, 2, "_quick", "smoke run: speaker subset, tiny networks; the "
                  "numbers mean nothing"),
    "loco": Mode(5, 5, 3, 4, "_loco", "leave one corpus out, outer and inner: decisions for "
                 "the unseen-corpus setting", loco=True),
}


#: The modes whose verdicts are decisions; the others say what the rule would do.
DECIDING_MODES = ("full", "loco")


def output_names(mode: Mode) -> tuple[str, str]:
    """File names of the report and of the scores CSV of a mode."""
    return f"tuning{mode.suffix}.md", f"tuning{mode.suffix}_scores.csv"


# --------------------------------------------------------------------------------------------
# Candidates: edit here. A factory gets the context (speakers of every row, run-wide network
# parameters, SVM grid, the repeat's seed) and returns an unfitted estimator. Adding a network
# candidate is one entry, e.g. ``"MSFL dropout 0.5": Candidate(msfl("global", dropout=0.5),
# True, "...")``, and its question one entry of DECISIONS (incumbent "MSFL").
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Context:
    speakers: pd.DataFrame  # corpus and speaker of every row of the feature frame
    msfl_params: dict  # run-wide network parameters (quick mode)
    svm_grid: dict
    seed: int = 0  # random_state of the networks in this repeat


@dataclass(frozen=True)
class Candidate:
    factory: Callable[[Context], object]
    multitask: bool  # fitted on emotion + language (else emotion only)
    description: str


def msfl(normalisation: str, **overrides) -> Callable[[Context], object]:
    def build(context: Context):
        return make_msfl_pipeline(context.speakers, normalisation=normalisation,
                                  **{**context.msfl_params, "random_state": context.seed,
                                     **overrides})

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
    # Unseen corpora (--loco): the benchmark's "MSFL LOCO norm" and one change to it each.
    "MSFL corpus norm adversarial": Candidate(
        msfl("corpus", adversarial_tasks=("language",)), True,
        "GroupStandardScaler by corpus; the language head behind a gradient reversal, so that "
        "the shared features unlearn the corpus"),
    "MSFL corpus norm narrow": Candidate(msfl("corpus", wide=False), True,
                                         "GroupStandardScaler by corpus, no wide path"),
    "MSFL corpus norm ensemble 5": Candidate(
        msfl("corpus", n_ensemble=5), True,
        "GroupStandardScaler by corpus, the mean probabilities of 5 networks (5x the cost)"),
    # Issue 23's network candidates, each one change to the defaults. "MSFL wide", "MSFL
    # balance" and "MSFL wide balance" were decided against the former defaults (wide=False,
    # balance=None: results/tuning_network) and are the defaults now; the others are screened
    # on top of them (results/tuning_network_defaults).
    "MSFL states": Candidate(msfl("global", attention_values="states"), True,
                             "attention pools the LSTM states (attention_values='states')"),
    "MSFL both": Candidate(msfl("global", attention_values="both"), True,
                           "attention pools the LSTM states and the embeddings"),
    "MSFL scale 1": Candidate(msfl("global", feature_attention_scale=1.0), True,
                              "within-step attention scores unscaled (no saturation)"),
    "MSFL scale learned": Candidate(msfl("global", feature_attention_scale="learned"), True,
                                    "within-step attention with a learned temperature"),
    "MSFL wide": Candidate(msfl("global", wide=True), True,
                           "the shared layers also read the standardised input vector"),
    "MSFL SWA": Candidate(msfl("global", weight_averaging="swa"), True,
                          "stochastic weight averaging over the end of training"),
    "MSFL EMA": Candidate(msfl("global", weight_averaging="ema"), True,
                          "exponential moving average of the weights"),
    "MSFL members 8": Candidate(msfl("global", n_members=8), True,
                                "8 BatchEnsemble members sharing the LSTM (tabm layers)"),
    "MSFL members 32": Candidate(msfl("global", n_members=32), True,
                                 "32 BatchEnsemble members sharing the LSTM (tabm layers)"),
    "MSFL balance": Candidate(msfl("global", balance="auxiliary"), True,
                              "rows weighted so that every corpus (language) counts equally"),
    "MSFL wide balance": Candidate(msfl("global", wide=True, balance="auxiliary"), True,
                                   "the wide path and corpus balance together"),
    "MSFL smoothing": Candidate(msfl("global", label_smoothing=0.1), True,
                                "label smoothing 0.1"),
    "MSFL weight decay": Candidate(msfl("global", weight_decay=0.05), True,
                                   "AdamW weight decay 0.05 (default 1e-3)"),
    "MSFL feature dropout": Candidate(msfl("global", feature_dropout=0.1), True,
                                      "10% of the input features dropped per row in training"),
    "MSFL input noise": Candidate(msfl("global", input_noise=0.1), True,
                                  "Gaussian noise (sd 0.1) on the standardised inputs"),
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
    **{f"issue 23: {name[len('MSFL '):]}": Decision("MSFL", name)
       for name in ("MSFL states", "MSFL both", "MSFL scale 1", "MSFL scale learned",
                    "MSFL wide", "MSFL SWA", "MSFL EMA", "MSFL members 8", "MSFL members 32",
                    "MSFL balance", "MSFL smoothing", "MSFL weight decay",
                    "MSFL feature dropout", "MSFL input noise")},
    # Both adopted one at a time: is the balance still worth it on top of the wide path?
    "issue 23: balance on top of wide": Decision("MSFL wide", "MSFL wide balance"),
    # --loco: what helps on a corpus no fit has seen (the LOCO bar of issue 23)
    "unseen corpora: adversarial language": Decision("MSFL corpus norm",
                                                     "MSFL corpus norm adversarial"),
    "unseen corpora: narrow": Decision("MSFL corpus norm", "MSFL corpus norm narrow"),
    "unseen corpora: ensemble of 5": Decision("MSFL corpus norm", "MSFL corpus norm ensemble 5"),
}

#: Which candidates run first (over all repeats and outer folds) when a run is cut short.
RUN_ORDER = {"MSFL": 0, "MSFL corpus norm": 0, "SVM": 1, "SVM corpus norm": 1,
             "MSFL equal": 2, "MSFL corpus norm equal": 2}
# The other candidates (issue 23's network ones) last, repeat by repeat.
RUN_ORDER |= {name: 3 for name in CANDIDATES if name not in RUN_ORDER}


# --------------------------------------------------------------------------------------------
# Protocol
# --------------------------------------------------------------------------------------------
def outer_folds(data, mode: Mode) -> list:
    groups = data.frame[["corpus", "speaker"]]
    splitter = LeaveOneCorpusOut() if mode.loco else CorpusSpeakerKFold(mode.outer_splits)
    return list(splitter.split(data.X, groups=groups))[:mode.outer_folds]


def inner_folds(speakers: pd.DataFrame, mode: Mode, repeat: int) -> list:
    """Repeat ``repeat``'s partition of the rows of ``speakers`` (row positions): its own
    speaker partition, or with ``mode.loco`` every corpus held out once (the same in every
    repeat)."""
    splitter = LeaveOneCorpusOut() if mode.loco else CorpusSpeakerKFold(
        mode.inner_splits, shuffle=True, random_state=repeat)
    return list(splitter.split(speakers, groups=speakers.reset_index(drop=True)))


def inner_validation(name: str, outer: int, repeat: int, train: np.ndarray,
                     features: pd.DataFrame, all_labels: pd.DataFrame, context: Context,
                     mode: Mode) -> pd.DataFrame:
    """Inner pooled scores of one candidate in one repeat on the training speakers of one outer
    fold."""
    warnings.filterwarnings("ignore", "y_pred contains classes not in y_true")
    warnings.filterwarnings("ignore", "A single label was found")
    candidate = CANDIDATES[name]
    X = features.iloc[train]  # keeps the frame's index: speakers are looked up by it
    labels = all_labels.iloc[train]
    y = labels if candidate.multitask else labels["emotion"]
    inner = inner_folds(context.speakers.loc[X.index], mode, repeat)
    start = time.perf_counter()
    result = evaluate({name: candidate.factory(replace(context, seed=repeat))}, X, y,
                      languages=labels["language"].to_numpy(), cv=inner, verbose=False)
    seconds = time.perf_counter() - start
    summary = result.summary().loc[name]
    fit_time = float(result.scores.loc[result.scores["language"] == "all", "fit_time"].mean())
    rows = [{"outer_fold": outer, "repeat": repeat, "candidate": name, "language": language,
             "uar": summary.loc[language, "uar_pooled"], "wa": summary.loc[language, "wa_pooled"],
             "n_inner_folds": len(inner), "n_train": len(train),
             "fit_seconds": fit_time, "wall_seconds": seconds}
            for language in summary.index]
    rows.append({**rows[0], "language": "mean", "uar": float(result.language_mean("uar")[name]),
                 "wa": float(result.language_mean("wa")[name])})
    return pd.DataFrame(rows)


def load_done(path: Path, resume: bool, mode: Mode) -> pd.DataFrame | None:
    """The scores of an earlier run of the same mode (``--resume``), else None (file removed)."""
    if not (resume and path.is_file()):
        path.unlink(missing_ok=True)
        return None
    done = pd.read_csv(path)
    if "repeat" not in done.columns or (done["repeat"] >= mode.repeats).any() \
            or (done["outer_fold"] >= mode.outer_folds).any():
        sys.exit(f"--resume: {path} holds scores of another protocol; choose another --output")
    return done


def run(args, data) -> pd.DataFrame:
    mode = args.mode
    folds = outer_folds(data, mode)
    context = Context(
        speakers=data.frame[["corpus", "speaker"]],
        msfl_params=dict(bench.QUICK_MSFL) if args.quick else {},
        svm_grid=bench.QUICK_SVM_GRID if args.quick else SVM_PARAM_GRID,
    )
    path = args.output / output_names(mode)[1]
    done = load_done(path, args.resume, mode)
    keys = set() if done is None else set(
        zip(done["outer_fold"], done["repeat"], done["candidate"]))
    # Candidate group by group (RUN_ORDER), repeat by repeat: a run cut short has settled the
    # first questions, and on fewer repeats rather than fewer outer folds.
    todo = sorted(
        ((outer, repeat, name) for outer in range(len(folds)) for repeat in range(mode.repeats)
         for name in args.candidates if (outer, repeat, name) not in keys),
        key=lambda task: (RUN_ORDER.get(task[2], len(RUN_ORDER)), task[1], task[0], task[2]))
    args.n_run = len(todo)
    print(f"{len(todo)} inner validations to run ({len(folds)} outer folds x {mode.repeats} "
          f"repeats x {len(args.candidates)} candidates, {mode.inner_splits} inner folds each)",
          flush=True)
    tasks = (delayed(inner_validation)(name, outer, repeat, folds[outer][0], data.X,
                                       data.labels, context, mode)
             for outer, repeat, name in todo)
    for part in Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(tasks):
        part.to_csv(path, mode="a", header=not path.exists(), index=False)
        first = part.iloc[0]
        print(f"outer {first['outer_fold']} repeat {first['repeat']} {first['candidate']:24s} "
              f"inner pooled UAR {100 * part.loc[part['language'] == 'mean', 'uar'].iloc[0]:.1f}"
              f"  fit {first['fit_seconds']:.1f} s", flush=True)
    return pd.read_csv(path)


def mean_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Inner pooled UAR, indexed by (outer_fold, repeat), one column per candidate."""
    return scores[scores["language"] == "mean"].pivot(
        index=["outer_fold", "repeat"], columns="candidate", values="uar")


def compare(pair: pd.DataFrame, incumbent: str, challenger: str) -> dict:
    """The rule's quantities for one pair; ``pair`` is indexed by (outer_fold, repeat)."""
    difference = (pair[challenger] - pair[incumbent]).groupby(level="outer_fold")
    fold_gain = difference.mean()
    wins = int((fold_gain > 0).sum())
    gain = float(fold_gain.mean())
    # std over repeats within an outer fold, pooled over the outer folds; NaN with one repeat,
    # and then nothing is adopted
    spread = float(np.sqrt(difference.var(ddof=1).mean()))
    means = pair.groupby(level="outer_fold").mean().mean()
    return {
        "incumbent_mean": means[incumbent], "challenger_mean": means[challenger],
        "fold_gain": fold_gain, "gain": gain, "spread": spread,
        "incumbent_spread": float(np.sqrt(
            pair[incumbent].groupby(level="outer_fold").var(ddof=1).mean())),
        "repeats": int(pair.groupby(level="outer_fold").size().min()),
        "challenger_wins": wins, "n_outer": len(fold_gain),
        "above_noise": bool(gain > spread), "majority": wins > len(fold_gain) / 2,
    }


def decide(scores: pd.DataFrame) -> list[dict]:
    """Apply the rule to every decision whose candidates were run, in order."""
    table = mean_table(scores)
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
        outcome = compare(pair, incumbent, challenger)
        adopted = outcome["above_noise"] and outcome["majority"]
        outcomes[question] = {
            "question": question, "incumbent": incumbent, "challenger": challenger,
            **outcome, "adopted": adopted, "winner": challenger if adopted else incumbent,
            "complete": len(pair) == len(table),
        }
    return list(outcomes.values())


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
def percent(value: float, signed: bool = False) -> str:
    return "–" if np.isnan(value) else f"{100 * value:{'+' if signed else ''}.1f}"


def score_table(scores: pd.DataFrame, names: list[str]) -> str:
    by_fold = mean_table(scores).reindex(columns=names).groupby(level="outer_fold")
    means, stds = by_fold.mean(), by_fold.std(ddof=1)
    lines = ["| outer fold | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for outer, row in means.iterrows():
        cells = [percent(value) + ("" if np.isnan(stds.loc[outer, name])
                                   else f" ± {percent(stds.loc[outer, name])}")
                 for name, value in row.items()]
        cells = [f"**{cell}**" if value == row.max() else cell
                 for cell, value in zip(cells, row)]
        lines.append(f"| {outer} | " + " | ".join(cells) + " |")
    lines.append("| mean | " + " | ".join(percent(v) for v in means.mean()) + " |")
    return "\n".join(lines)


def corpus_table(scores: pd.DataFrame, names: list[str]) -> str:
    per = scores[~scores["language"].isin(["all", "mean"])]
    table = per.groupby(["candidate", "language"])["uar"].mean().unstack().reindex(names)
    languages = list(table.columns)
    lines = ["| candidate | " + " | ".join(languages) + " |",
             "|---|" + "---|" * len(languages)]
    for name, row in table.iterrows():
        lines.append(f"| {name} | " + " | ".join(percent(v) for v in row) + " |")
    return "\n".join(lines)


def decision_table(outcomes: list[dict], args) -> str:
    mode = args.mode
    lines = ["| question | incumbent | challenger | mode | repeats (seeds) x inner folds | gain per outer "
             "fold | mean inner UAR (incumbent / challenger) | mean gain | spread | gain > "
             "spread | challenger wins | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for o in outcomes:
        per_fold = ", ".join(f"{outer}: {percent(gain, signed=True)}"
                             for outer, gain in o["fold_gain"].items())
        if o["adopted"]:
            verdict = f"**adopt {o['challenger']}**"
        else:
            verdict = f"keep {o['incumbent']}"
        if args.mode_name not in DECIDING_MODES:
            verdict = f"{args.mode_name}: would {verdict.strip('*')} (not a decision)"
        if not o["complete"]:
            verdict += " (incomplete: not every outer fold and repeat ran)"
        lines.append(
            f"| {o['question']} | {o['incumbent']} | {o['challenger']} | {args.mode_name} | "
            f"{o['repeats']} x {mode.inner_splits} | {per_fold} | "
            f"{percent(o['incumbent_mean'])} / {percent(o['challenger_mean'])} | "
            f"{percent(o['gain'], signed=True)} | {percent(o['spread'])} | "
            f"{'yes' if o['above_noise'] else 'no'} | {o['challenger_wins']} of {o['n_outer']} | "
            f"{verdict} |")
    return "\n".join(lines)


def noise_table(outcomes: list[dict]) -> str:
    lines = ["| question | spread of the difference | incumbent's spread over repeats |",
             "|---|---|---|"]
    lines += [f"| {o['question']} | {percent(o['spread'])} | {percent(o['incumbent_spread'])} |"
              for o in outcomes]
    return "\n".join(lines)


def timing_table(scores: pd.DataFrame, names: list[str], mode: Mode) -> str:
    """Seconds of one fit and the CPU time the full protocol (of LOCO: its own) needs per
    candidate."""
    first = scores[scores["language"] == "mean"]
    full = mode if mode.loco else MODES["full"]
    n_full = full.outer_folds * full.repeats * full.inner_splits
    lines = ["| candidate | fit s (mean ± std over inner validations) | training rows per inner "
             f"fit (mean) | inner validations | full protocol ({n_full} fits): minutes |",
             "|---|---|---|---|---|"]
    for name in names:
        rows = first[first["candidate"] == name]
        if rows.empty:
            continue
        n_fit = (rows["n_train"] * (rows["n_inner_folds"] - 1) / rows["n_inner_folds"]).mean()
        per_fit = rows["wall_seconds"] / rows["n_inner_folds"]  # fit and predict
        lines.append(f"| {name} | {rows['fit_seconds'].mean():.1f} ± "
                     f"{rows['fit_seconds'].std():.1f} | {n_fit:.0f} | {len(rows)} | "
                     f"{n_full * per_fit.mean() / 60:.0f} |")
    return "\n".join(lines)


def folds_text(args, used: str) -> str:
    """The protocol's paragraph on the outer and inner folds of the mode."""
    mode = args.mode
    grid = (f"The SVM's grid is fixed in advance (`"
            f"{'QUICK_SVM_GRID' if args.quick else 'SVM_PARAM_GRID'}` = "
            f"`{bench.QUICK_SVM_GRID if args.quick else SVM_PARAM_GRID}`), searched on "
            "inner-inner speaker folds of every inner training part.")
    if mode.loco:
        return (
            "Outer folds: `LeaveOneCorpusOut` over all corpora, the benchmark's LOCO folds. For "
            f"every outer fold and each of **{mode.repeats} repeats** (the networks with "
            "`random_state=repeat`), each candidate is cross-validated on `LeaveOneCorpusOut` "
            "folds of that outer fold's **training corpora only**: every inner test fold is a "
            "corpus that no inner fit has seen, and the partition is the same in every repeat. "
            "Its score is the *inner pooled UAR*: the mean over the training corpora of each "
            "corpus's UAR when it was held out. The outer test corpus is never fitted, "
            "predicted or scored here. " + grid)
    return (
        f"Outer folds: {used} of `CorpusSpeakerKFold({mode.outer_splits})` over all corpora"
        + (", the benchmark's outer folds (SAVEE and CASIA, 4 speakers each, leave one speaker "
           "out within them)" if mode.outer_splits == MODES["full"].outer_splits else "")
        + f". For every outer fold and each of **{mode.repeats} repeats**, each candidate is "
        f"cross-validated on `CorpusSpeakerKFold({mode.inner_splits}, shuffle=True, "
        "random_state=repeat)` folds of that outer fold's **training speakers only** (unseen "
        "speakers of every corpus in each inner test fold; a new speaker partition per "
        "repeat, the same for every candidate), the networks with `random_state=repeat`. Its "
        "score is the *inner pooled UAR*: the mean over corpora of each corpus's UAR on the "
        "inner predictions pooled over the inner folds. The outer test speakers are never "
        "fitted, predicted or scored here. " + grid)


def render(args, data, scores, outcomes, seconds, loads) -> str:
    mode = args.mode
    names = [name for name in CANDIDATES if name in set(scores["candidate"])]
    defaults = MultitaskSERClassifier().get_params()
    corpora = ", ".join(f"{corpus} ({bench.LANGUAGES[corpus]})" for corpus in bench.CORPORA)
    scores_name = output_names(mode)[1]
    used = (f"all {mode.outer_folds}" if mode.outer_folds == mode.outer_splits
            else f"the first {mode.outer_folds} ({', '.join(map(str, range(mode.outer_folds)))})")
    lines = [
        "# Nested tuning: candidates compared on inner "
        f"{'corpus' if mode.loco else 'speaker'} folds of every outer fold",
        "",
        f"Mode: **{args.mode_name}** ({mode.what}). Run on "
        f"{datetime.datetime.now().isoformat(timespec='minutes')}, `{args.command}`.",
        "",
        "## Protocol",
        "",
        f"Data: {corpora}; emotions {', '.join(bench.DEFAULT_EMOTIONS)}; {len(data.frame)} "
        f"utterances, IS10 functionals ({data.X.shape[1]} features). The language label of "
        "RAVDESS is `en-US` and of SAVEE `en-GB`, so the auxiliary task and the per-corpus "
        "scores have one label per corpus.",
        "",
        folds_text(args, used),
        "",
        "**Noise.** The *spread* of a question is the standard deviation over repeats of the "
        "challenger-minus-incumbent difference of the inner pooled UAR within an outer fold, "
        "pooled over the outer folds (root mean of the per-fold variances). For the networks "
        "it holds the seed-to-seed noise (with the partition's); for the deterministic SVM it "
        "is the spread over repeated speaker partitions"
        + (" (none here: the LOCO partition is fixed, so only the networks' seeds vary)."
           if mode.loco else "."),
        "",
        "**Rule.** Each question compares an incumbent (the current default) with a "
        "challenger. The challenger becomes the default only if (1) its *mean gain* (inner "
        "pooled UAR minus the incumbent's, averaged over repeats and outer folds) is larger "
        "than the spread **and** (2) its mean over repeats beats the incumbent's on a strict "
        "majority of the outer folds. Otherwise the incumbent stays. The loss weighting is "
        "compared on top of the normalisation that won."
        + (" Only the full and LOCO modes decide; other modes say what the rule would do."
           if args.mode_name not in DECIDING_MODES else ""),
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
        "Mean ± standard deviation over the repeats; best candidate of each outer fold in bold "
        "(over all candidates).",
        "",
        score_table(scores, names),
        "",
        "Per corpus (inner pooled UAR, mean over outer folds and repeats):",
        "",
        corpus_table(scores, names),
        "",
        "## Decisions",
        "",
        decision_table(outcomes, args) if outcomes else "_No question with both candidates._",
        "",
        "Gains and spreads in UAR points. Spread next to the incumbent's own standard "
        "deviation over repeats (pooled over outer folds the same way):",
        "",
        noise_table(outcomes) if outcomes else "",
        "",
        "## Wall time of one fit",
        "",
        "Seconds of one `fit` on an inner training part (the SVM's include its inner grid "
        "search over every setting on 3 inner-inner folds, and the refit), measured while the "
        "machine was shared with other processes; the last column extrapolates this run's "
        "fit and predict time per inner fold to the full protocol, in one process:",
        "",
        timing_table(scores, names, mode),
        "",
        f"This invocation ran {args.n_run} of the {len(scores[scores['language'] == 'mean'])} "
        f"inner validations in {seconds:.0f} s with n_jobs={args.n_jobs}"
        + (" (the others were already in the CSV: `--resume`)" if args.resume else "")
        + f"; load average (1 min) at start / end {loads[0]:.2f} / {loads[1]:.2f}, "
        f"{os.cpu_count()} logical cores. Raw scores: `{scores_name}`.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--quick", action="store_true",
                       help="smoke run: speaker subset, 2 outer folds, 2 repeats, 2 inner folds, "
                       "tiny networks")
    modes.add_argument("--loco", action="store_true",
                       help="unseen corpora: leave one corpus out in the outer and the inner "
                       "folds, 3 repeats (seeds); decides the unseen-corpus questions")
    modes.add_argument("--screen", action="store_true",
                       help="screening: outer folds 0 and 1 of the five, 3 repeats, 3 inner "
                       "folds; verdicts are not decisions")
    parser.add_argument("--candidates", nargs="+", choices=list(CANDIDATES),
                        default=list(CANDIDATES), metavar="NAME",
                        help=f"candidates to run (default all: {', '.join(CANDIDATES)})")
    parser.add_argument("--corpora", type=Path, default=None,
                        help="shared corpora folder (default $MSFL_CORPORA or ../shared/corpora)")
    parser.add_argument("--cache", type=Path, default=bench.DEFAULT_CACHE,
                        help="IS10 feature cache folder (default benchmarks/.cache)")
    parser.add_argument("--output", type=Path, default=None,
                        help="folder for the report and the CSV (default benchmarks/results; "
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
    args.mode_name = ("quick" if args.quick else "screen" if args.screen
                      else "loco" if args.loco else "full")
    args.mode = MODES[args.mode_name]
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
    report_path = args.output / output_names(args.mode)[0]
    report_path.write_text(report)
    for o in outcomes:
        print(f"{o['question']}: {o['winner']} ({'adopted' if o['adopted'] else 'kept'}; gain "
              f"{percent(o['gain'], signed=True)}, spread {percent(o['spread'])}, wins "
              f"{o['challenger_wins']} of {o['n_outer']})")
    print(f"report: {report_path}")
    complete = scores[scores["language"] == "mean"]
    expected = args.mode.outer_folds * args.mode.repeats * len(args.candidates)
    if len(complete) < expected or not np.isfinite(complete["uar"]).all():
        print(f"INCOMPLETE: {len(complete)} of {expected} inner validations", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
