"""Benchmark: the tuned SVM baseline of today against the one before, side by side.

:func:`~sklearn_msfl.baselines.make_svm_baseline` (StandardScaler + RBF SVC, ``C`` and
``gamma`` chosen on inner speaker folds by UAR) searched a 16-point grid, :data:`OLD_GRID`;
it now searches :data:`~sklearn_msfl.baselines.SVM_PARAM_GRID`, chosen from the old search's
inner-fold results (see :data:`REASONING`). This script fits both on the benchmark's outer
folds (``benchmarks/multilingual_ser.py``: ``CorpusSpeakerKFold(5)`` on the five corpora, IS10
features from its cache), old and new interleaved (the order alternates from fold to fold),
for both input normalisations of the benchmark (``corpus``: its pooled SVM row; ``global``: its
other SVM rows and the README's example), and writes ``svm_speed.md``: the time ratio new /
old, the pooled UAR of both (the mean over corpora of the UAR on the predictions pooled over
the folds) and their paired per-fold difference, the old search's inner-fold results (what the
new grid was chosen from), the load and the command.

Usage::

    .venv/bin/python benchmarks/svm_speed.py --cache benchmarks/.cache
    .venv/bin/python benchmarks/svm_speed.py --quick --output /tmp/svm_speed   # smoke run
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

sys.path.insert(0, str(Path(__file__).resolve().parent))
import multilingual_ser as benchmark  # noqa: E402  (its data and folds)
from _machine import cpu_model  # noqa: E402

from sklearn_msfl.baselines import (  # noqa: E402
    SVM_PARAM_GRID,
    InnerSpeakerKFold,
    corpus_normalisation,
    make_svm_baseline,
)
from sklearn_msfl.metrics import uar_score, uar_scorer  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
REPORT_NAME = "svm_speed.md"
NORMALISATIONS = ("corpus", "global")
VERSIONS = ("old", "new")
INNER_SPLITS = benchmark.INNER_SPLITS

#: The grid of make_svm_baseline before issue 25, searched by the old baseline here.
OLD_GRID = {"svc__C": [0.1, 1.0, 10.0, 100.0], "svc__gamma": ["scale", 1e-4, 1e-3, 1e-2]}

#: Why the new grid is what it is: written from the old search's inner-fold results (the
#: ``cv_results_`` of every outer fold, both normalisations; the same numbers as the table
#: "Inner-fold results of the old search" of the report) before the new grid was measured.
REASONING = """\
Written before the side-by-side run, from the old search's `cv_results_` on the five outer
training folds with both normalisations (10 searches; run alone, one after the other, on the
same folds and features as below, so its numbers are those of the tables "Inner-fold results
of the old search"; no outer test fold was scored for it):

- `gamma=1e-2` scored at chance (25-26 %) at every `C` in all 10 searches: with 1582
  standardised features its kernel is almost the identity matrix. Dropped.
- The best `C=0.1` point of each search was 11-19 points below the search's best, the best
  `C=1` point 0.7-2.7 points; neither won. Dropped.
- `gamma=1e-3` never won: its best point was 3.0-4.5 points below the search's best with
  per-corpus normalisation, 0.3-1.9 with global; its mean over the outer folds 3 and 1 point
  below the best mean. Dropped.
- What won: `gamma=1e-4` in 5 of 5 searches with per-corpus normalisation (`C=10` twice,
  `C=100` three times) and in 1 of 5 with global (`C=10`); `gamma="scale"` (1 / (1582 * var),
  about 6.3e-4 after the scaler) with `C=10` in 4 of 5 with global. Between these four points
  the surface is flat: their means differ by at most 0.5 point (per-corpus) and 2 points
  (global).
- With `gamma="scale"`, `C=10` and `C=100` gave the same inner UAR in all 10 searches: the
  margin constraints do not bind there, so the larger `C` changes nothing. It stays in the
  grid so that data where it matters still get it (a quarter of the new grid's fits).

New grid: `C` in (10, 100), `gamma` in ("scale", 1e-4), in the old grid's order, so ties are
broken as before: wherever the old search's winner lies in the new grid (all 10 searches
above), the new search picks it too and predicts the same. 4 points instead of 16: 12 inner
fits and a refit instead of 48 and a refit, and the points dropped include the slowest ones
(`gamma=1e-2`, `C=0.1`). A larger `cache_size` would not help: an inner training fold's
kernel matrix (about 1300 rows, float32, 7 MB) already fits libsvm's default 200 MB cache.
Successive halving (`HalvingGridSearchCV`) was not needed, and it would choose `C` on
subsamples, where the best `C` of an SVM differs from the full fold's."""


def old_baseline(speakers: pd.DataFrame, preprocessing) -> GridSearchCV:
    """make_svm_baseline as it was: StandardScaler + SVC, OLD_GRID, inner speaker folds."""
    return GridSearchCV(
        make_pipeline(*preprocessing, StandardScaler(), SVC(kernel="rbf")),
        OLD_GRID,
        scoring=uar_scorer,
        cv=InnerSpeakerKFold(speakers, INNER_SPLITS),
    )


def build(version: str, normalisation: str, speakers: pd.DataFrame) -> GridSearchCV:
    steps = corpus_normalisation(speakers) if normalisation == "corpus" else ()
    if version == "old":
        return old_baseline(speakers, steps)
    return make_svm_baseline(speakers, n_splits=INNER_SPLITS, preprocessing=steps)


def fit_one(version, normalisation, data, fold, train, test) -> dict:
    """Fit one version on one outer fold; predictions, times, load and the search results."""
    speakers = data.frame[["corpus", "speaker"]]
    search = build(version, normalisation, speakers)
    y = data.labels["emotion"]
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    search.fit(data.X.iloc[train], y.iloc[train])
    fit_seconds = time.perf_counter() - start
    y_pred = search.predict(data.X.iloc[test])
    inner = pd.DataFrame(search.cv_results_).drop(columns="params")
    inner = inner.assign(version=version, normalisation=normalisation, fold=fold)
    best = {key.removeprefix("svc__"): f"{value:g}" if isinstance(value, float) else value
            for key, value in search.best_params_.items()}
    return {
        "version": version, "normalisation": normalisation, "fold": fold,
        "fit_seconds": fit_seconds, "load_before": load_before,
        "load_after": os.getloadavg()[0], "best": best, "best_inner_uar": search.best_score_,
        "predictions": pd.DataFrame({"sample": test, "y_true": y.iloc[test].to_numpy(),
                                     "y_pred": y_pred}),
        "inner": inner,
    }


def run(args, data, folds) -> list[dict]:
    records = []
    for normalisation in args.normalisations:
        for fold in args.folds:
            train, test = folds[fold]
            order = VERSIONS if fold % 2 == 0 else VERSIONS[::-1]  # interleaved
            for version in order:
                record = fit_one(version, normalisation, data, fold, train, test)
                records.append(record)
                print(f"{normalisation:6s} fold {fold} {version}: {record['fit_seconds']:7.1f} s"
                      f", best {record['best']}, load {record['load_before']:.1f} -> "
                      f"{record['load_after']:.1f}", flush=True)
    return records


# --------------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------------
def predictions_frame(records, data) -> pd.DataFrame:
    frames = [record["predictions"].assign(version=record["version"],
                                           normalisation=record["normalisation"],
                                           fold=record["fold"])
              for record in records]
    frame = pd.concat(frames, ignore_index=True)
    frame["corpus"] = data.frame["corpus"].to_numpy()[frame["sample"].to_numpy()]
    return frame


def corpus_mean_uar(predictions: pd.DataFrame) -> float:
    """The mean over corpora of each corpus's UAR on these predictions."""
    return float(np.mean([uar_score(group["y_true"], group["y_pred"])
                          for _, group in predictions.groupby("corpus")]))


def scores(predictions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pooled UAR per normalisation and version, and the per-fold mean over corpora."""
    keys = ["normalisation", "version"]
    pooled = predictions.groupby(keys).apply(corpus_mean_uar, include_groups=False)
    per_fold = predictions.groupby([*keys, "fold"]).apply(corpus_mean_uar,
                                                          include_groups=False)
    return pooled.unstack("version"), per_fold.unstack("version")


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
def markdown(frame: pd.DataFrame, floatfmt=".1f") -> str:
    return frame.to_markdown(floatfmt=floatfmt)


def time_section(records) -> list[str]:
    times = pd.DataFrame([{k: r[k] for k in ("normalisation", "fold", "version", "fit_seconds",
                                               "load_before", "load_after")}
                          for r in records])
    table = times.pivot_table(index=["normalisation", "fold"], columns="version",
                              values="fit_seconds")[list(VERSIONS)]
    table["new / old"] = table["new"] / table["old"]
    totals = times.groupby(["normalisation", "version"])["fit_seconds"].sum().unstack()
    totals = totals[list(VERSIONS)]
    totals["new / old"] = totals["new"] / totals["old"]
    overall = totals["new"].sum() / totals["old"].sum()
    loads = times.assign(load=times["load_before"].map("{:.1f}".format) + " -> "
                         + times["load_after"].map("{:.1f}".format))
    loads = loads.pivot(index=["normalisation", "fold"], columns="version",
                        values="load")[list(VERSIONS)]
    return [
        "## Fit time (search and refit on the outer training folds)",
        "",
        f"**new / old = {overall:.3f}** over all fits (goal <= 0.33).",
        "",
        markdown(totals.rename(columns={"old": "old (s)", "new": "new (s)"}), ".3g"),
        "",
        "Per fold (seconds; the version listed first in the load table ran first):",
        "",
        markdown(table, ".3g"),
        "",
        "1-minute load average before -> after each fit:",
        "",
        markdown(loads),
    ]


def uar_section(predictions) -> list[str]:
    pooled, per_fold = scores(predictions)
    pooled = 100 * pooled[list(VERSIONS)]
    pooled["new - old (pp)"] = pooled["new"] - pooled["old"]
    per_fold = 100 * per_fold[list(VERSIONS)]
    per_fold["new - old (pp)"] = per_fold["new"] - per_fold["old"]
    mean_diff = per_fold.groupby("normalisation")["new - old (pp)"].agg(["mean", "min", "max"])
    per_corpus = predictions.groupby(["normalisation", "corpus", "version"]).apply(
        lambda g: 100 * uar_score(g["y_true"], g["y_pred"]), include_groups=False
    ).unstack("version")[list(VERSIONS)]
    per_corpus["new - old (pp)"] = per_corpus["new"] - per_corpus["old"]
    return [
        "## UAR on the outer test folds",
        "",
        "Pooled UAR: the mean over corpora of each corpus's UAR on its predictions pooled over "
        "the folds (goal: new - old >= -0.5 pp).",
        "",
        markdown(pooled),
        "",
        "Per fold: the mean over the corpora tested in that fold of their UAR in that fold.",
        "",
        markdown(per_fold),
        "",
        "Paired per-fold differences new - old (pp):",
        "",
        markdown(mean_diff),
        "",
        "Per corpus, pooled over the folds:",
        "",
        markdown(per_corpus),
    ]


def inner_section(records) -> list[str]:
    old = [record for record in records if record["version"] == "old"]
    inner = pd.concat([record["inner"] for record in old], ignore_index=True)
    inner["C"] = inner["param_svc__C"].astype(float)
    inner["gamma"] = inner["param_svc__gamma"].astype(str)
    lines = ["## Inner-fold results of the old search (what the new grid was chosen from)", ""]
    for normalisation, part in inner.groupby("normalisation", sort=False):
        surface = 100 * part.pivot_table(index="C", columns="gamma", values="mean_test_score",
                                         aggfunc="mean")
        spread = 100 * part.pivot_table(index="C", columns="gamma", values="mean_test_score",
                                        aggfunc="std")
        seconds = part.pivot_table(index="C", columns="gamma", values="mean_fit_time",
                                   aggfunc="mean")
        winners = pd.DataFrame(
            [{"fold": r["fold"], "C": r["best"]["C"], "gamma": r["best"]["gamma"],
              "inner UAR": 100 * r["best_inner_uar"]}
             for r in old if r["normalisation"] == normalisation]).set_index("fold")
        lines += [
            f"### {normalisation} normalisation",
            "",
            "Winner of every outer fold's search:",
            "",
            markdown(winners),
            "",
            "Mean inner UAR (%) over the outer folds (rows C, columns gamma):",
            "",
            markdown(surface),
            "",
            "Its standard deviation over the outer folds:",
            "",
            markdown(spread),
            "",
            "Mean seconds per inner fit:",
            "",
            markdown(seconds, ".2f"),
            "",
        ]
    new = pd.DataFrame([{"normalisation": r["normalisation"], "fold": r["fold"],
                         "C": r["best"]["C"], "gamma": r["best"]["gamma"],
                         "inner UAR": 100 * r["best_inner_uar"]}
                        for r in records if r["version"] == "new"])
    lines += ["### The new search's choices", "", markdown(new.set_index(["normalisation",
                                                                         "fold"])), ""]
    return lines


def render(args, data, records, predictions, seconds, loads) -> str:
    import opensmile

    counts = data.frame.groupby("corpus").size()
    lines = [
        "# The tuned SVM baseline: new grid against old, side by side",
        "",
        f"Run on {datetime.datetime.now().isoformat(timespec='minutes')} by "
        f"`benchmarks/svm_speed.py` in {seconds / 60:.1f} min.",
        "",
        f"Command: `{args.command}`",
        "",
        "## Protocol",
        "",
        f"{len(data.frame)} utterances ("
        + ", ".join(f"{corpus} {counts[corpus]}" for corpus in benchmark.CORPORA
                    if corpus in counts)
        + f"), 4 emotions, IS10 functionals ({data.X.shape[1]} features) from the feature "
        "cache, the outer folds of `benchmarks/multilingual_ser.py` (`CorpusSpeakerKFold(5)` "
        f"on the five corpora; folds run: {args.folds}). Both searches score UAR on "
        f"{INNER_SPLITS} inner speaker folds (`InnerSpeakerKFold`) and refit on the whole "
        "outer training fold; `n_jobs=None` (one process). Old and new run one after the "
        "other on every fold, old first on even folds, new first on odd folds.",
        "",
        f"- old: `StandardScaler + SVC(kernel='rbf')`, grid `{OLD_GRID}`",
        f"- new: `make_svm_baseline()`, grid `{SVM_PARAM_GRID}`, SVC "
        f"`{make_svm_baseline().estimator[-1]}`",
        "",
        "Normalisations: `corpus` (every corpus standardised on its own statistics before the "
        "scaler: the benchmark's pooled SVM row), `global` (the scaler alone: the README "
        "example and the benchmark's other SVM rows).",
        "",
        *time_section(records),
        "",
        *uar_section(predictions),
        "",
        "## Why the new grid",
        "",
        REASONING,
        "",
        *inner_section(records),
        "## Machine",
        "",
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores "
        f"({len(os.sched_getaffinity(0))} available)",
        f"- 1-minute load average at start / end: {loads[0]:.2f} / {loads[1]:.2f} (the machine "
        "is shared with other processes)",
        f"- Python {platform.python_version()}, scikit-learn {sklearn.__version__}, numpy "
        f"{np.__version__}, pandas {pd.__version__}, opensmile {opensmile.__version__}",
        "",
    ]
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=None,
                        help="shared corpora folder (default $MSFL_CORPORA or ../shared/corpora)")
    parser.add_argument("--cache", type=Path, default=benchmark.DEFAULT_CACHE,
                        help="IS10 feature cache folder (default benchmarks/.cache)")
    parser.add_argument("--normalisations", nargs="+", choices=NORMALISATIONS,
                        default=list(NORMALISATIONS))
    parser.add_argument("--folds", nargs="+", type=int, default=None,
                        help="outer folds to run (default all five)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: the benchmark's --quick speaker subset, one fold")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR,
                        help="folder for svm_speed.md (default benchmarks/results)")
    args = parser.parse_args(argv)
    args.command = shlex.join(["python", "benchmarks/svm_speed.py",
                               *(sys.argv[1:] if argv is None else argv)])
    if args.folds is None:
        args.folds = [0] if args.quick else list(range(5))
    if args.quick and args.output.resolve() == RESULTS_DIR.resolve():
        parser.error("--quick must not overwrite the committed results: choose another --output")
    args.extraction_jobs = 2
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    benchmark.ignore_single_emotion_fold_warnings()
    loads = [os.getloadavg()[0]]
    start = time.perf_counter()
    data = benchmark.subset(benchmark.load_data(args), benchmark.CORPORA)
    folds = benchmark.make_folds(data, 5)[benchmark.SPEAKER_FOLDS]
    records = run(args, data, folds)
    predictions = predictions_frame(records, data)
    loads.append(os.getloadavg()[0])
    report = render(args, data, records, predictions, time.perf_counter() - start, loads)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / REPORT_NAME).write_text(report)
    print(f"report: {args.output / REPORT_NAME}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
