"""Development check of the explanation: within-step attention variants on unscored seeds.

The ground-truth tests (``tests/test_explain_ground_truth.py``) score the explanation of a
default model on synthetic corpora of seeds 0-4. The one network setting chosen for the
explanation, the factor of :class:`~sklearn_msfl.msfl.FeatureAttention`'s scores
(``logit_scale``), was chosen here, on other seeds (5-9 by default), with the tests' own
corpus settings and checks (imported from the test module, not copied):

* ``shared cue``: the multilingual model's attention ranks pitch first, at more than 1.5 times
  its share of the features, and pitch makes most of the top 5 features;
* ``own cues``: apart from pitch, each language's monolingual model attends to its own cue
  more than its share and more than the other languages' models do.

Both averaged over three initialisations, as in the tests. The candidates are the scores
unscaled (``1``, the incumbent: the scaling's rule before this check, though with the learnt
per-feature prior that came with it), ``2 ln k`` for steps of ``k`` features, and two constants.
The rule: the candidate meeting the most cases over both feature sets becomes the default.
Ties are broken on five more seeds (10-14) run for the tied candidates only (``--seeds 10 11
12 13 14 --candidates ... --report explanation_dev_tiebreak.md``); a tie there keeps the
incumbent. (The first run tied the incumbent and ``2 ln k``; the tie-break was added then,
before its seeds were run.)

Round 2 (``--round 2``), added when the six unmet ground-truth cases were studied on seeds
5-14: a monolingual model makes about 120 optimizer steps (60 utterances, 60 epochs), too few
for ``2 ln k`` to move IS10's 99-feature steps away from uniform (a loudness-language model
gave its step of loudness and MFCC 0-3 functionals weights in proportion to their counts, so
the MFCC family, which holds the tilt cue, got weight it spilt from loudness). Challengers
``k`` and ``20 ln k`` against the incumbent ``2 ln k``, on seeds 5-14 and on seeds 15-24 (never
run before this round). The rule, written before the run: a challenger replaces the incumbent
only if it meets more cases than the incumbent on seeds 5-14 *and* on seeds 15-24 (a
replication, since one case turns on three initialisations); if both qualify, the one with
more cases over all seeds; otherwise the incumbent stays. The
column ``concentration`` is the median over steps of the top within-step weight times ``k``
(1 = uniform weights), the median over the three multilingual models of a case.

Round 3 (``--round 3``): the within-step scores without their value term (``value_term=False``:
each feature's score is its own, the same for every utterance, a learnt importance), against
the incumbent ``k``, on seeds 5-24 under round 2's rule. It was tried because the IS10 tilt
cases need weights that single out a cue's features; scratch runs of it on seeds 5-24 had been
looked at before this round was written, so the round records the decision under the rule
fixed in round 2 rather than a fresh test.

Round 4 (``--round 4``): no candidate scaling. The tuning protocol on real speech
(``benchmarks/tune.py``) made the wide path (``wide=True``) and corpus balance
(``balance="auto"``) the estimator's defaults, so the tests' rate bars had to be measured
again: this round measures the rate of the new defaults and of ``wide=False`` (every input
through the attention, the setting the docs recommend for explanations), on seeds 5-24. It
decides nothing; the tests take their bars from it.

Usage::

    .venv/bin/python benchmarks/explanation_dev.py            # seeds 5-9, four candidates
    .venv/bin/python benchmarks/explanation_dev.py --round 2  # seeds 5-24, three scalings
    .venv/bin/python benchmarks/explanation_dev.py --round 3  # seeds 5-24, value term or not
    .venv/bin/python benchmarks/explanation_dev.py --round 4  # seeds 5-24, defaults, wide=False
    .venv/bin/python benchmarks/explanation_dev.py --quick    # smoke run: one seed, eGeMAPSv02

Writes ``benchmarks/results/explanation_dev.md`` (round 2: ``explanation_dev_round2.md``,
round 3: ``explanation_dev_round3.md``, round 4: ``explanation_dev_round4.md``; ``--quick``: ``benchmarks/.cache/quick/``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import math
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
TESTS_DIR = REPO_ROOT / "tests"
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
QUICK_OUTPUT = REPO_ROOT / "benchmarks" / ".cache" / "quick"
CACHE = REPO_ROOT / "benchmarks" / ".cache" / "synthetic"
REPORT_NAME = "explanation_dev.md"

DEV_SEEDS = (5, 6, 7, 8, 9)
ROUND2_SEEDS = tuple(range(5, 25))
ROUND2_REPORT = "explanation_dev_round2.md"
ROUND3_SEEDS = ROUND2_SEEDS
ROUND3_REPORT = "explanation_dev_round3.md"
ROUND4_SEEDS = ROUND2_SEEDS
ROUND4_REPORT = "explanation_dev_round4.md"


def _two_ln_k(k: int) -> float:
    return 2.0 * math.log(k)


def _linear_k(k: int) -> float:
    return float(k)


def _twenty_ln_k(k: int) -> float:
    return 20.0 * math.log(k)


#: logit_scale of FeatureAttention per candidate: a constant, or a rule of the step's
#: feature count k (rounds 1, 2). The incumbent of each round comes first (it wins ties).
CANDIDATES = {"1 (unscaled)": 1.0, "2 ln k": _two_ln_k, "10": 10.0, "20": 20.0}
ROUND2_CANDIDATES = {"2 ln k": _two_ln_k, "k": _linear_k, "20 ln k": _twenty_ln_k}
#: Round 3: other FeatureAttention arguments than the scale (a dict of them).
ROUND3_CANDIDATES = {"k": {}, "k, no value term": {"value_term": False}}


class EstimatorParams(dict):
    """A round 4 candidate: MultitaskSERClassifier parameters, not FeatureAttention's."""


ROUND4_CANDIDATES = {"defaults": EstimatorParams(), "wide=False": EstimatorParams(wide=False)}
ROUNDS = {1: CANDIDATES, 2: ROUND2_CANDIDATES, 3: ROUND3_CANDIDATES, 4: ROUND4_CANDIDATES}
TASKS = ("multilingual", "monolingual")
#: The two checks of a case, columns of the report's table ("met" or why not).
CHECKS = ("shared cue", "own cues")


def ground_truth_module():
    """The test module that defines the corpus settings and the checks."""
    if str(TESTS_DIR) not in sys.path:
        sys.path.insert(0, str(TESTS_DIR))
    import test_explain_ground_truth

    return test_explain_ground_truth


@contextlib.contextmanager
def feature_attention_variant(variant):
    """Networks built inside get a FeatureAttention variant: a ``logit_scale`` constant, a
    rule of the step's feature count (called with it), a dict of FeatureAttention
    arguments (round 3), or None for the library's default."""
    from sklearn_msfl.msfl import _network as network

    default = network.FeatureAttention

    def with_rule(n_steps, patch_size, *args, **kwargs):
        return default(n_steps, patch_size, *args, logit_scale=variant(patch_size), **kwargs)

    if isinstance(variant, dict):
        network.FeatureAttention = functools.partial(default, **variant)
    elif callable(variant):
        network.FeatureAttention = with_rule
    elif variant is not None:
        network.FeatureAttention = functools.partial(default, logit_scale=variant)
    try:
        yield
    finally:
        network.FeatureAttention = default


def explain_with_variant(variant, task, initialisation, seed, features, labels):
    """The test's explain_one with a FeatureAttention variant (feature_attention_variant)
    or, for round 4, with estimator parameters."""
    # Round 4's candidates change the estimator, not FeatureAttention.
    params, variant = (variant, None) if isinstance(variant, EstimatorParams) else ({}, variant)
    with feature_attention_variant(variant):
        model, ranking = ground_truth_module().explain_one(
            task, initialisation, seed, features, labels, **params)
    return task, concentration(model, features) if model is not None else None, ranking


def concentration(model, features) -> float:
    """Median over steps of the top within-step weight times the step's feature count."""
    weights = model.attention_weights(features).mean(axis=0)
    patch = model.net_.module_.patch_size
    steps = np.pad(weights, (0, -len(weights) % patch)).reshape(-1, patch)
    return float(np.median(steps.max(axis=1) / steps.sum(axis=1) * (steps > 0).sum(axis=1)))


def synthetic_features(feature_set: str, seed: int, n_jobs: int):
    """The tests' synthetic corpus of ``seed`` as openSMILE features, cached on disk."""
    from sklearn_msfl.datasets import make_emotional_speech
    from sklearn_msfl.features import OpenSmileTransformer

    signals, labels = make_emotional_speech(**ground_truth_module().CORPUS, random_state=seed)
    smile = OpenSmileTransformer(feature_set=feature_set, cache=CACHE, n_jobs=n_jobs,
                                 verbose=False)
    features = pd.DataFrame(smile.fit_transform(signals), columns=smile.get_feature_names_out())
    return features, labels


def run_case(variant, feature_set, seed, features, labels, n_jobs) -> dict:
    """Both checks of one (candidate, feature set, seed), fits ``n_jobs`` at a time."""
    gt = ground_truth_module()
    jobs = [(task, i) for task in TASKS for i in range(gt.N_INITIALISATIONS)]
    start = time.perf_counter()
    outputs = Parallel(n_jobs=n_jobs)(
        delayed(explain_with_variant)(variant, task, i, seed, features, labels)
        for task, i in jobs)
    rankings = {task: [ranking for name, _, ranking in outputs if name == task] for task in TASKS}
    shared = gt.shared_cue_failure(rankings["multilingual"])
    own = gt.own_cue_failure(rankings["monolingual"])
    return {
        "feature_set": feature_set, "seed": seed,
        "shared cue": "met" if shared is None else f"no: {shared}",
        "own cues": "met" if own is None else f"no: {own}",
        "concentration": np.median([c for name, c, _ in outputs if name == "multilingual"]),
        "seconds": time.perf_counter() - start,
    }


def round2_decision(met: pd.DataFrame) -> str:
    """The rule of rounds 2 and 3: a challenger must beat the incumbent on seeds 5-14 and
    on 15-24."""
    halves = met.assign(seeds=np.where(met["seed"] < 15, "5-14", "15-24"))
    counts = halves.groupby(["candidate", "seeds"], sort=False)["n_met"].sum().unstack()
    incumbent, *challengers = list(dict.fromkeys(met["candidate"]))
    both_halves = set(counts.columns) == {"5-14", "15-24"}
    qualified = [name for name in challengers
                 if both_halves and (counts.loc[name] > counts.loc[incumbent]).all()]
    winner = max(qualified, key=lambda name: counts.loc[name].sum(), default=incumbent)
    per_half = "; ".join(f"{name}: {counts.loc[name, '5-14']} on seeds 5-14, "
                         f"{counts.loc[name, '15-24']} on 15-24" for name in counts.index
                         ) if both_halves else "one half only"
    return (f"a challenger replaces the incumbent ({incumbent}) only if it meets more cases "
            f"on seeds 5-14 and on seeds 15-24 ({per_half}): **{winner}**.")


def cases_met(table: pd.DataFrame) -> pd.Series:
    """How many of its two checks each row (candidate, feature set, seed) meets."""
    return sum((table[check] == "met").astype(int) for check in CHECKS)


def report(table: pd.DataFrame, args) -> str:
    met = table.assign(n_met=cases_met(table))
    totals = met.groupby(["candidate", "feature_set"], sort=False)["n_met"].sum().unstack()
    totals["all"] = totals.sum(axis=1)
    n_cases = 2 * len(args.seeds)
    leaders = list(totals.index[totals["all"] == totals["all"].max()])
    if args.round == 4:
        decision = ("none: the tuning protocol chose the defaults; this round measures the "
                    "rates the tests' bars come from.")
    elif args.round in (2, 3):
        decision = round2_decision(met)
    elif len(leaders) == 1 or args.report != REPORT_NAME:  # a tie-break run: the incumbent stays
        decision = f"the candidate meeting the most cases becomes the default: **{leaders[0]}**."
    else:
        decision = (f"the candidate meeting the most cases becomes the default: a tie between "
                    f"{' and '.join(leaders)} ({totals['all'].max()} each), broken on seeds "
                    "10-14 (`explanation_dev_tiebreak.md`).")
    lines = [
        "# Explanation development check: "
        + {3: "within-step attention scores with or without their value term",
           4: "the rates at the defaults and at wide=False"}.get(
            args.round, "within-step attention scalings"),
        "",
        f"Run on {datetime.datetime.now().isoformat(timespec='minutes')}, "
        f"`{args.command}`; CPU {cpu_model()}, {os.cpu_count()} cores, load average at the "
        f"end {os.getloadavg()[0]:.1f}.",
        "",
        f"Seeds {', '.join(map(str, args.seeds))} (never the seeds 0-4 the ground-truth tests "
        "score), the tests' corpus settings and checks, attention averaged over three "
        "initialisations. "
        + {3: "`value_term=False` drops the utterance's values from FeatureAttention's "
              "scores; everything else is the estimator's defaults.",
           4: "`defaults`: the estimator's defaults (`wide=True`, `balance='auto'` since the "
              "tuning protocol chose them); `wide=False`: the same without the wide path."}.get(
            args.round, "`logit_scale` multiplies FeatureAttention's scores before the soft "
                        "cap; everything else is the estimator's defaults."),
        "",
        f"## Cases met (of {n_cases} per feature set: shared cue and own cues per seed)",
        "",
        totals.to_markdown(),
        "",
        f"Rule: {decision}",
        "",
        "## Every case",
        "",
        table.round({"concentration": 2, "seconds": 0}).to_markdown(index=False),
        "",
    ]
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--round", type=int, choices=tuple(ROUNDS), default=1,
                        help="1: the first scalings, seeds 5-9; 2: k and 20 ln k, seeds 5-24; "
                             "3: k without the value term, seeds 5-24; 4: the defaults and "
                             "wide=False, seeds 5-24")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: one seed, eGeMAPSv02, two candidates")
    parser.add_argument("--seeds", nargs="+", type=int, default=None,
                        help="synthetic corpus seeds (default 5-9; rounds 2-4: 5-24)")
    parser.add_argument("--output", type=Path, default=None,
                        help="report folder (default benchmarks/results)")
    parser.add_argument("--candidates", nargs="+", choices=list(
                            {name: 0 for candidates in ROUNDS.values() for name in candidates}),
                        default=None,
                        metavar="NAME", help="candidates (default all of the round's)")
    parser.add_argument("--report", default=None,
                        help=f"report file name (default {REPORT_NAME}, round 2 {ROUND2_REPORT}, "
                             f"round 3 {ROUND3_REPORT}, round 4 {ROUND4_REPORT})")
    parser.add_argument("--n-jobs", type=int, default=2, help="fits at a time (default 2)")
    args = parser.parse_args(argv)
    args.command = shlex.join(["python", "benchmarks/explanation_dev.py",
                               *(sys.argv[1:] if argv is None else argv)])
    candidates = ROUNDS[args.round]
    if args.report is None:
        args.report = {2: ROUND2_REPORT, 3: ROUND3_REPORT, 4: ROUND4_REPORT}.get(
            args.round, REPORT_NAME)
    if args.seeds is None:
        seeds = {2: ROUND2_SEEDS, 3: ROUND3_SEEDS, 4: ROUND4_SEEDS}.get(args.round, DEV_SEEDS)
        args.seeds = list(seeds[:1] if args.quick else seeds)
    if set(args.seeds) & set(ground_truth_module().SEEDS):
        parser.error("--seeds must not include the seeds the ground-truth tests score")
    args.feature_sets = ["eGeMAPSv02"] if args.quick else list(ground_truth_module().FEATURE_SETS)
    if args.candidates is None:
        args.candidates = list(candidates)[:2] if args.quick else list(candidates)
    unknown = set(args.candidates) - set(candidates)
    if unknown:
        parser.error(f"round {args.round} has no candidates {sorted(unknown)}")
    # In the round's order, so that the incumbent stays first (it wins ties).
    args.candidates = [name for name in candidates if name in args.candidates]
    args.rules = candidates
    if args.output is None:
        args.output = QUICK_OUTPUT if args.quick else RESULTS_DIR
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    rows = []
    for feature_set in args.feature_sets:
        for seed in args.seeds:
            features, labels = synthetic_features(feature_set, seed, args.n_jobs)
            for name in args.candidates:
                row = run_case(args.rules[name], feature_set, seed, features, labels, args.n_jobs)
                rows.append({"candidate": name, **row})
                print(name, row, flush=True)
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / args.report
    path.write_text(report(pd.DataFrame(rows), args))
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
