"""
The paper's shared-feature table, with intervals over seeds and folds
=====================================================================

The MSFL paper ranks the multilingual shared features (MSFs) of a model trained
on EmoDB (German), CASIA (Mandarin) and SAVEE (English) by their attention weight
and reports that the top 10 MSFs "almost contain" each language's own top 10, the
features that a model trained on that language alone attends to most. One model
and one seed cannot tell that from chance, so this example repeats the analysis
over 3 seeds x 2 speaker-independent folds. The models use ``wide=False``, the
setting for explanations: every input passes the attention, whereas the default
wide path lets the shared layers read the inputs around it.

* every (seed, fold) run fits one multilingual model (emotion and language) and
  one monolingual model per language (emotion) on the training speakers, and
  ranks their features by the attention on the held-out speakers;
* the table counts how many of each language's own top 10 are among the MSF
  top 10, per run, next to the count two random top-10 sets would share;
* the stability table says how much the MSF top 10 and top 50 agree between
  seeds (same fold) and between folds (same seed), next to chance;
* the families table reads the MSFs pooled over the runs: which descriptors
  (pitch, loudness, MFCC, ...) get more attention than their share.

Six runs are a small sample: the intervals below are the range (minimum to
maximum) over the runs, not confidence intervals, and runs of one fold share
their training data. It needs the real corpora (``$MSFL_CORPORA``, else
``../shared/corpora`` next to the project) and takes about 3 minutes on two cores
once their IS10 features are cached (``benchmarks/.cache``, shared with the
benchmarks; the first run extracts them, a few minutes more). Run it from the
project root::

    python examples/plot_language_overlap.py
"""

# %%
# Data: the paper's three corpora
# -------------------------------
# The four emotions the corpora share, IS10 functionals (1582 per utterance).
# sphinx-gallery runs the examples in their folder, ``python examples/...`` runs
# them from the project root: both find the corpora and the cache from there.
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone

from sklearn_msfl import CorpusSpeakerKFold, MultitaskSERClassifier, OpenSmileTransformer
from sklearn_msfl.corpora import DEFAULT_EMOTIONS, default_corpora_dir, load_corpora
from sklearn_msfl.explain import (
    LLD_FAMILIES,
    family_weights,
    plot_shared_features,
    pool_rankings,
    shared_features,
    topk_stability,
)

pd.set_option("display.width", 120)
ROOT = Path.cwd().parent if Path.cwd().name == "examples" else Path.cwd()
CORPORA = {"emodb": "de", "casia": "zh", "savee": "en"}
SEEDS, N_FOLDS, K = (0, 1, 2), 2, 10

corpora_dir = default_corpora_dir(fallback=ROOT.parent / "shared" / "corpora")
if corpora_dir is None:
    raise SystemExit("This example needs the real corpora: set MSFL_CORPORA.")
frame = load_corpora({name: corpora_dir / name for name in CORPORA}, emotions=DEFAULT_EMOTIONS)
smile = OpenSmileTransformer(feature_set="IS10", cache=ROOT / "benchmarks" / ".cache",
                             n_jobs=2, verbose=False)
X = pd.DataFrame(smile.fit_transform(frame), columns=smile.get_feature_names_out())
y = frame[["emotion_std", "language"]].rename(columns={"emotion_std": "emotion"})
languages = y["language"].to_numpy()
print(pd.crosstab(y["emotion"], frame["corpus"]))

# %%
# Fits: 3 seeds x 2 folds, each a multilingual and three monolingual models
# -------------------------------------------------------------------------
# The 24 fits run two at a time (one torch thread each, the estimator's default).
# joblib's workers restart once when importing torch grows them by over 300 MB, and
# say so; nothing is lost.
warnings.filterwarnings("ignore", message="A worker stopped while some jobs")
folds = list(CorpusSpeakerKFold(N_FOLDS).split(frame, groups=frame[["corpus", "speaker"]]))
runs = [(seed, fold) for seed in SEEDS for fold in range(N_FOLDS)]
jobs = []
for seed, fold in runs:
    train = folds[fold][0]
    jobs.append((seed, fold, "all", train, y.iloc[train]))
    for language in CORPORA.values():
        rows = train[languages[train] == language]
        jobs.append((seed, fold, language, rows, y["emotion"].iloc[rows]))
fitted = Parallel(n_jobs=2)(
    delayed(MultitaskSERClassifier(wide=False, random_state=seed).fit)(X.iloc[rows], targets)
    for seed, fold, _, rows, targets in jobs)

# Rank every model on the held-out speakers it explains (a language's own).
rankings = {}
for (seed, fold, group, _, _), model in zip(jobs, fitted):
    test = folds[fold][1]
    if group != "all":
        test = test[languages[test] == group]
    rankings[seed, fold, group] = shared_features(model, X.iloc[test])

# %%
# The paper's table: each language's own top 10 among the MSF top 10
# ------------------------------------------------------------------
# Two random top-10 sets of 1582 features share 10 * 10 / 1582 = 0.06 on average.


def top(ranking, k=K):
    return set(ranking["feature"].head(k))


overlap = pd.DataFrame([
    {"seed": seed, "fold": fold, "language": language,
     "overlap": len(top(rankings[seed, fold, language]) & top(rankings[seed, fold, "all"]))}
    for seed, fold in runs for language in CORPORA.values()])
summary = overlap.groupby("language", sort=False)["overlap"].agg(["mean", "min", "max"])
summary["chance"] = K * K / X.shape[1]
print(f"Own top {K} among the MSF top {K} over {len(runs)} runs (range = min..max)\n")
print(summary.round(2).to_string())

# %%
# Stability of the MSFs: between seeds and between folds
# ------------------------------------------------------
# Jaccard index (shared / united features) of the top-k sets of every pair of
# runs, next to that of two random top-k sets.
stability = pd.concat(
    [topk_stability([rankings[seed, fold, "all"] for seed in SEEDS]).assign(
        runs=f"{len(SEEDS)} seeds, fold {fold}") for fold in range(N_FOLDS)]
    + [topk_stability([rankings[seed, fold, "all"] for fold in range(N_FOLDS)]).assign(
        runs=f"{N_FOLDS} folds, seed {seed}") for seed in SEEDS],
    ignore_index=True)
print(stability[["runs", "k", "jaccard", "jaccard_min", "jaccard_max", "chance",
                 "in_all"]].round(3).to_string(index=False))

# %%
# Families of the shared features
# -------------------------------
# The MSFs pooled over the six runs (mean weight, share of runs with the feature
# in their top 10), and the attention per LLD family relative to the family's
# share of the features (1 = uniform), its range over the runs.
msf = [rankings[seed, fold, "all"] for seed, fold in runs]
pooled = pool_rankings(msf, top_k=K)
print(pooled.head(20)[["rank", "feature", "weight", "top_k_share", "lld_family",
                       "functional_family"]].to_string(index=False))
relative = pd.concat([family_weights(ranking).set_index("lld_family")["relative"]
                      for ranking in msf], axis=1)
families = pd.DataFrame({"mean": relative.mean(axis=1), "min": relative.min(axis=1),
                         "max": relative.max(axis=1),
                         "n_features": family_weights(msf[0]).set_index("lld_family")[
                             "n_features"]})
families = families.reindex([f for f in LLD_FAMILIES if f in families.index])
print(families.round(2).to_string())

# %%
# Figures
# -------
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
rng = np.random.default_rng(0)
for i, language in enumerate(summary.index):
    values = overlap.loc[overlap["language"] == language, "overlap"]
    left.scatter(i + rng.uniform(-0.12, 0.12, len(values)), values, color="tab:blue",
                 alpha=0.6, label="one run" if i == 0 else None)
    left.errorbar(i + 0.3, summary.loc[language, "mean"], fmt="o", color="black",
                  yerr=[[summary.loc[language, "mean"] - summary.loc[language, "min"]],
                        [summary.loc[language, "max"] - summary.loc[language, "mean"]]],
                  capsize=4, label="mean, range" if i == 0 else None)
left.axhline(K * K / X.shape[1], color="grey", linestyle="--", label="chance")
left.set_xticks(range(len(summary)), summary.index)
left.set_ylim(-0.5, K + 0.5)
left.set_ylabel(f"own top {K} among the MSF top {K}")
left.set_title(f"{len(runs)} runs: {len(SEEDS)} seeds x {N_FOLDS} folds")
left.legend(fontsize="small")
positions = np.arange(len(families))
right.errorbar(families["mean"], positions, fmt="o", color="black", capsize=4,
               xerr=[families["mean"] - families["min"], families["max"] - families["mean"]])
right.axvline(1.0, color="grey", linestyle="--")
labels = [f"{family} ({n})" for family, n in families["n_features"].items()]
right.set_yticks(positions, labels)
right.invert_yaxis()
right.set_xlabel("MSF attention relative to the family's share (range over runs)")
right.set_title("LLD families of the MSFs")
_ = plot_shared_features(pooled, k=20, title="Top 20 MSFs pooled over the runs")
plt.show()
