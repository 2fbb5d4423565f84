"""Explain MSFL models: which acoustic features are shared across languages.

The attention weights of :class:`~sklearn_msfl.MultitaskSERClassifier` say how much
each input feature contributes to the pooled representation that all tasks share.
Averaged over utterances and ranked, they are the *multilingual shared features*
(MSFs) of the MSFL paper. This module ranks them, groups openSMILE feature names
into families a person can read (pitch, loudness, MFCC, ... x mean, range, ...),
compares per-language rankings with the multilingual one, pools the rankings of
several models and measures how stable they are, checks attention against a
model-agnostic importance, and plots the results.

matplotlib is only needed for the ``plot_*`` functions (``pip install
sklearn-msfl[plots]``).

The subpackage keeps one concern per private module: ``_families`` (openSMILE
feature name -> family), ``_rankings`` (attention rankings), ``_comparisons``
(family weights, top-k overlap, rank correlations), ``_stability`` (agreement of
several models' top sets, and its chance level), ``_permutation`` (attention versus
permutation importance) and ``_plots``; every public name is imported here.

Examples
--------
>>> from sklearn_msfl.explain import feature_family
>>> feature_family("F0final_sma_amean").lld_family
'pitch'
"""

from . import _families
from ._comparisons import compare_rankings, family_weights, topk_overlap
from ._families import FeatureFamily, feature_families, feature_family
from ._permutation import compare_with_permutation
from ._plots import plot_family_weights, plot_shared_features, plot_topk_overlap
from ._rankings import (
    AttentionLevelWarning,
    monolingual_rankings,
    pool_rankings,
    shared_features,
)
from ._stability import expected_jaccard, topk_stability

#: LLD families in display order; every openSMILE name of IS09, IS10, ComParE_2016,
#: eGeMAPSv02 and emobase maps to one of them except ``"other"``.
LLD_FAMILIES = _families.LLD_FAMILIES

#: Functional families in display order.
FUNCTIONAL_FAMILIES = _families.FUNCTIONAL_FAMILIES

__all__ = [
    "LLD_FAMILIES",
    "FUNCTIONAL_FAMILIES",
    "AttentionLevelWarning",
    "FeatureFamily",
    "feature_family",
    "feature_families",
    "shared_features",
    "pool_rankings",
    "topk_stability",
    "expected_jaccard",
    "family_weights",
    "topk_overlap",
    "compare_rankings",
    "monolingual_rankings",
    "compare_with_permutation",
    "plot_shared_features",
    "plot_family_weights",
    "plot_topk_overlap",
]

