"""Tests for sklearn_msfl.explain: feature families, MSF rankings, comparisons and plots."""

import numpy as np
import opensmile
import pandas as pd
import pytest

from sklearn_msfl.explain import (
    FUNCTIONAL_FAMILIES,
    LLD_FAMILIES,
    feature_families,
    feature_family,
)


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
