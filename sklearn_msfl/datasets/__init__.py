"""Synthetic multilingual emotional speech: :func:`make_emotional_speech`.

The generator is a small source-filter speech synthesiser. A Rosenberg glottal
pulse train follows a pitch (F0) contour; a cascade of second-order resonators
(the formants of the vocal tract) turns it into vowels, nasals and approximants;
filtered noise gives fricatives and plosive bursts. Segments are organised into
syllables and phrases with pauses, and each syllable has its own amplitude
envelope. Every step is a vectorised numpy expression or one
:func:`scipy.signal.lfilter` call per segment, so a corpus of a few hundred
utterances takes a few seconds.

Emotion, language and speaker act on separate parts of the model, which makes
the corpus a controlled test bed for multilingual shared feature learning: the
emotion *cues* that are shared by all languages and those that only one language
uses are chosen by the caller and returned with the data.

The subpackage keeps one concern per private module: ``_design`` (the emotion
cues and their effects, speakers, labels), ``_languages`` (the synthetic
languages), ``_synthesis`` (the source-filter synthesiser) and ``_generator``
(:func:`make_emotional_speech` itself); every public name is imported here.

Examples
--------
>>> from sklearn_msfl.datasets import CUES
>>> CUES
('pitch', 'loudness', 'tilt', 'voice_quality', 'rate')
"""

from __future__ import annotations

import warnings

from ..corpora import DEFAULT_EMOTIONS
from . import _design
from ._generator import make_emotional_speech

__all__ = ["CUES", "CUE_FEATURES", "CUE_FAMILIES", "make_emotional_speech"]

#: Emotion cues the generator can tie to the emotion label.
CUES = _design.CUES

#: openSMILE IS10 low-level descriptors each cue moves: a functional whose name
#: starts with one of these (``"F0final_sma_de_iqr1-3"``) belongs to the cue.
#: Level-dependent spectral descriptors (``mfcc_sma[0]``, ``logMelFreqBand_sma``)
#: follow the loudness cue as well as the tilt cue.
CUE_FEATURES = _design.CUE_FEATURES

#: The same mapping in terms of :data:`sklearn_msfl.explain.LLD_FAMILIES` (which
#: counts the voicing probability as voice quality).
CUE_FAMILIES = _design.CUE_FAMILIES


def __getattr__(name: str):
    # ``EMOTIONS`` named the four default emotions here and the whole label vocabulary in
    # ``sklearn_msfl.corpora``; each meaning now has its own name.
    if name == "EMOTIONS":
        warnings.warn(
            "sklearn_msfl.datasets.EMOTIONS is deprecated and will be removed: use "
            "sklearn_msfl.corpora.DEFAULT_EMOTIONS.",
            FutureWarning,
            stacklevel=2,
        )
        return DEFAULT_EMOTIONS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
