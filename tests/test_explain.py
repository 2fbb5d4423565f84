"""Tests for sklearn_msfl.explain: feature families, MSF rankings, comparisons and plots."""

import numpy as np
import opensmile
import pandas as pd
import pytest

from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_msfl import OpenSmileTransformer
from sklearn_msfl.baselines import make_msfl_pipeline
from sklearn_msfl.preprocessing import GroupStandardScaler
from sklearn_msfl.explain import (
    FUNCTIONAL_FAMILIES,
    AttentionLevelWarning,
    LLD_FAMILIES,
    compare_rankings,
    compare_with_permutation,
    expected_jaccard,
    family_weights,
    feature_families,
    feature_family,
    monolingual_rankings,
    plot_family_weights,
    plot_shared_features,
    plot_topk_overlap,
    pool_rankings,
    shared_features,
    topk_overlap,
    topk_stability,
)
from sklearn_msfl.msfl import MultitaskSERClassifier


def opensmile_names(feature_set):
    smile = opensmile.Smile(
        feature_set=getattr(opensmile.FeatureSet, feature_set),
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    return smile.feature_names


# ---------------------------------------------------------------- feature families


@pytest.mark.parametrize(
    "feature_set, n_features",
    [("IS09", 384), ("IS10", 1582), ("ComParE_2016", 6373), ("eGeMAPSv02", 88), ("emobase", 988)],
)
def test_every_opensmile_name_gets_a_family(feature_set, n_features):
    names = opensmile_names(feature_set)
    families = feature_families(names)
    assert len(families) == n_features
    assert families["feature"].tolist() == list(names)
    unknown_lld = families.loc[families["lld_family"] == "other", "feature"].tolist()
    unknown_functional = families.loc[families["functional_family"] == "other", "feature"]
    assert unknown_lld == []
    assert unknown_functional.tolist() == []
    assert set(families["lld_family"]) <= set(LLD_FAMILIES)
    assert set(families["functional_family"]) <= set(FUNCTIONAL_FAMILIES)


@pytest.mark.parametrize(
    "name, lld, lld_family, functional, functional_family, is_delta",
    [
        ("F0final_sma_de_iqr1-3", "F0final", "pitch", "iqr1-3", "range", True),
        ("F0semitoneFrom27.5Hz_sma3nz_pctlrange0-2", "F0semitoneFrom27.5Hz", "pitch",
         "pctlrange0-2", "range", False),
        ("pcm_loudness_sma_amean", "loudness", "loudness", "amean", "mean", False),
        ("pcm_RMSenergy_sma_de_linregc1", "RMSenergy", "loudness", "linregc1", "slope", True),
        ("audspec_lengthL1norm_sma_quartile1", "audspec_lengthL1norm", "loudness",
         "quartile1", "percentile", False),
        ("mfcc_sma_de[3]_skewness", "mfcc[3]", "mfcc", "skewness", "moments", True),
        ("pcm_fftMag_mfcc_sma[12]_maxPos", "mfcc[12]", "mfcc", "maxPos", "extremes", False),
        ("mfcc2V_sma3nz_stddevNorm", "mfcc2V", "mfcc", "stddevNorm", "dispersion", False),
        ("logMelFreqBand_sma[5]_upleveltime75", "logMelFreqBand[5]", "spectral",
         "upleveltime75", "timing", False),
        ("lspFreq_sma_de[2]_percentile99.0", "lspFreq[2]", "spectral", "percentile99.0",
         "percentile", True),
        ("pcm_fftMag_spectralRollOff90.0_sma_lpc3", "spectralRollOff90.0", "spectral", "lpc3",
         "lpc", False),
        ("slopeV0-500_sma3nz_amean", "slopeV0-500", "spectral", "amean", "mean", False),
        ("jitterDDP_sma_de_kurtosis", "jitterDDP", "voice_quality", "kurtosis", "moments", True),
        ("shimmerLocaldB_sma3nz_amean", "shimmerLocaldB", "voice_quality", "amean", "mean", False),
        ("logRelF0-H1-H2_sma3nz_amean", "logRelF0-H1-H2", "voice_quality", "amean", "mean", False),
        ("voicingFinalUnclipped_sma_peakMeanRel", "voicingFinalUnclipped", "voice_quality",
         "peakMeanRel", "peaks", False),
        ("F2bandwidth_sma3nz_stddevNorm", "F2bandwidth", "formants", "stddevNorm",
         "dispersion", False),
        ("F3amplitudeLogRelF0_sma3nz_amean", "F3amplitudeLogRelF0", "voice_quality", "amean",
         "mean", False),
        ("pcm_zcr_sma_range", "zcr", "zero_crossing", "range", "range", False),
        ("F0final_sma_ff0_de_meanSegLen", "F0final", "pitch", "meanSegLen", "segments", True),
        ("VoicedSegmentsPerSec", "voicedSegments", "temporal", "VoicedSegmentsPerSec",
         "segments", False),
        ("F0final__Turn_numOnsets", "voicedOnsets", "temporal", "F0final__Turn_numOnsets",
         "segments", False),
    ],
)
def test_feature_family_of_known_names(
    name, lld, lld_family, functional, functional_family, is_delta
):
    assert feature_family(name) == (lld, lld_family, functional, functional_family, is_delta)


@pytest.mark.parametrize("name", ["x0", "my_feature", ""])
def test_names_outside_opensmile_are_other(name):
    family = feature_family(name)
    assert family.lld_family == "other"
    assert family.functional_family == "other"
    assert family.is_delta is False


def test_feature_families_of_is10_counts_per_family():
    families = feature_families(opensmile_names("IS10"))
    counts = families["lld_family"].value_counts().to_dict()
    # IS10: (34 LLDs x 21 + 4 voiced LLDs x 19 functionals), each also of its delta,
    # plus two turn-level features (onsets, duration); MFCC 0-14 are 15 of the LLDs.
    assert counts["mfcc"] == 15 * 21 * 2
    assert counts["temporal"] == 2
    assert families["is_delta"].sum() == (1582 - 2) // 2


# ---------------------------------------------------------------- rankings (stub model)

NAMES = [
    "F0final_sma_amean",
    "F0final_sma_range",
    "pcm_loudness_sma_amean",
    "mfcc_sma[1]_amean",
    "jitterLocal_sma_amean",
]


class SelectiveClassifier(ClassifierMixin, BaseEstimator):
    """Predicts from the columns listed in ``uses`` and attends to them, per sample.

    Attention of sample i is proportional to ``|x_i|`` on the used columns (plus a
    small floor elsewhere), so per-group rankings can differ.
    """

    def __init__(self, uses=(0,), floor=0.01):
        self.uses = uses
        self.floor = floor

    def fit(self, X, y):
        X = np.asarray(X, dtype=float)
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.unique(np.asarray(y).reshape(len(X), -1)[:, 0])
        self.threshold_ = np.median(X[:, list(self.uses)].sum(axis=1))
        return self

    def predict(self, X):
        X = np.asarray(X, dtype=float)
        return self.classes_[(X[:, list(self.uses)].sum(axis=1) > self.threshold_).astype(int)]

    def attention_weights(self, X):
        X = np.asarray(X, dtype=float)
        weights = np.full(X.shape, self.floor)
        weights[:, list(self.uses)] += np.abs(X[:, list(self.uses)])
        return weights / weights.sum(axis=1, keepdims=True)


class NamedSelectiveClassifier(SelectiveClassifier):
    """Same, recording ``feature_names_in_`` from a DataFrame like sklearn estimators."""

    def fit(self, X, y):
        super().fit(X, y)
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self


@pytest.fixture
def toy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, len(NAMES)))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y


def test_shared_features_ranks_mean_attention(toy):
    X, y = toy
    model = SelectiveClassifier(uses=(1, 3)).fit(X, y)
    ranking = shared_features(model, X, NAMES)
    expected = model.attention_weights(X).mean(axis=0)
    assert list(ranking.columns[:3]) == ["feature", "weight", "rank"]
    assert {"lld", "lld_family", "functional", "functional_family", "is_delta"} <= set(ranking)
    assert ranking["rank"].tolist() == [1, 2, 3, 4, 5]
    assert ranking["weight"].is_monotonic_decreasing
    assert ranking["weight"].sum() == pytest.approx(1.0)
    assert set(ranking["feature"].head(2)) == {NAMES[1], NAMES[3]}
    np.testing.assert_allclose(
        ranking.set_index("feature").loc[NAMES, "weight"].to_numpy(), expected
    )
    assert ranking.set_index("feature").loc["F0final_sma_range", "lld_family"] == "pitch"


def test_shared_features_ranks_steps_when_the_model_weights_only_steps(toy):
    X, y = toy
    X = np.hstack([X, X[:, ::-1]])  # 10 features, read 4 per step by raw patches
    names = NAMES + [f"{name}_copy" for name in NAMES]
    model = MultitaskSERClassifier(embedding="shared", attention_values="states", patch_size=4,
                                   hidden_size=4, shared_size=4, max_epochs=2,
                                   random_state=0).fit(X, y)
    with pytest.warns(AttentionLevelWarning, match="steps of 4 features"):
        ranking = shared_features(model, X, names)
    assert ranking.attrs["attention_level"] == "step"
    assert len(ranking) == 3 and ranking["n_features"].sum() == 10
    assert ranking["weight"].sum() == pytest.approx(1.0)
    assert ranking["feature"].str.startswith("step ").all()


def test_shared_features_refuses_a_model_without_attention(toy):
    X, y = toy
    model = MultitaskSERClassifier(pooling="mean", hidden_size=4, shared_size=4, max_epochs=1,
                                   random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="no attention"):
        shared_features(model, X, NAMES)


def test_shared_features_names_from_pipeline_then_model_then_default(toy):
    X, y = toy
    frame = pd.DataFrame(X, columns=NAMES)
    pipeline = make_pipeline(StandardScaler(), SelectiveClassifier(uses=(2,))).fit(frame, y)
    assert shared_features(pipeline, frame)["feature"].iloc[0] == "pcm_loudness_sma_amean"

    named = NamedSelectiveClassifier(uses=(2,)).fit(frame, y)
    assert shared_features(named, frame)["feature"].iloc[0] == "pcm_loudness_sma_amean"

    anonymous = SelectiveClassifier(uses=(2,)).fit(X, y)
    assert shared_features(anonymous, X)["feature"].iloc[0] == "x2"
    # Explicit names win over the model's own.
    renamed = shared_features(named, frame, feature_names=list("abcde"))
    assert renamed["feature"].iloc[0] == "c"
    with pytest.raises(ValueError, match="3 feature names"):
        shared_features(anonymous, X, feature_names=["a", "b", "c"])


@pytest.fixture(scope="module")
def signals():
    """Short noise signals of two corpora, indexed by something other than positions."""
    rng = np.random.default_rng(0)
    n = 16
    index = np.arange(100, 100 + n)
    frame = pd.DataFrame({"signal": list(0.1 * rng.standard_normal((n, 8000))),
                          "sampling_rate": 16000}, index=index)
    y = pd.DataFrame({"emotion": np.tile(["anger", "sadness"], n // 2),
                      "language": np.repeat(["de", "en"], n // 2)}, index=index)
    speakers = pd.DataFrame({"corpus": np.repeat(["emodb", "savee"], n // 2)}, index=index)
    return frame, y, speakers


SMALL_NETWORK = {"hidden_size": 4, "shared_size": 4, "max_epochs": 1, "random_state": 0}


def _corpus_pipeline(speakers, output):
    """make_msfl_pipeline(normalisation="corpus") after a feature step that returns arrays."""
    smile = OpenSmileTransformer(feature_set="eGeMAPSv02")
    model = make_msfl_pipeline(speakers, normalisation="corpus", preprocessing=[smile],
                               **SMALL_NETWORK)
    if output == "features as a frame":
        # The corpus of a row is looked up by its index, which only a frame keeps.
        smile.set_output(transform="pandas")
    else:
        model.set_output(transform="pandas")
    return model


def _array_pipeline(speakers, output):
    return make_pipeline(OpenSmileTransformer(feature_set="eGeMAPSv02"),
                         GroupStandardScaler(group_column=None),
                         MultitaskSERClassifier(**SMALL_NETWORK))


@pytest.mark.parametrize("build, output", [
    (_corpus_pipeline, "features as a frame"),
    (_corpus_pipeline, "every step a frame"),
    (_array_pipeline, "arrays only"),
])
def test_shared_features_names_openSMILE_features_through_the_pipeline(signals, build, output):
    frame, y, speakers = signals
    model = build(speakers, output).fit(frame, y)
    ranking = shared_features(model, frame)
    assert sorted(ranking["feature"]) == sorted(opensmile_names("eGeMAPSv02"))
    assert (ranking["lld_family"] != "other").all()


def test_shared_features_pipeline_transforms_before_attention(toy):
    X, y = toy
    # The final step attends to |x| of its input; scaling by 100 in the first step
    # must not change the ranking of standardised features but must reach the model.
    pipeline = Pipeline(
        [("scale", StandardScaler()), ("model", SelectiveClassifier(uses=(0, 4), floor=0.0))]
    ).fit(X, y)
    ranking = shared_features(pipeline, X, NAMES)
    direct = shared_features(pipeline[-1], pipeline[0].transform(X), NAMES)
    pd.testing.assert_frame_equal(ranking, direct)


def test_shared_features_by_group_gives_each_group_its_ranking(toy):
    X, y = toy
    groups = np.repeat(["de", "en"], 30)
    X = X.copy()
    X[groups == "de", 1] *= 10  # de attends to column 1, en to column 3
    X[groups == "en", 3] *= 10
    model = SelectiveClassifier(uses=(1, 3)).fit(X, y)
    ranking = shared_features(model, X, NAMES, by=groups)
    assert ranking.columns[0] == "group"
    assert len(ranking) == 2 * len(NAMES)
    top = ranking[ranking["rank"] == 1].set_index("group")["feature"]
    assert top.to_dict() == {"de": NAMES[1], "en": NAMES[3]}
    np.testing.assert_allclose(ranking.groupby("group")["weight"].sum(), 1.0)
    with pytest.raises(ValueError, match="one label per sample"):
        shared_features(model, X, NAMES, by=groups[:10])


def test_shared_features_needs_attention():
    with pytest.raises(TypeError, match="attention_weights"):
        shared_features(StandardScaler().fit(np.eye(3)), np.eye(3))


# ---------------------------------------------------------------- several models


def test_shared_features_of_several_models_pools_their_rankings(toy):
    X, y = toy
    models = [SelectiveClassifier(uses=uses).fit(X, y) for uses in ((1, 3), (1,), (3, 4))]
    pooled = shared_features(models, X, NAMES, top_k=1)
    alone = [shared_features(model, X, NAMES) for model in models]
    weights = pd.concat([ranking.set_index("feature")["weight"] for ranking in alone], axis=1)
    by_feature = pooled.set_index("feature")
    np.testing.assert_allclose(by_feature["weight"], weights.mean(axis=1).loc[by_feature.index])
    np.testing.assert_allclose(by_feature["weight_sd"], weights.std(axis=1).loc[by_feature.index])
    assert pooled["weight"].sum() == pytest.approx(1.0)
    assert pooled["rank"].tolist() == [1, 2, 3, 4, 5] and pooled["weight"].is_monotonic_decreasing
    firsts = [ranking["feature"].iloc[0] for ranking in alone]
    for feature in NAMES:
        assert by_feature.loc[feature, "top_k_share"] == pytest.approx(firsts.count(feature) / 3)
        ranks = [ranking.set_index("feature").loc[feature, "rank"] for ranking in alone]
        assert by_feature.loc[feature, "median_rank"] == np.median(ranks)
    assert by_feature.loc["F0final_sma_range", "lld_family"] == "pitch"
    assert pooled.attrs == {"attention_level": "feature", "n_models": 3, "top_k": 1}
    with pytest.raises(ValueError, match="empty list"):
        shared_features([], X, NAMES)


def test_pool_rankings_per_group_and_refuses_different_features(toy):
    X, y = toy
    groups = np.repeat(["de", "en"], 30)
    models = [SelectiveClassifier(uses=uses).fit(X, y) for uses in ((1,), (2,))]
    pooled = shared_features(models, X, NAMES, by=groups, top_k=2)
    assert pooled.columns[0] == "group" and len(pooled) == 2 * len(NAMES)
    assert pooled.groupby("group")["rank"].apply(list).tolist() == [[1, 2, 3, 4, 5]] * 2
    np.testing.assert_allclose(pooled.groupby("group")["weight"].sum(), 1.0)
    one = shared_features(models[0], X, NAMES)
    with pytest.raises(ValueError, match="not rank the same features"):
        pool_rankings([one, one.iloc[:3]])
    steps = one.copy()
    steps.attrs["attention_level"] = "step"
    with pytest.raises(ValueError, match="weight different things"):
        pool_rankings([one, steps])
    with pytest.raises(ValueError, match="top_k must be a positive int"):
        pool_rankings([one, one], top_k=0)


@pytest.mark.parametrize("n_features", [1, 4, 7])
def test_expected_jaccard_is_the_mean_over_all_pairs_of_top_sets(n_features):
    from itertools import combinations

    for k in range(1, n_features + 1):
        subsets = [set(s) for s in combinations(range(n_features), k)]
        exact = np.mean([len(a & b) / len(a | b) for a in subsets for b in subsets])
        assert expected_jaccard(k, n_features) == pytest.approx(exact, rel=1e-12)
    assert expected_jaccard(n_features, n_features) == 1.0


def test_expected_jaccard_of_large_sets_matches_sampling():
    rng = np.random.default_rng(0)
    draws = [rng.permutation(1582)[:50] for _ in range(4001)]
    sampled = np.mean([len(np.intersect1d(a, b)) / len(np.union1d(a, b))
                       for a, b in zip(draws[:-1], draws[1:])])
    assert expected_jaccard(50, 1582) == pytest.approx(sampled, rel=0.05)
    with pytest.raises(ValueError, match="k must be in"):
        expected_jaccard(0, 10)
    with pytest.raises(TypeError, match="must be ints"):
        expected_jaccard(2.5, 10)


def test_topk_stability_counts_pairwise_jaccard_next_to_chance(toy):
    X, y = toy
    same = [shared_features(SelectiveClassifier(uses=(1, 3)).fit(X, y), X, NAMES)] * 3
    table = topk_stability(same, ks=(1, 2))
    assert table["k"].tolist() == [1, 2] and (table["n_models"] == 3).all()
    assert (table["jaccard"] == 1.0).all() and table["in_all"].tolist() == [1, 2]
    assert table["chance"].tolist() == [expected_jaccard(1, 5), expected_jaccard(2, 5)]

    def ranking(order):
        return pd.DataFrame({"feature": order, "weight": [0.4, 0.3, 0.2, 0.1],
                             "rank": [1, 2, 3, 4]})

    rankings = [ranking(["a", "b", "c", "d"]), ranking(["b", "c", "a", "d"]),
                ranking(["d", "a", "b", "c"])]
    row = topk_stability(rankings, ks=(2,)).iloc[0]
    # pairs {a,b}-{b,c}: 1/3, {a,b}-{d,a}: 1/3, {b,c}-{d,a}: 0
    assert row["jaccard"] == pytest.approx(2 / 9)
    assert (row["jaccard_min"], row["jaccard_max"], row["in_all"]) == (0.0, 1 / 3, 0)
    tidy = [r.assign(group="de") for r in rankings]
    assert topk_stability(tidy, ks=(2,))["group"].tolist() == ["de"]
    with pytest.raises(ValueError, match="at least two models"):
        topk_stability(rankings[:1])
    with pytest.raises(ValueError, match="every k must be in"):
        topk_stability(rankings, ks=(5,))


def test_family_weights_sum_mean_and_relative():
    ranking = pd.DataFrame({"feature": NAMES, "weight": [0.4, 0.2, 0.2, 0.1, 0.1]})
    table = family_weights(ranking).set_index("lld_family")
    assert table.loc["pitch", "sum"] == pytest.approx(0.6)
    assert table.loc["pitch", "mean"] == pytest.approx(0.3)
    assert table.loc["pitch", "n_features"] == 2
    assert table.loc["pitch", "relative"] == pytest.approx(0.3 * 5)
    assert table.index[0] == "pitch"
    assert table["sum"].sum() == pytest.approx(1.0)
    functional = family_weights(ranking, level="functional").set_index("functional_family")
    assert functional.loc["mean", "sum"] == pytest.approx(0.8)
    both = family_weights(ranking, level="both")
    assert list(both.columns[:2]) == ["lld_family", "functional_family"]
    with pytest.raises(ValueError, match="level"):
        family_weights(ranking, level="lld_family")


def test_family_weights_per_group_keeps_group_order():
    a = pd.DataFrame({"feature": NAMES, "weight": [0.4, 0.2, 0.2, 0.1, 0.1]})
    b = pd.DataFrame({"feature": NAMES, "weight": [0.1, 0.1, 0.6, 0.1, 0.1]})
    table = family_weights({"MSF": a, "de": b})
    assert table["group"].unique().tolist() == ["MSF", "de"]
    first = table.groupby("group", sort=False).head(1).set_index("group")["lld_family"]
    assert first.to_dict() == {"MSF": "pitch", "de": "loudness"}
    np.testing.assert_allclose(table.groupby("group")["sum"].sum(), 1.0)


def _ranking(order):
    weights = np.linspace(1.0, 0.1, len(order))
    return pd.DataFrame({"feature": order, "weight": weights / weights.sum(),
                         "rank": np.arange(1, len(order) + 1)})


def test_compare_rankings_counts_top_k_overlap_and_correlates():
    features = [f"f{i}" for i in range(30)]
    msf = _ranking(features)
    same = _ranking(features)
    reversed_ = _ranking(features[::-1])
    # Swaps inside the top 5 keep the top-5 set; f5 <-> f20 moves one feature out.
    shuffled = features.copy()
    shuffled[0], shuffled[4] = shuffled[4], shuffled[0]
    shuffled[5], shuffled[20] = shuffled[20], shuffled[5]
    table = compare_rankings(
        msf, {"same": same, "reversed": reversed_, "shuffled": _ranking(shuffled)}
    ).set_index("group")
    assert list(table.columns) == [
        "overlap_top5", "overlap_top10", "overlap_top20", "spearman", "kendall"
    ]
    assert table.loc["same"].tolist() == [5, 10, 20, 1.0, 1.0]
    assert table.loc["reversed", ["overlap_top5", "overlap_top10", "overlap_top20"]].tolist() == [
        0, 0, 10
    ]
    assert table.loc["reversed", "spearman"] == pytest.approx(-1.0)
    assert table.loc["shuffled", ["overlap_top5", "overlap_top10", "overlap_top20"]].tolist() == [
        5, 9, 19
    ]
    assert 0.5 < table.loc["shuffled", "kendall"] < 1.0


def test_compare_rankings_accepts_tidy_frames(toy):
    X, y = toy
    groups = np.repeat(["de", "en"], 30)
    model = SelectiveClassifier(uses=(1, 3)).fit(X, y)
    msf = shared_features(model, X, NAMES)
    tidy = shared_features(model, X, NAMES, by=groups)
    table = compare_rankings(msf, tidy, ks=(1, 2))
    assert table["group"].tolist() == ["de", "en"]
    assert (table["overlap_top2"] == 2).all()


def test_topk_overlap_is_symmetric_with_k_on_the_diagonal():
    features = [f"f{i}" for i in range(10)]
    rankings = {"a": _ranking(features), "b": _ranking(features[::-1]),
                "c": _ranking(features[1:] + features[:1])}
    matrix = topk_overlap(rankings, k=3)
    assert matrix.index.tolist() == ["a", "b", "c"] == matrix.columns.tolist()
    np.testing.assert_array_equal(matrix.to_numpy(), matrix.to_numpy().T)
    assert np.diag(matrix).tolist() == [3, 3, 3]
    assert matrix.loc["a", "b"] == 0
    assert matrix.loc["a", "c"] == 2


def test_monolingual_rankings_fit_one_model_per_language():
    class CorrelationAttention(BaseEstimator):
        def fit(self, X, y):
            assert np.asarray(y).ndim == 1  # the main task only
            corr = np.abs([np.corrcoef(column, y)[0, 1] for column in np.asarray(X).T])
            self.weights_ = corr / corr.sum()
            return self

        def attention_weights(self, X):
            return np.tile(self.weights_, (len(X), 1))

    rng = np.random.default_rng(1)
    languages = np.tile(["de", "en", "ur"], 40)
    emotion = rng.integers(0, 2, size=len(languages))
    X = rng.normal(size=(len(languages), len(NAMES)))
    for column, language in zip((2, 3, 4), ("de", "en", "ur")):
        X[languages == language, column] += 3 * emotion[languages == language]
    y = pd.DataFrame({"emotion": emotion, "language": languages})
    rankings = monolingual_rankings(CorrelationAttention(), X, y, languages, NAMES)
    top = rankings[rankings["rank"] == 1].set_index("group")["feature"].to_dict()
    assert top == {"de": NAMES[2], "en": NAMES[3], "ur": NAMES[4]}


def test_compare_with_permutation_agrees_for_faithful_attention():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, len(NAMES)))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = SelectiveClassifier(uses=(0, 1), floor=0.05).fit(X, y)
    table = compare_with_permutation(model, X, y, feature_names=NAMES, random_state=0)
    assert list(table.columns) == [
        "family", "n_features", "attention", "attention_rank", "permutation_mean",
        "permutation_std", "permutation_rank",
    ]
    assert table["family"].iloc[0] == "pitch"
    assert table.loc[0, "permutation_rank"] == 1
    assert table.loc[0, "permutation_mean"] > 0.2
    # Families the model never reads lose nothing when permuted, exactly.
    assert (table.loc[table["family"] != "pitch", "permutation_mean"] == 0).all()
    assert table["n_features"].sum() == len(NAMES)

    single = compare_with_permutation(
        model, X, y, level="feature", n_features=3, feature_names=NAMES, random_state=0
    )
    assert len(single) == 3
    assert set(single["feature"].head(2)) == {NAMES[0], NAMES[1]}
    assert single["permutation_mean"].iloc[:2].min() > 0
    assert single.attrs["spearman"] > 0


def test_compare_with_permutation_scores_the_main_task_of_2d_y(toy):
    X, y = toy
    model = SelectiveClassifier(uses=(0, 1)).fit(X, y)
    y2 = pd.DataFrame({"emotion": y, "language": np.repeat(["de", "en"], 30)})
    one = compare_with_permutation(model, X, y, feature_names=NAMES, random_state=0)
    two = compare_with_permutation(model, X, y2, feature_names=NAMES, random_state=0)
    pd.testing.assert_frame_equal(one, two)
    with pytest.raises(ValueError, match="level"):
        compare_with_permutation(model, X, y, level="lld_family")


# ---------------------------------------------------------------- plots


@pytest.fixture
def agg():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plots_render_to_files(agg, tmp_path, toy):
    X, y = toy
    groups = np.repeat(["de", "en"], 30)
    model = SelectiveClassifier(uses=(1, 3)).fit(X, y)
    msf = shared_features(model, X, NAMES)
    per_language = shared_features(model, X, NAMES, by=groups)

    ax = plot_shared_features(msf, k=3)
    assert [t.get_text() for t in ax.get_yticklabels()] == msf["feature"].head(3).tolist()
    ax.figure.savefig(tmp_path / "top.png")

    ax = plot_family_weights({"MSF": msf, **dict(tuple(per_language.groupby("group")))})
    assert [t.get_text() for t in ax.get_yticklabels()] == ["MSF", "de", "en"]
    ax.figure.savefig(tmp_path / "families.png")

    ax = plot_topk_overlap(per_language, k=2)
    ax.figure.savefig(tmp_path / "overlap.png")

    _, ax = agg.subplots()
    assert plot_family_weights(per_language, level="functional", ax=ax) is ax
    for name in ("top.png", "families.png", "overlap.png"):
        assert (tmp_path / name).stat().st_size > 1000
    with pytest.raises(ValueError, match="one group"):
        plot_shared_features(per_language)


def test_plots_name_the_extra_when_matplotlib_is_missing(monkeypatch):
    import sys

    ranking = pd.DataFrame({"feature": NAMES, "weight": np.full(5, 0.2)})
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"sklearn-msfl\[plots\]"):
        plot_shared_features(ranking)
