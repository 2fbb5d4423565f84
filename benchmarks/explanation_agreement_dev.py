"""How often attention and permutation importance agree over LLD families, on development seeds.

``tests/test_explain_ground_truth.py`` checks that a model's attention orders the LLD families
as its permutation importance does (Spearman correlation over families at least
``MIN_FAMILY_SPEARMAN``), on the scored synthetic corpora. Whether a setting can pass that check
is a rate: one network per case, and a correlation over six families. This script measures the
rate on the development seeds 5-24 (never the seeds 0-4 the tests score), for the estimator's
defaults and for ``wide=False``, each case built by the test's own ``agreement_table``: the
multilingual model ``model_for(seed, 0, **setting)`` fitted on the synthetic corpus's features,
then ``compare_with_permutation(model, features, targets, n_repeats=3, random_state=0)``.

The tests take their bars from this report (``RateBar``, as for the ground-truth rates).

Usage::

    .venv/bin/python benchmarks/explanation_agreement_dev.py           # seeds 5-24, both settings
    .venv/bin/python benchmarks/explanation_agreement_dev.py --quick   # one seed, eGeMAPSv02

Writes ``benchmarks/results/explanation_agreement_dev.md`` (``--quick``:
``benchmarks/.cache/quick/``).
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
import time
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402
from explanation_dev import (  # noqa: E402
    QUICK_OUTPUT,
    RESULTS_DIR,
    ground_truth_module,
    synthetic_features,
)

REPORT_NAME = "explanation_agreement_dev.md"
DEV_SEEDS = tuple(range(5, 25))


def agreement_case(setting: str, feature_set: str, seed: int, features, labels) -> dict:
    """The test's agreement check on one development corpus, for one of the test's
    settings (the estimator's defaults, wide=False)."""
    gt = ground_truth_module()
    start = time.perf_counter()
    table = gt.agreement_table(setting, seed, features, labels)
    spearman = float(table.attrs["spearman"])
    return {"setting": setting, "feature_set": feature_set, "seed": seed,
            "spearman": spearman, "met": spearman >= gt.MIN_FAMILY_SPEARMAN,
            "seconds": time.perf_counter() - start}


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per setting and feature set (and both: ``all``): cases met, and the correlation's
    median and range."""
    both = pd.concat([table, table.assign(feature_set="all")])
    out = both.groupby(["setting", "feature_set"], sort=False).agg(
        cases=("spearman", "size"), met=("met", "sum"), median=("spearman", "median"),
        min=("spearman", "min"), max=("spearman", "max"))
    return out.sort_index(level="setting", sort_remaining=False)


def report(table: pd.DataFrame, args) -> str:
    threshold = ground_truth_module().MIN_FAMILY_SPEARMAN
    return "\n".join([
        "# Explanation development check: attention against permutation importance",
        "",
        f"Run on {datetime.datetime.now().isoformat(timespec='minutes')}, `{args.command}`; CPU "
        f"{cpu_model()}, {os.cpu_count()} cores, load average at the end "
        f"{os.getloadavg()[0]:.1f}.",
        "",
        f"Seeds {', '.join(map(str, args.seeds))} (never the seeds 0-4 the tests score), the "
        "ground-truth tests' corpus settings, one multilingual model per case "
        "(`model_for(seed, 0, **setting)`), `compare_with_permutation(n_repeats=3, "
        "random_state=0)`. A case is met when the Spearman correlation over the LLD families "
        f"between attention and permutation importance is at least {threshold} "
        "(`MIN_FAMILY_SPEARMAN`). `defaults`: the estimator's defaults (`wide=True`, "
        "`balance='auto'`); `wide=False`: the same without the wide path.",
        "",
        "## Cases met",
        "",
        summary(table).round(2).to_markdown(),
        "",
        "## Every case",
        "",
        table.round({"spearman": 2, "seconds": 0}).to_markdown(index=False),
        "",
    ])


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: one seed, eGeMAPSv02")
    parser.add_argument("--seeds", nargs="+", type=int, default=None,
                        help="synthetic corpus seeds (default 5-24)")
    parser.add_argument("--output", type=Path, default=None,
                        help="report folder (default benchmarks/results)")
    parser.add_argument("--n-jobs", type=int, default=2, help="fits at a time (default 2)")
    args = parser.parse_args(argv)
    args.command = shlex.join(["python", "benchmarks/explanation_agreement_dev.py",
                               *(sys.argv[1:] if argv is None else argv)])
    if args.seeds is None:
        args.seeds = list(DEV_SEEDS[:1] if args.quick else DEV_SEEDS)
    if set(args.seeds) & set(ground_truth_module().SEEDS):
        parser.error("--seeds must not include the seeds the ground-truth tests score")
    args.feature_sets = ["eGeMAPSv02"] if args.quick else list(ground_truth_module().FEATURE_SETS)
    if args.output is None:
        args.output = QUICK_OUTPUT if args.quick else RESULTS_DIR
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    corpora = {(feature_set, seed): synthetic_features(feature_set, seed, args.n_jobs)
               for feature_set in args.feature_sets for seed in args.seeds}
    rows = Parallel(n_jobs=args.n_jobs)(
        delayed(agreement_case)(setting, feature_set, seed, *corpora[feature_set, seed])
        for setting in ground_truth_module().SETTINGS for (feature_set, seed) in corpora)
    table = pd.DataFrame(rows)
    print(summary(table).round(2).to_string())
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / REPORT_NAME
    path.write_text(report(table, args))
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
