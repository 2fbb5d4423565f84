"""The explanation against the synthetic corpus's ground truth, at the defaults and at wide=False.

make_emotional_speech ties emotion to pitch in every language (the shared cue) and to one
more cue in each language (qaa loudness, qab spectral tilt, qac voice quality): the truth
that real corpora lack. The attention of a default model trained on all languages must rank
pitch first, and a language's own (monolingual) default model must attend to its specific
cue more than its share and more than the other languages' models do: two checks per
synthetic corpus, on eGeMAPSv02 (88 functionals) and on IS10 (1582, read 99 per LSTM step),
with attention averaged over three initialisations.

Either check misses now and then (a case turns on three small networks), so the suite checks
a rate, not every case: the share of cases met on the scored seeds 0-4 must not fall below
what the development seeds 5-24 measured for the same setting (see ``RateBar``). Two settings
are checked, each with its own measured rate: the estimator's defaults (no parameter pinned
but random_state), whose wide path goes around the attention, and ``wide=False``, where every
input passes the attention, the setting the docs recommend for explanations. The agreement
of the attention with permutation importance over the LLD families is a rate too, checked
for both settings against the rate benchmarks/explanation_agreement_dev.py measured on the
development seeds.
"""

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from joblib import Parallel, delayed
from scipy import stats

from sklearn_msfl.datasets import CUE_FAMILIES, make_emotional_speech
from sklearn_msfl.explain import (
    compare_rankings,
    compare_with_permutation,
    family_weights,
    feature_families,
    monolingual_rankings,
    shared_features,
)
from sklearn_msfl.features import OpenSmileTransformer
from sklearn_msfl.msfl import MultitaskSERClassifier

pytestmark = [
    # loky replaces a worker whose memory grew by more than 300 MB (importing torch does)
    # after its first task, and says so; the results are complete.
    pytest.mark.filterwarnings("ignore:A worker stopped while some jobs:UserWarning"),
]

SEEDS = (0, 1, 2, 3, 4)
FEATURE_SETS = ("eGeMAPSv02", "IS10")
SPECIFIC_CUES = {"qaa": "loudness", "qab": "tilt", "qac": "voice_quality"}
CORPUS = dict(
    n_samples=180,
    duration=(1.0, 1.5),
    specific_cues=SPECIFIC_CUES,
    # Pitch weaker than by default and tilt stronger: within one language the specific
    # cue then carries about as much as pitch (a monolingual model on 60 utterances
    # that can fit them by pitch alone attends to nothing else), while pooled over the
    # languages pitch, the only cue they share, still dominates. Voice quality cannot
    # be raised: stronger jitter and breath corrupt F0 tracking.
    cue_strength={"pitch": 0.7, "tilt": 1.5},
)
# The attention of one small network depends on its initialisation; the ground truth is
# checked on the mean over three of them (the most the issue allows).
N_INITIALISATIONS = 3
# A case of the agreement check: the Spearman correlation over LLD families between a
# model's attention and its permutation importance is at least this. The attention shuffled
# over the families gave medians of -0.26 to 0.0, and the control below asserts < 0.6.
MIN_FAMILY_SPEARMAN = 0.6
# The setting the docs recommend for explanations: every input passes the attention.
EXPLANATION_SETTING = {"wide": False}

# The settings whose ground-truth rates are checked: the defaults (wide=True and
# balance="auto" since the tuning protocol on real speech chose them) and wide=False.
SETTINGS = {"defaults": {}, "wide=False": EXPLANATION_SETTING}
# Their cases met on the development seeds 5-24 (never the scored seeds), both feature sets,
# measured by benchmarks/explanation_dev.py --round 4 (benchmarks/results/
# explanation_dev_round4.md; test_dev_rates_are_the_committed_ones checks them against it).
# A network default changed since then needs a new development run before a bar means
# anything. (The defaults before the wide path met 65 of 80, rounds 2 and 3.)
DEV_CASES_MET = {"defaults": 48, "wide=False": 65}
DEV_CASES = 80
CONFIDENCE = 0.95
N_SCORED = 2 * len(SEEDS) * len(FEATURE_SETS)
# The agreement check's cases met on the development seeds 5-24, one per corpus and feature
# set: benchmarks/results/explanation_agreement_dev.md (the defaults missed it twice, at 0.25
# and 0.46, both on eGeMAPSv02; wide=False once, at 0.46).
AGREEMENT_DEV_MET = {"defaults": 38, "wide=False": 39}
AGREEMENT_DEV_CASES = 40
# Scored on seeds 0-2, whose features the ground-truth rate test has extracted already (the
# test file is the suite's longest), both feature sets.
AGREEMENT_SEEDS = SEEDS[:3]
AGREEMENT_N_SCORED = len(AGREEMENT_SEEDS) * len(FEATURE_SETS)


@dataclass(frozen=True)
class RateBar:
    """The bar of one setting: at least ``min_met`` of the ``n_scored`` scored cases.

    ``lower_bound`` is the one-sided 95% Clopper-Pearson lower bound of the per-case rate
    measured on the development seeds (``dev_met`` of ``dev_cases``); ``min_met`` the smallest
    m with P(X <= m) >= 5% for X ~ Binomial(n_scored, lower_bound), so the test fails
    (X < min_met) with probability ``false_alarm`` < 5% when the rate is at the bound.
    Cases of one corpus share its
    signals; the development cases of the former defaults varied less than independent ones
    would (every seed met 2 to 4 of its 4).
    """

    dev_met: int
    dev_cases: int = DEV_CASES
    n_scored: int = N_SCORED

    @property
    def lower_bound(self) -> float:
        return float(stats.beta.ppf(1 - CONFIDENCE, self.dev_met,
                                    self.dev_cases - self.dev_met + 1))

    @property
    def min_met(self) -> int:
        return int(stats.binom.ppf(1 - CONFIDENCE, self.n_scored, self.lower_bound))

    @property
    def false_alarm(self) -> float:
        return float(stats.binom.cdf(self.min_met - 1, self.n_scored, self.lower_bound))


BARS = {name: RateBar(met) for name, met in DEV_CASES_MET.items()}
AGREEMENT_BARS = {name: RateBar(met, AGREEMENT_DEV_CASES, AGREEMENT_N_SCORED)
                  for name, met in AGREEMENT_DEV_MET.items()}


def model_for(seed: int, initialisation: int, **params) -> MultitaskSERClassifier:
    return MultitaskSERClassifier(random_state=100 * seed + initialisation, **params)


def mean_family_weights(rankings):
    """Relative LLD-family weights averaged over rankings (one row per group, if any)."""
    tables = [family_weights(ranking) for ranking in rankings]
    index = ["group"] if "group" in tables[0] else []
    tables = [table.set_index([*index, "lld_family"])["relative"] for table in tables]
    mean = sum(tables) / len(tables)
    if index:
        return mean.unstack("lld_family")
    return mean.sort_values(ascending=False)


def without_shared_cue(ranking):
    """The ranking without the shared cue's features, weights renormalised per group."""
    rest = ranking[ranking["lld_family"] != "pitch"].copy()
    rest["weight"] /= rest.groupby("group")["weight"].transform("sum")
    return rest


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """(feature set, seed) -> (features DataFrame, labels), extracted once."""
    cache, corpora = tmp_path_factory.mktemp("smile-cache"), {}

    def get(feature_set, seed):
        if (feature_set, seed) not in corpora:
            signals, labels = make_emotional_speech(**CORPUS, random_state=seed)
            smile = OpenSmileTransformer(feature_set=feature_set, cache=cache, n_jobs=2,
                                         verbose=False)
            features = pd.DataFrame(
                smile.fit_transform(signals), columns=smile.get_feature_names_out()
            )
            corpora[feature_set, seed] = features, labels
        return corpora[feature_set, seed]

    return get


def explain_one(task: str, initialisation: int, seed: int, features, labels, **params):
    """One initialisation's explanation: a multilingual fit or the monolingual rankings
    (estimator ``params`` other than the defaults: the development runs' candidates)."""
    targets = labels[["emotion", "language"]]
    model = model_for(seed, initialisation, **params)
    if task == "multilingual":
        model.fit(features, targets)
        return model, shared_features(model, features)
    return None, monolingual_rankings(model, features, targets, labels["language"])


def shared_cue_failure(rankings) -> str | None:
    """Why multilingual rankings miss the shared cue (pitch first, well over its share,
    most of the top 5 features), or None. benchmarks/explanation_dev.py uses it too."""
    relative = mean_family_weights(rankings)
    top = pd.concat(rankings).groupby("feature")["weight"].mean().nlargest(5)
    if relative.index[0] != "pitch":
        return f"{relative.index[0]} {relative.iloc[0]:.2f} first, pitch {relative['pitch']:.2f}"
    if relative["pitch"] <= 1.5:
        return f"pitch first, but at {relative['pitch']:.2f} of its share (needs > 1.5)"
    if feature_families(top.index)["lld_family"].value_counts().idxmax() != "pitch":
        return f"pitch first ({relative['pitch']:.2f}), but not most of the top 5 features"
    return None


def own_cue_failure(rankings) -> str | None:
    """Why monolingual rankings miss a language's own cue, or None.

    Every language's model attends to pitch first; what matters is where the rest of its
    attention goes: above the uniform share to its own cue, and more than the other
    languages' models give that cue.
    """
    relative = mean_family_weights([without_shared_cue(ranking) for ranking in rankings])
    for language, cue in SPECIFIC_CUES.items():
        cue_weight = relative[list(CUE_FAMILIES[cue])].max(axis=1)
        others = cue_weight.drop(language)
        if cue_weight[language] <= max(1.0, others.max()):
            return (f"{language}'s {cue} {cue_weight[language]:.2f}, "
                    f"{others.idxmax()}'s model {others.max():.2f}")
    return None


def case_failures(parallel, feature_set, seed, synthetic, params) -> dict:
    """Both checks of one corpus and feature set: check -> why it failed, or None.

    Its 2 x 3 fits run two at a time in ``parallel``, one torch thread each (the
    estimator's default), so that the file keeps to its budget on two cores.
    """
    features, labels = synthetic(feature_set, seed)
    jobs = [(task, i) for task in ("multilingual", "monolingual")
            for i in range(N_INITIALISATIONS)]
    outputs = parallel(delayed(explain_one)(task, i, seed, features, labels, **params)
                       for task, i in jobs)
    rankings = {task: [ranking for (name, _), (_, ranking) in zip(jobs, outputs) if name == task]
                for task in ("multilingual", "monolingual")}
    return {"shared cue": shared_cue_failure(rankings["multilingual"]),
            "own cues": own_cue_failure(rankings["monolingual"])}


def test_dev_rates_are_the_committed_ones():
    """The bars' development numbers are those of the committed round 4 and agreement
    reports."""
    benchmarks = Path(__file__).resolve().parents[1] / "benchmarks"
    spec = importlib.util.spec_from_file_location("explanation_dev_summary",
                                                  benchmarks / "explanation_dev_summary.py")
    summary = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(summary)
    cases = summary.dev_cases()
    for name, met in DEV_CASES_MET.items():
        setting = cases[cases["candidate"] == name]
        assert sorted(setting["seed"].unique()) == list(range(5, 25)), name
        assert (setting["n_met"].sum(), 2 * len(setting)) == (met, DEV_CASES), name
    agreement = summary.every_case_table(
        (benchmarks / "results" / "explanation_agreement_dev.md").read_text())
    for name, met in AGREEMENT_DEV_MET.items():
        setting = agreement[agreement["setting"] == name]
        assert sorted(setting["seed"].unique()) == list(range(5, 25)), name
        assert ((setting["met"] == "True").sum(), len(setting)) == (met, AGREEMENT_DEV_CASES)
    assert (N_SCORED, AGREEMENT_N_SCORED) == (20, 6)
    for bar in [*BARS.values(), *AGREEMENT_BARS.values()]:
        assert bar.false_alarm < 1 - CONFIDENCE
        # min_met is the smallest bar with that property: one case more would exceed it.
        assert stats.binom.cdf(bar.min_met, bar.n_scored, bar.lower_bound) >= 1 - CONFIDENCE


@pytest.mark.slow
@pytest.mark.parametrize("setting", SETTINGS)
def test_ground_truth_rate_is_not_below_the_development_bound(setting, synthetic):
    """At least the setting's ``min_met`` of the 20 scored cases (seeds 0-4, both feature
    sets) are met.

    Corpora are scored in a fixed order and scoring stops once the verdict is settled
    (enough cases met, or too few left to reach the bar): the verdict is that of all 20.
    """
    bar = BARS[setting]
    order = [(feature_set, seed) for seed in SEEDS for feature_set in FEATURE_SETS]
    outcomes, n_met = {}, 0
    with Parallel(n_jobs=2) as parallel:
        for i, (feature_set, seed) in enumerate(order):
            failures = case_failures(parallel, feature_set, seed, synthetic, SETTINGS[setting])
            outcomes[feature_set, seed] = failures
            n_met += sum(failure is None for failure in failures.values())
            left = 2 * (len(order) - i - 1)
            if n_met >= bar.min_met or n_met + left < bar.min_met:
                break
    report = "\n".join(f"{feature_set} seed {seed} {check}: {failure or 'met'}"
                       for (feature_set, seed), failures in outcomes.items()
                       for check, failure in failures.items())
    print(f"{setting}: {n_met} met of the first {2 * len(outcomes)} cases:\n{report}")
    assert n_met >= bar.min_met, (
        f"{setting}: {n_met} of the {N_SCORED} cases met; the development rate's lower bound "
        f"{bar.lower_bound:.3f} implies at least {bar.min_met} (false-alarm probability "
        f"{bar.false_alarm:.3f}):\n{report}")


def agreement_table(setting: str, seed: int, features, labels):
    """Attention against permutation importance per LLD family, one model of ``setting``."""
    targets = labels[["emotion", "language"]]
    model = model_for(seed, 0, **SETTINGS[setting]).fit(features, targets)
    return compare_with_permutation(model, features, targets, n_repeats=3, random_state=0)


@pytest.mark.slow
@pytest.mark.parametrize("setting", SETTINGS)
def test_attention_agrees_with_permutation_importance_at_the_development_rate(setting,
                                                                               synthetic):
    """At least the setting's ``min_met`` of the 6 scored cases (seeds 0-2, both feature
    sets) have a Spearman correlation over the LLD families of at least
    ``MIN_FAMILY_SPEARMAN``; cases run two at a time and stop once the verdict is settled."""
    bar = AGREEMENT_BARS[setting]
    order = [(feature_set, seed) for seed in AGREEMENT_SEEDS for feature_set in FEATURE_SETS]
    correlations = {}
    with Parallel(n_jobs=2) as parallel:
        for start in range(0, len(order), 2):
            batch = order[start:start + 2]
            tables = parallel(
                delayed(agreement_table)(setting, seed, *synthetic(feature_set, seed))
                for feature_set, seed in batch)
            for case, table in zip(batch, tables):
                assert table["n_features"].sum() == synthetic(*case)[0].shape[1]
                np.testing.assert_allclose(table["attention"].sum(), 1.0)
                correlations[case] = table.attrs["spearman"]
            n_met = sum(rho >= MIN_FAMILY_SPEARMAN for rho in correlations.values())
            if n_met >= bar.min_met or n_met + len(order) - len(correlations) < bar.min_met:
                break
    # Control: the last case's families with their attention shuffled fail the threshold.
    rng = np.random.default_rng(0)
    shuffled = [table["permutation_mean"].corr(
        pd.Series(rng.permutation(table["attention"].to_numpy())), method="spearman")
        for _ in range(20)]
    assert np.median(shuffled) < MIN_FAMILY_SPEARMAN
    assert n_met >= bar.min_met, (
        f"{setting}: {n_met} of {len(correlations)} cases at Spearman >= "
        f"{MIN_FAMILY_SPEARMAN} (bar {bar.min_met} of {bar.n_scored}): {correlations}")


@pytest.mark.slow
def test_rankings_and_overlaps_are_deterministic(synthetic):
    features, labels = synthetic(FEATURE_SETS[0], SEEDS[0])
    targets, languages = labels[["emotion", "language"]], labels["language"]
    runs = []
    for _ in range(2):
        model = MultitaskSERClassifier(max_epochs=3, random_state=7).fit(features, targets)
        msf = shared_features(model, features)
        per_language = shared_features(model, features, by=languages)
        runs.append((msf, compare_rankings(msf, per_language)))
    pd.testing.assert_frame_equal(runs[0][0], runs[1][0])
    pd.testing.assert_frame_equal(runs[0][1], runs[1][1])
    assert list(runs[0][0]["feature"]) != list(features.columns)  # a real ranking


@pytest.mark.slow
@pytest.mark.corpora
def test_default_attention_on_a_real_corpus_weights_every_is10_feature(corpora_dir, tmp_path):
    from sklearn_msfl.corpora import load_corpora

    frame = load_corpora({"emodb": corpora_dir / "emodb"})
    smile = OpenSmileTransformer(feature_set="IS10", cache=tmp_path, n_jobs=2, verbose=False)
    X = pd.DataFrame(smile.fit_transform(frame), columns=smile.get_feature_names_out())
    model = MultitaskSERClassifier(random_state=0).fit(X, frame["emotion_std"])
    weights = model.attention_weights(X)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    distinct = np.mean([len(np.unique(row)) / len(row) for row in weights])
    assert distinct > 0.9, distinct
    top = shared_features(model, X).head(10)
    columns = sorted(X.columns.get_loc(name) for name in top["feature"])
    patch = model.net_.module_.patch_size
    # Not a run of consecutive columns of one LSTM step (what tied weights would rank).
    assert len({column // patch for column in columns}) > 1 or np.ptp(columns) >= 10, top
