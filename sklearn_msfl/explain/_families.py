"""openSMILE feature names -> readable LLD and functional families.

Pure string parsing: anything that reads openSMILE feature names can use it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import pandas as pd


# Public as sklearn_msfl.explain.LLD_FAMILIES, documented there.
LLD_FAMILIES = (
    "pitch",
    "loudness",
    "voice_quality",
    "formants",
    "mfcc",
    "spectral",
    "zero_crossing",
    "temporal",
    "other",
)

# Public as sklearn_msfl.explain.FUNCTIONAL_FAMILIES, documented there.
FUNCTIONAL_FAMILIES = (
    "mean",
    "dispersion",
    "percentile",
    "range",
    "extremes",
    "slope",
    "moments",
    "peaks",
    "timing",
    "segments",
    "lpc",
    "other",
)

# The LLD part of a functional name ends at the smoothing marker (_sma, _sma3,
# _sma3nz), optionally followed by the delta marker and a band index:
# "mfcc_sma_de[3]_amean", "F0semitoneFrom27.5Hz_sma3nz_pctlrange0-2".
_NAME = re.compile(
    r"^(?P<lld>.+?)_sma(?:3nz|3)?(?P<delta>_de)?(?P<index>\[\d+\])?_(?P<functional>.+)$"
)

# First match wins, so the specific patterns (F1..F3 before F0, voice quality
# before generic spectral) come first. eGeMAPS' formant amplitudes relative to
# the F0 harmonic ("F3amplitudeLogRelF0") are harmonic differences like H1-A3,
# so they count as voice quality; formants are the frequencies and bandwidths. Patterns are matched against the LLD
# descriptor with openSMILE's "pcm_"/"pcm_fftMag_" prefixes removed.
_LLD_RULES = (
    ("voice_quality", r"jitter|shimmer|HNR|voiceProb|voicing|H1-H2|H1-A3|amplitudeLogRelF0"),
    ("formants", r"^F[1-5](frequency|bandwidth)"),
    ("pitch", r"^F0"),
    ("mfcc", r"mfcc"),
    ("loudness", r"loudness|intensity|energy|lengthL1norm|SoundLevel"),
    ("zero_crossing", r"zcr"),
    (
        "spectral",
        r"spectral|fband|audSpec_Rfilt|MelFreqBand|lspFreq|alphaRatio|hammarberg"
        r"|^slope|Sharpness",
    ),
)

_FUNCTIONAL_RULES = (
    ("lpc", r"^lp(c\d+|gain)$"),
    ("mean", r"^(a|q|rq|posa)mean$|^flatness$"),
    ("dispersion", r"^stddev(Norm)?$"),
    ("percentile", r"^(quartile\d|percentile[\d.]+)$"),
    ("range", r"^(range|iqr\d-\d|pctlrange\d-\d)$"),
    ("extremes", r"^(max|min)(Pos)?$"),
    ("slope", r"^(lin|q)reg|RisingSlope$|FallingSlope$"),
    ("moments", r"^(skewness|kurtosis)$"),
    ("peaks", r"[pP]eak|^minRangeRel$"),
    ("timing", r"^(up|down)leveltime\d+$|^(rise|fall|leftc|rightc)time$|^centroid$"),
    ("segments", r"[sS]egLen|^nnz$|^duration$|^numOnsets$|Segment"),
)

# eGeMAPS and IS10 also have a few turn-level descriptors without a functional.
_SPECIAL = {
    "loudnessPeaksPerSec": ("loudnessPeaks", "temporal", "peaks"),
    "VoicedSegmentsPerSec": ("voicedSegments", "temporal", "segments"),
    "MeanVoicedSegmentLengthSec": ("voicedSegmentLength", "temporal", "segments"),
    "StddevVoicedSegmentLengthSec": ("voicedSegmentLength", "temporal", "segments"),
    "MeanUnvoicedSegmentLength": ("unvoicedSegmentLength", "temporal", "segments"),
    "StddevUnvoicedSegmentLength": ("unvoicedSegmentLength", "temporal", "segments"),
    "equivalentSoundLevel_dBp": ("equivalentSoundLevel", "loudness", "mean"),
    "F0final__Turn_numOnsets": ("voicedOnsets", "temporal", "segments"),
    "F0final__Turn_duration": ("turnDuration", "temporal", "segments"),
}


class FeatureFamily(NamedTuple):
    """Families of one openSMILE functional, as returned by :func:`feature_family`.

    Attributes
    ----------
    lld : str
        The low-level descriptor, without openSMILE's prefixes and smoothing
        suffixes, band index kept (``"mfcc[3]"``, ``"F0final"``).
    lld_family : str
        One of :data:`LLD_FAMILIES`.
    functional : str
        The functional applied to the LLD contour (``"amean"``, ``"iqr1-3"``).
    functional_family : str
        One of :data:`FUNCTIONAL_FAMILIES`.
    is_delta : bool
        Whether the functional is of the LLD's first-order delta.

    Examples
    --------
    >>> from sklearn_msfl.explain import feature_family
    >>> family = feature_family("mfcc_sma_de[3]_amean")
    >>> family.lld_family, family.functional_family, family.is_delta
    ('mfcc', 'mean', True)
    """

    lld: str
    lld_family: str
    functional: str
    functional_family: str
    is_delta: bool


def _first_match(rules, text):
    for family, pattern in rules:
        if re.search(pattern, text):
            return family
    return "other"


@lru_cache(maxsize=16384)
def feature_family(name: str) -> FeatureFamily:
    """Return the LLD and functional families of one openSMILE feature name.

    Names follow openSMILE's ``<lld>_sma[_de][[i]]_<functional>`` pattern (IS09,
    IS10, ComParE_2016, eGeMAPSv02, emobase); names that do not are given the
    family ``"other"``.

    Parameters
    ----------
    name : str
        A feature name, e.g. ``"F0final_sma_de_iqr1-3"``.

    Returns
    -------
    FeatureFamily
        Named tuple ``(lld, lld_family, functional, functional_family, is_delta)``.

    Examples
    --------
    >>> from sklearn_msfl.explain import feature_family
    >>> feature_family("F0final_sma_de_iqr1-3")
    FeatureFamily(lld='F0final', lld_family='pitch', functional='iqr1-3', functional_family='range', is_delta=True)
    >>> feature_family("mfcc_sma[3]_amean").lld_family
    'mfcc'
    >>> feature_family("x7").lld_family
    'other'
    """
    if name in _SPECIAL:
        lld, lld_family, functional_family = _SPECIAL[name]
        return FeatureFamily(lld, lld_family, name, functional_family, False)
    match = _NAME.match(name)
    if match is None:
        return FeatureFamily(name, "other", "", "other", False)
    lld = re.sub(r"^pcm_(fftMag_)?", "", match["lld"])
    functional = match["functional"]
    is_delta = match["delta"] is not None
    # ComParE's F0 segment functionals read "F0final_sma_ff0_de_meanSegLen".
    segment = re.match(r"^ff0_(de_)?(.+)$", functional)
    if segment:
        is_delta = is_delta or segment[1] is not None
        functional = segment[2]
    return FeatureFamily(
        lld=lld + (match["index"] or ""),
        lld_family=_first_match(_LLD_RULES, lld),
        functional=functional,
        functional_family=_first_match(_FUNCTIONAL_RULES, functional),
        is_delta=is_delta,
    )


def feature_families(names) -> pd.DataFrame:
    """Group feature names into LLD and functional families.

    Parameters
    ----------
    names : iterable of str
        openSMILE feature names, e.g. ``OpenSmileTransformer().get_feature_names_out()``.

    Returns
    -------
    pandas.DataFrame
        One row per name, in input order, with columns ``feature``, ``lld``,
        ``lld_family``, ``functional``, ``functional_family`` and ``is_delta``
        (see :class:`FeatureFamily`).

    Examples
    --------
    >>> from sklearn_msfl.explain import feature_families
    >>> names = ["pcm_loudness_sma_amean", "jitterLocal_sma_de_stddev",
    ...          "pcm_fftMag_spectralFlux_sma_quartile1"]
    >>> feature_families(names)[["lld_family", "functional_family", "is_delta"]]
          lld_family functional_family  is_delta
    0       loudness              mean     False
    1  voice_quality        dispersion      True
    2       spectral        percentile     False
    """
    names = [str(name) for name in names]
    rows = [feature_family(name) for name in names]
    frame = pd.DataFrame(rows, columns=list(FeatureFamily._fields))
    frame.insert(0, "feature", names)
    frame["is_delta"] = frame["is_delta"].astype(bool)
    return frame
