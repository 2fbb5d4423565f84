"""Corpus design: the emotion cues and their effects, speakers, balanced labels, per-utterance parameters."""

from __future__ import annotations

import numpy as np


# Public as sklearn_msfl.datasets.CUES, documented there.
CUES = ("pitch", "loudness", "tilt", "voice_quality", "rate")

# Public as sklearn_msfl.datasets.CUE_FEATURES, documented there.
CUE_FEATURES = {
    "pitch": ("F0final_sma", "F0finEnv_sma"),
    "loudness": ("pcm_loudness_sma",),
    "tilt": ("mfcc_sma", "logMelFreqBand_sma", "lspFreq_sma"),
    "voice_quality": ("jitterLocal_sma", "jitterDDP_sma", "shimmerLocal_sma"),
    "rate": ("F0final__Turn_numOnsets", "voicingFinalUnclipped_sma"),
}

# Public as sklearn_msfl.datasets.CUE_FAMILIES, documented there.
CUE_FAMILIES = {
    "pitch": ("pitch",),
    "loudness": ("loudness",),
    "tilt": ("mfcc", "spectral"),
    "voice_quality": ("voice_quality",),
    "rate": ("temporal", "voice_quality"),
}

# Emotion effects in physical units, neutral = 0. Columns: F0 level (semitones),
# F0 range (log2 factor on all F0 excursions), F0 contour shape (semitones of
# rise (+) or fall (-) across each vowel), loudness (dB), spectral tilt (dB gain
# of the source above 1 kHz; + is flatter, brighter), voice quality (log2 factor
# on jitter, shimmer and aspiration noise), speaking rate (log2 factor on
# syllables/s).
_PARAMETERS = (
    "f0_level",
    "f0_range",
    "f0_shape",
    "loudness",
    "tilt",
    "voice_quality",
    "rate",
)
_EMOTION_EFFECTS = {
    "anger": (6.0, 0.5, -2.0, 8.0, 10.0, 1.8, 0.35),
    "happiness": (7.0, 1.0, 2.5, 4.0, 5.0, -1.2, 0.5),
    "neutral": (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    "sadness": (-2.5, -1.0, -1.0, -7.0, -8.0, 1.5, -0.55),
    "boredom": (-3.0, -1.2, -0.5, -4.0, -5.5, 0.75, -0.45),
    "fear": (8.0, 0.5, 1.2, 1.5, 1.5, 2.0, 0.45),
    "disgust": (-1.5, -0.3, -1.8, 1.5, -2.5, 1.5, -0.45),
    "surprise": (8.0, 1.4, 3.0, 4.5, 3.5, 0.0, 0.15),
    "calm": (-1.5, -0.7, 0.0, -3.0, -3.5, -0.9, -0.3),
}
# Within-class spread of each parameter at ``noise=1``, same units as above.
_NOISE_SCALES = np.array([1.0, 0.2, 0.4, 2.0, 2.0, 0.35, 0.08])
# Which parameters each cue owns.
_CUE_PARAMETERS = {
    "pitch": ("f0_level", "f0_range", "f0_shape"),
    "loudness": ("loudness",),
    "tilt": ("tilt",),
    "voice_quality": ("voice_quality",),
    "rate": ("rate",),
}
# Order in which specific_cues="auto" hands cues to languages 0, 1, 2, ...
_AUTO_CUE_ORDER = ("loudness", "tilt", "voice_quality", "rate")


_GENDERS = ("female", "male")


def _make_speakers(languages, n_per_language, noise, rng):
    """One dict per speaker: language, id, gender and voice parameters."""
    rows = []
    # Speaker j of every language before speaker j + 1 of any: any prefix of the
    # list (see _assign_labels) keeps languages and genders balanced.
    for j in range(n_per_language):
        for language in languages:
            gender = _GENDERS[j % 2]
            male = gender == "male"
            # Habitual offsets of the cue parameters (voice and speaking style).
            offsets = (
                0.4 * noise * _NOISE_SCALES * rng.standard_normal(len(_PARAMETERS))
            )
            rows.append(
                {
                    "language": language.code,
                    "speaker": f"{language.code}_{gender[0]}{j + 1:02d}",
                    "gender": gender,
                    # Baseline F0 (Hz) and vocal tract scaling (formants x factor).
                    "f0": (135.0 if male else 225.0) * 2 ** (rng.normal(0, 1.5) / 12),
                    "vtl": (1.0 if male else 1.17) * (1 + rng.normal(0, 0.04)),
                    "offsets": offsets,
                }
            )
    return rows


def _assign_labels(n_samples, n_speakers, n_emotions, rng):
    """Return (speaker index, emotion index) arrays, balanced and shuffled.

    Cells are taken in rounds; in round ``r`` speaker ``s`` gets emotion
    ``(s + r) % n_emotions``, so any prefix of rounds keeps emotions balanced
    and every speaker goes through all emotions in ``n_emotions`` rounds.
    """
    index = np.arange(n_samples)
    speaker = index % n_speakers
    round_ = index // n_speakers
    emotion = (speaker + round_) % n_emotions
    order = rng.permutation(n_samples)
    return speaker[order], emotion[order]


def _emotion_parameters(emotion, tied, strengths, emotions, rng):
    """Emotion part of an utterance's parameters (units of _PARAMETERS)."""
    values = np.zeros(len(_PARAMETERS))
    for cue, parameters in _CUE_PARAMETERS.items():
        # A cue not tied to the emotion here follows a randomly drawn emotion, so
        # its spread matches the tied case but it says nothing about the label.
        source = emotion if cue in tied else emotions[rng.integers(len(emotions))]
        for name in parameters:
            i = _PARAMETERS.index(name)
            values[i] = strengths[cue] * _EMOTION_EFFECTS[source][i]
    return values
