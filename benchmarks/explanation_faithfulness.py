"""Faithfulness of the attention ranking on real speech: remove the top-k features and retrain.

On the MSFL paper's three corpora (EmoDB de, CASIA zh, SAVEE en-GB; the four shared emotions,
IS10 functionals) and the benchmark's speaker-independent outer folds
(``CorpusSpeakerKFold(5)``, as ``multilingual_ser.py`` builds them for that corpus set), for
every outer fold and seed:

1. the recommended pipeline (:func:`~sklearn_msfl.baselines.make_msfl_pipeline`, the
   estimator's defaults, ``random_state=seed``) is fitted on the outer training rows and
   scored on the test rows (``k = 0``, nothing removed);
2. its attention ranking is computed on the **outer training rows only**
   (:func:`~sklearn_msfl.explain.shared_features`);
3. for every ``k`` of ``--ks``, three sets of k features are removed from the input and the
   same pipeline (same seed) is fitted again without them (remove-and-retrain):

   * ``attention``: the ranking's top k;
   * ``same steps``: k random features drawn from the same LSTM steps as the top k (as many
     from each step as the top k has there, uniformly within the step, which may include
     top-k features), so that the step attention alone cannot make the ranking win;
   * ``random``: k features drawn uniformly from all features.

The score is the pooled UAR: the mean over the three corpora of each corpus's UAR on its
predictions pooled over the outer folds, per seed. The ranking is called **faithful at k** when
removing its top k lowers the pooled UAR more than the same-steps control by more than the
seed spread: the mean over seeds of ``UAR(same steps) - UAR(attention)`` is positive and larger
than its standard deviation over the seeds (the tuning protocol's rule: gain above the spread).
The report also counts the outer folds where the attention removal costs more (per-fold UAR,
mean over seeds).

Writes ``explanation_faithfulness.md``, ``explanation_faithfulness.csv`` (one row per seed,
fold, condition, k and test utterance: the prediction) and ``explanation_faithfulness.png``
(the deletion curves) into ``--output`` (default ``benchmarks/results``). Predictions are
appended as every (seed, fold) job finishes; ``--resume`` skips the jobs already in the CSV.

Usage::

    .venv/bin/python benchmarks/explanation_faithfulness.py --n-jobs 2
    .venv/bin/python benchmarks/explanation_faithfulness.py --quick   # smoke run
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.metrics import recall_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import multilingual_ser as bench  # noqa: E402  (the benchmark's data and folds)
from _machine import cpu_model  # noqa: E402

from sklearn_msfl.baselines import make_msfl_pipeline  # noqa: E402
from sklearn_msfl.explain import shared_features  # noqa: E402
from sklearn_msfl.model_selection import CorpusSpeakerKFold  # noqa: E402
from sklearn_msfl.msfl import MultitaskSERClassifier  # noqa: E402

CORPORA = bench.CORPUS_SETS["paper's three"]
CONDITIONS = ("attention", "same steps", "random")
DEFAULT_KS = (10, 50, 200)
DEFAULT_SEEDS = (0, 1, 2)
QUICK_KS = (5, 20)
RESULTS = Path(__file__).resolve().parent / "results"
NAME = "explanation_faithfulness"


def removal_sets(ranking: pd.DataFrame, names: list[str], patch_size: int, k: int,
                 rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Column positions to remove for every condition, for one ranking and one k."""
    position = {name: i for i, name in enumerate(names)}
    top = np.array([position[name] for name in ranking["feature"].iloc[:k]])
    step_of = np.arange(len(names)) // patch_size
    same_steps = np.concatenate([
        rng.choice(np.flatnonzero(step_of == step), size=count, replace=False)
        for step, count in sorted(Counter(step_of[top]).items())
    ])
    random = rng.choice(len(names), size=k, replace=False)
    return {"attention": top, "same steps": same_steps, "random": random}


def predictions_frame(model, X_test, test, seed, fold, condition, k, overlap) -> pd.DataFrame:
    return pd.DataFrame({"seed": seed, "fold": fold, "condition": condition, "k": k,
                         "sample": test, "prediction": model.predict(X_test),
                         "overlap_with_top": overlap})


def run_job(seed: int, fold: int, train: np.ndarray, test: np.ndarray, X: pd.DataFrame,
            Y: pd.DataFrame, ks, params: dict) -> pd.DataFrame:
    """One outer fold and seed: the full model, its ranking, and every removal retrained."""
    names = list(X.columns)
    X_train, X_test, Y_train = X.iloc[train], X.iloc[test], Y.iloc[train]
    model = make_msfl_pipeline(**params, random_state=seed).fit(X_train, Y_train)
    frames = [predictions_frame(model, X_test, test, seed, fold, "none", 0, np.nan)]
    ranking = shared_features(model, X_train, top_k=None)
    patch_size = int(model[-1].net_.module_.patch_size)
    for k in ks:
        rng = np.random.default_rng([seed, fold, k])
        sets = removal_sets(ranking, names, patch_size, k, rng)
        top = set(sets["attention"])
        for condition in CONDITIONS:
            kept = np.setdiff1d(np.arange(len(names)), sets[condition])
            overlap = len(top & set(sets[condition])) / k
            retrained = make_msfl_pipeline(**params, random_state=seed).fit(
                X_train.iloc[:, kept], Y_train)
            frames.append(predictions_frame(retrained, X_test.iloc[:, kept], test, seed, fold,
                                            condition, k, overlap))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------------
def corpus_uar(frame: pd.DataFrame, truth: np.ndarray, corpus: np.ndarray) -> float:
    """Mean over corpora of each corpus's UAR (%) on the predictions of ``frame``."""
    rows = frame["sample"].to_numpy()
    y_true, y_pred, groups = truth[rows], frame["prediction"].to_numpy(), corpus[rows]
    return 100 * float(np.mean([
        recall_score(y_true[groups == name], y_pred[groups == name], average="macro")
        for name in np.unique(groups)
    ]))


def scores_by(predictions: pd.DataFrame, keys: list[str], truth, corpus) -> pd.DataFrame:
    """UAR (mean over corpora) of every group of ``keys``: per seed, condition and k the
    pooled UAR (folds pooled); with ``fold`` among the keys, each fold's UAR."""
    rows = [{**dict(zip(keys, group_keys)), "uar": corpus_uar(group, truth, corpus)}
            for group_keys, group in predictions.groupby(keys)]
    return pd.DataFrame(rows)


POOLED = ["seed", "condition", "k"]
PER_FOLD = ["seed", "fold", "condition", "k"]


def faithfulness(pooled: pd.DataFrame, folds: pd.DataFrame, ks) -> pd.DataFrame:
    """Per k: the cost of removing the top k beyond each control, over seeds and folds."""
    rows = []
    for k in ks:
        at_k = pooled[pooled["k"] == k].pivot(index="seed", columns="condition", values="uar")
        per_fold = folds[folds["k"] == k].groupby(["fold", "condition"])["uar"].mean().unstack()
        for control in ("same steps", "random"):
            margin = at_k[control] - at_k["attention"]
            spread = float(margin.std(ddof=1)) if len(margin) > 1 else float("nan")
            rows.append({
                "k": k, "control": control,
                "UAR attention removed": at_k["attention"].mean(),
                "UAR control removed": at_k[control].mean(),
                "margin (control - attention)": margin.mean(),
                "spread over seeds": spread,
                "margin per seed": ", ".join(f"{value:+.1f}" for value in margin),
                "folds where attention costs more": (
                    f"{int((per_fold[control] > per_fold['attention']).sum())} of "
                    f"{len(per_fold)}"),
                "faithful": "yes" if margin.mean() > 0 and margin.mean() > spread else "no",
            })
    return pd.DataFrame(rows)


def uar_table(pooled: pd.DataFrame) -> pd.DataFrame:
    summary = pooled.groupby(["k", "condition"])["uar"].agg(["mean", "std"]).reset_index()
    summary["pooled UAR"] = [f"{m:.1f} ± {s:.1f}" for m, s in zip(summary["mean"], summary["std"])]
    table = summary.pivot(index="k", columns="condition", values="pooled UAR")
    return table[[c for c in ("none", *CONDITIONS) if c in table.columns]].fillna("")


def plot_curves(pooled: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    full = pooled[pooled["condition"] == "none"]["uar"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for condition, marker in zip(CONDITIONS, "osd"):
        part = pooled[pooled["condition"] == condition].groupby("k")["uar"]
        mean, std = part.mean(), part.std()
        ks = [0, *mean.index]
        ax.errorbar(ks, [full.mean(), *mean], yerr=[full.std(), *std], marker=marker,
                    capsize=3, label=f"{condition} removed")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("features removed (k), then retrained")
    ax.set_ylabel("pooled UAR (%), mean ± sd over seeds")
    ax.set_title("Remove-and-retrain: EmoDB, CASIA, SAVEE")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
def render(args, data, predictions, pooled, folds, seconds, loads) -> str:
    defaults = MultitaskSERClassifier().get_params()
    verdicts = faithfulness(pooled, folds, args.ks)
    overlap = (predictions[predictions["condition"] == "same steps"]
               .groupby("k")["overlap_with_top"].mean())
    command = " ".join(shlex.quote(part) for part in ["python", *sys.argv])
    lines = [
        "# Faithfulness of the attention ranking: remove and retrain",
        "",
        f"Run on {datetime.datetime.now().isoformat(timespec='minutes')}, `{command}`"
        f"{' (quick: speaker subset, tiny networks; the numbers mean nothing)' if args.quick else ''}.",
        "",
        "## Protocol",
        "",
        f"Data: {', '.join(CORPORA)} (the MSFL paper's three corpora), emotions "
        f"{', '.join(sorted(data.labels['emotion'].unique()))}; {len(data.X)} utterances, IS10 "
        f"functionals ({data.X.shape[1]} features). Outer folds: `CorpusSpeakerKFold("
        f"{args.n_splits})` over these corpora (the benchmark's folds of this corpus set). "
        f"Seeds {', '.join(map(str, args.seeds))}.",
        "",
        "For every outer fold and seed, `make_msfl_pipeline(random_state=seed)` (the "
        f"estimator's defaults, among them `wide={defaults['wide']!r}`, "
        f"`balance={defaults['balance']!r}`) is fitted on the outer training rows (k = 0); its attention "
        "ranking (`shared_features` on the **outer training rows only**) gives the top k; for "
        f"k in {{{', '.join(map(str, args.ks))}}} three sets of k features are removed and the "
        "pipeline is fitted again with the same seed: *attention* (the top k), *same steps* "
        "(k random features from the LSTM steps of the top k, as many from each step as the top "
        "k has there) and *random* (k uniform random features).",
        "",
        "Pooled UAR: the mean over corpora of each corpus's UAR on its predictions pooled over "
        "the outer folds, per seed. **Faithful at k** when the mean over seeds of "
        "UAR(control removed) - UAR(attention removed) is positive and larger than its standard "
        "deviation over the seeds (the spread).",
        "",
        "## Pooled UAR (%) after removal",
        "",
        "Mean ± standard deviation over the seeds; k = 0 is the full model (`none`).",
        "",
        uar_table(pooled).to_markdown(),
        "",
        "![deletion curves](explanation_faithfulness.png)",
        "",
        "## Faithfulness",
        "",
        "Margin = UAR with the control's k features removed minus UAR with the attention's top k "
        "removed (positive: the top k mattered more); the spread is its standard deviation over "
        "the seeds. Folds: outer folds where the per-fold UAR (mean over seeds) after the "
        "attention removal is lower than after the control's.",
        "",
        verdicts.to_markdown(index=False, floatfmt=".1f"),
        "",
        "Share of the same-steps control's features that are also in the top k (mean over seeds "
        "and folds): " + ", ".join(f"k = {k}: {value:.2f}" for k, value in overlap.items()) + ".",
        "",
        "## Run",
        "",
        f"- Wall time: {seconds / 60:.1f} min with `--n-jobs {args.n_jobs}` (one torch thread "
        "per fit); "
        f"{len(args.seeds) * args.n_splits * (1 + 3 * len(args.ks))} fits.",
        f"- Load average (1 min) before / after: {loads[0]:.2f} / {loads[1]:.2f} (the machine is "
        "shared; the benchmark of `multilingual_ser.py` may run beside it).",
        f"- Machine: {cpu_model()}, {os.cpu_count()} logical cores.",
        "",
    ]
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="speaker subset, tiny networks, 2 folds, small k: a smoke run")
    parser.add_argument("--seeds", nargs="+", type=int, default=None)
    parser.add_argument("--ks", nargs="+", type=int, default=None)
    parser.add_argument("--corpora", type=Path, default=None,
                        help="folder with the corpora (default: $MSFL_CORPORA, ../shared/corpora)")
    parser.add_argument("--cache", type=Path, default=bench.DEFAULT_CACHE,
                        help="openSMILE feature cache (shared with multilingual_ser.py)")
    parser.add_argument("--output", type=Path, default=None,
                        help="results folder (default benchmarks/results; --quick: a temp folder)")
    parser.add_argument("--extraction-jobs", type=int, default=2)
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="(seed, fold) jobs at once, each fitting on one torch thread")
    parser.add_argument("--resume", action="store_true",
                        help="keep the predictions CSV and skip the jobs already in it")
    args = parser.parse_args(argv)
    args.seeds = args.seeds or ([0] if args.quick else list(DEFAULT_SEEDS))
    args.ks = args.ks or list(QUICK_KS if args.quick else DEFAULT_KS)
    args.n_splits = bench.QUICK_SPLITS if args.quick else 5
    if args.output is None:
        args.output = Path("/tmp/explanation_faithfulness_quick") if args.quick else RESULTS
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    start, load_before = time.perf_counter(), os.getloadavg()[0]
    data = bench.subset(bench.load_data(args), CORPORA)
    X = data.X.reset_index(drop=True)
    Y = data.labels.reset_index(drop=True)
    groups = data.frame[["corpus", "speaker"]].reset_index(drop=True)
    folds = list(CorpusSpeakerKFold(args.n_splits).split(X, groups=groups))
    params = dict(bench.QUICK_MSFL) if args.quick else {}
    args.output.mkdir(parents=True, exist_ok=True)
    csv_path = args.output / f"{NAME}.csv"
    done = pd.read_csv(csv_path) if args.resume and csv_path.exists() else None
    if done is None and csv_path.exists():
        csv_path.unlink()
    finished = set() if done is None else set(zip(done["seed"], done["fold"]))
    jobs = [(seed, fold) for seed in args.seeds for fold in range(len(folds))
            if (seed, fold) not in finished]
    print(f"{len(X)} utterances, {X.shape[1]} features; {len(jobs)} (seed, fold) jobs of "
          f"{1 + 3 * len(args.ks)} fits each", flush=True)
    results = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
        delayed(run_job)(seed, fold, *folds[fold], X, Y, args.ks, params)
        for seed, fold in jobs)
    for number, frame in enumerate(results, 1):
        frame.to_csv(csv_path, mode="a", header=not csv_path.exists(), index=False)
        print(f"job {number}/{len(jobs)} done (seed {frame['seed'].iloc[0]}, fold "
              f"{frame['fold'].iloc[0]}), {(time.perf_counter() - start) / 60:.1f} min",
              flush=True)
    predictions = pd.read_csv(csv_path)
    predictions = predictions[predictions["seed"].isin(args.seeds)]
    seconds, loads = time.perf_counter() - start, (load_before, os.getloadavg()[0])
    truth, corpus = Y["emotion"].to_numpy(), groups["corpus"].to_numpy()
    pooled = scores_by(predictions, POOLED, truth, corpus)
    folds = scores_by(predictions, PER_FOLD, truth, corpus)
    plot_curves(pooled, args.output / f"{NAME}.png")
    report = render(args, data, predictions, pooled, folds, seconds, loads)
    (args.output / f"{NAME}.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
