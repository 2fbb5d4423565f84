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
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import lfilter
from sklearn.utils import Bunch, check_random_state

from .corpora import DEFAULT_EMOTIONS

__all__ = ["CUES", "CUE_FEATURES", "CUE_FAMILIES", "make_emotional_speech"]

#: Emotion cues the generator can tie to the emotion label.
CUES = ("pitch", "loudness", "tilt", "voice_quality", "rate")

#: openSMILE IS10 low-level descriptors each cue moves: a functional whose name
#: starts with one of these (``"F0final_sma_de_iqr1-3"``) belongs to the cue.
#: Level-dependent spectral descriptors (``mfcc_sma[0]``, ``logMelFreqBand_sma``)
#: follow the loudness cue as well as the tilt cue.
CUE_FEATURES = {
    "pitch": ("F0final_sma", "F0finEnv_sma"),
    "loudness": ("pcm_loudness_sma",),
    "tilt": ("mfcc_sma", "logMelFreqBand_sma", "lspFreq_sma"),
    "voice_quality": ("jitterLocal_sma", "jitterDDP_sma", "shimmerLocal_sma"),
    "rate": ("F0final__Turn_numOnsets", "voicingFinalUnclipped_sma"),
}

#: The same mapping in terms of :data:`sklearn_msfl.explain.LLD_FAMILIES` (which
#: counts the voicing probability as voice quality).
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

# Vowel formants F1-F3 (Hz) of an adult male voice.
_VOWELS = {
    "i": (270, 2290, 3010),
    "I": (390, 1990, 2550),
    "e": (400, 2100, 2700),
    "E": (530, 1840, 2480),
    "ae": (660, 1720, 2410),
    "a": (750, 1300, 2500),
    "A": (730, 1090, 2440),
    "V": (640, 1190, 2390),
    "O": (570, 840, 2410),
    "o": (450, 850, 2500),
    "U": (440, 1020, 2240),
    "u": (300, 870, 2240),
    "y": (280, 1800, 2200),
    "2": (400, 1550, 2250),
    "@": (500, 1500, 2500),
    "1": (320, 1450, 2400),
}
_UPPER_FORMANTS = (3500.0, 4500.0)
_BANDWIDTHS = (60.0, 90.0, 120.0, 175.0, 280.0)


@dataclass(frozen=True)
class _Consonant:
    kind: str  # "plosive", "fricative", "nasal" or "approximant"
    centre: float = 0.0  # noise centre frequency (Hz) for plosives/fricatives
    bandwidth: float = 0.0
    level: float = 0.3  # amplitude relative to a vowel
    voiced: bool = False
    formants: tuple = ()  # for nasals and approximants


_CONSONANTS = {
    "p": _Consonant("plosive", 900, 1500, 0.35),
    "t": _Consonant("plosive", 4000, 2500, 0.35),
    "k": _Consonant("plosive", 2000, 1200, 0.4),
    "b": _Consonant("plosive", 900, 1500, 0.3, voiced=True),
    "d": _Consonant("plosive", 3500, 2500, 0.3, voiced=True),
    "g": _Consonant("plosive", 1800, 1200, 0.3, voiced=True),
    "s": _Consonant("fricative", 6000, 2000, 0.3),
    "S": _Consonant("fricative", 3300, 1500, 0.35),
    "f": _Consonant("fricative", 5000, 4000, 0.12),
    "T": _Consonant("fricative", 5500, 4000, 0.1),
    "x": _Consonant("fricative", 1500, 900, 0.25),
    "z": _Consonant("fricative", 5500, 2000, 0.2, voiced=True),
    "v": _Consonant("fricative", 4500, 4000, 0.1, voiced=True),
    "m": _Consonant("nasal", level=0.35, voiced=True, formants=(250, 1100, 2300)),
    "n": _Consonant("nasal", level=0.35, voiced=True, formants=(250, 1700, 2600)),
    "l": _Consonant("approximant", level=0.55, voiced=True, formants=(360, 1300, 2700)),
    "r": _Consonant("approximant", level=0.5, voiced=True, formants=(350, 1100, 1600)),
    "j": _Consonant("approximant", level=0.5, voiced=True, formants=(280, 2200, 2900)),
    "w": _Consonant("approximant", level=0.5, voiced=True, formants=(300, 700, 2200)),
}


@dataclass(frozen=True)
class _Language:
    code: str
    vowels: tuple  # vowel inventory (keys of _VOWELS)
    consonants: tuple  # consonant inventory (keys of _CONSONANTS)
    syllables: Mapping  # syllable template ("CV", "CVC", ...) -> probability
    rate: float  # syllables per second at neutral emotion
    stress_period: int  # every n-th syllable is stressed
    stress_contrast: float  # duration ratio stressed / unstressed (1: syllable-timed)
    reduction: float  # probability that an unstressed vowel becomes schwa
    declination: float  # F0 drift over an utterance, semitones per second
    accent_height: float  # F0 accent on stressed syllables, semitones
    accent_alignment: float  # accent peak within the vowel: 0 start, 1 end
    final_contour: float  # F0 movement over the last syllable, semitones
    pause_probability: float  # chance of a phrase pause after a syllable
    setting: tuple = (1.0, 1.0, 1.0)  # articulatory setting: factors on F1-F3


# Three hand-made languages with clearly synthetic ISO 639-2 codes (qaa-qtz is
# the range reserved for local use).
_LANGUAGES = (
    # Open CV syllables, fast and syllable-timed, plosives, five peripheral
    # vowels, falling statements.
    _Language(
        code="qaa",
        vowels=("a", "e", "i", "o", "u"),
        consonants=("p", "t", "k", "m", "n", "s", "r"),
        syllables={"CV": 0.8, "V": 0.1, "CVC": 0.1},
        rate=6.0,
        stress_period=4,
        stress_contrast=1.1,
        reduction=0.0,
        declination=-2.5,
        accent_height=2.0,
        accent_alignment=0.3,
        final_contour=-4.0,
        pause_probability=0.08,
    ),
    # Fricative-rich clusters, slow and stress-timed with vowel reduction, lax
    # vowels, late accent peaks and a final rise; a backed, open setting.
    _Language(
        code="qab",
        vowels=("I", "E", "ae", "A", "V", "U"),
        consonants=("t", "k", "s", "S", "f", "T", "s", "S", "l", "r"),
        syllables={"CVC": 0.45, "CCVC": 0.25, "CV": 0.15, "CVCC": 0.15},
        rate=4.0,
        stress_period=2,
        stress_contrast=1.8,
        reduction=0.6,
        declination=-0.5,
        accent_height=3.5,
        accent_alignment=0.8,
        final_contour=5.0,
        pause_probability=0.12,
        setting=(1.08, 0.92, 0.97),
    ),
    # Sonorant-rich, front rounded and central vowels, velar and voiced
    # fricatives, level intonation with a mid accent; a fronted, rounded setting.
    _Language(
        code="qac",
        vowels=("y", "2", "1", "O", "@"),
        consonants=("x", "z", "v", "m", "n", "j", "l", "w"),
        syllables={"CVC": 0.5, "CV": 0.4, "CCV": 0.1},
        rate=5.0,
        stress_period=3,
        stress_contrast=1.4,
        reduction=0.2,
        declination=0.5,
        accent_height=1.5,
        accent_alignment=0.55,
        final_contour=-1.0,
        pause_probability=0.1,
        setting=(0.95, 1.06, 0.92),
    ),
)
_MAX_LANGUAGES = 26  # qaa ... qaz
_LANGUAGE_SEED = 20220517  # fixed: further languages do not depend on random_state

_GENDERS = ("female", "male")
_REFERENCE_RMS = 0.04  # active-speech RMS of a neutral utterance at 0 dB
_FRAME = 0.005  # seconds, time step of the F0 contour
_CLOSING_SECONDS = 0.001  # duration of the glottal closing phase
# Voice quality at neutral: jitter and shimmer (relative SD of period and pulse
# amplitude) and aspiration noise RMS relative to the pulses.
_VOICE_QUALITY = (0.01, 0.06, 0.1)
_TILT_LOW_HZ = 500.0  # the tilt cue's gain ramps from here to an octave above


def _language(index: int) -> _Language:
    """Return language ``index``: hand-made for 0-2, drawn from a fixed seed after."""
    if index < len(_LANGUAGES):
        return _LANGUAGES[index]
    rng = np.random.default_rng([_LANGUAGE_SEED, index])
    vowels = tuple(rng.choice(sorted(_VOWELS), size=rng.integers(4, 8), replace=False))
    consonants = tuple(
        rng.choice(sorted(_CONSONANTS), size=rng.integers(6, 12), replace=False)
    )
    templates = ("V", "CV", "CVC", "CCV", "CCVC", "CVCC")
    weights = rng.dirichlet(np.full(len(templates), 0.7))
    return _Language(
        code="qa" + chr(ord("a") + index),
        vowels=vowels,
        consonants=consonants,
        syllables=dict(zip(templates, weights)),
        rate=float(rng.uniform(4.0, 6.0)),
        stress_period=int(rng.integers(2, 5)),
        stress_contrast=float(rng.uniform(1.0, 1.9)),
        reduction=float(rng.uniform(0.0, 0.6)),
        declination=float(rng.uniform(-2.5, 0.5)),
        accent_height=float(rng.uniform(1.0, 4.0)),
        accent_alignment=float(rng.uniform(0.2, 0.8)),
        final_contour=float(rng.choice([-1, 1]) * rng.uniform(1.0, 4.0)),
        pause_probability=float(rng.uniform(0.05, 0.15)),
        setting=tuple(rng.uniform(0.92, 1.08, 3)),
    )


# ----------------------------------------------------------------------------
# Argument validation
# ----------------------------------------------------------------------------


def _check_int(value, name, minimum, maximum=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}.")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be {bound}, got {value}.")
    return int(value)


def _check_emotions(emotions):
    known = tuple(_EMOTION_EFFECTS)
    if emotions is None:
        return DEFAULT_EMOTIONS
    if isinstance(emotions, numbers.Integral) and not isinstance(emotions, bool):
        # Defaults first, so emotions=4 is the default and 2 is anger/happiness.
        ordered = DEFAULT_EMOTIONS + tuple(e for e in known if e not in DEFAULT_EMOTIONS)
        count = _check_int(emotions, "emotions", 2, len(ordered))
        return ordered[:count]
    if isinstance(emotions, str) or not isinstance(emotions, Sequence):
        raise TypeError(
            "emotions must be None, an int or a sequence of emotion names, "
            f"got {emotions!r}."
        )
    emotions = tuple(emotions)
    unknown = [e for e in emotions if e not in _EMOTION_EFFECTS]
    if unknown:
        raise ValueError(f"Unknown emotions {unknown}; choose from {list(known)}.")
    if len(set(emotions)) != len(emotions) or len(emotions) < 2:
        raise ValueError(f"emotions must be at least 2 distinct names, got {emotions}.")
    return emotions


def _check_duration(duration):
    if isinstance(duration, numbers.Real) and not isinstance(duration, bool):
        duration = (duration, duration)
    try:
        low, high = (float(d) for d in duration)
    except (TypeError, ValueError):
        raise TypeError(
            "duration must be a number or a (min, max) pair of seconds, "
            f"got {duration!r}."
        ) from None
    if not 0.3 <= low <= high <= 60:
        raise ValueError(
            f"duration must satisfy 0.3 <= min <= max <= 60 seconds, got {duration!r}."
        )
    return low, high


def _as_cue_tuple(cues, name):
    if cues is None:
        return ()
    if isinstance(cues, str):
        cues = (cues,)
    cues = tuple(cues)
    unknown = [c for c in cues if c not in CUES]
    if unknown:
        raise ValueError(f"Unknown cues {unknown} in {name}; choose from {list(CUES)}.")
    return tuple(dict.fromkeys(cues))


def _check_cues(shared_cues, specific_cues, codes):
    """Return (shared cues, {language code: specific cues}) after validation."""
    shared = _as_cue_tuple(shared_cues, "shared_cues")
    if isinstance(specific_cues, str) and specific_cues == "auto":
        pool = [c for c in _AUTO_CUE_ORDER if c not in shared]
        specific = {
            code: (pool[i % len(pool)],) if pool else () for i, code in enumerate(codes)
        }
    elif specific_cues is None:
        specific = {code: () for code in codes}
    elif isinstance(specific_cues, Mapping):
        specific = {code: () for code in codes}
        for key, cues in specific_cues.items():
            if isinstance(key, numbers.Integral) and not isinstance(key, bool):
                if not 0 <= key < len(codes):
                    raise ValueError(
                        f"specific_cues names language {key}, but there are "
                        f"{len(codes)} languages."
                    )
                key = codes[key]
            if key not in specific:
                raise ValueError(
                    f"specific_cues names unknown language {key!r}; "
                    f"languages are {codes}."
                )
            specific[key] = _as_cue_tuple(cues, "specific_cues")
    else:
        raise TypeError(
            "specific_cues must be 'auto', None or a dict {language: cues}, "
            f"got {specific_cues!r}."
        )
    for code, cues in specific.items():
        both = set(cues) & set(shared)
        if both:
            raise ValueError(
                f"Cues {sorted(both)} are both shared and specific to "
                f"language {code!r}."
            )
    return shared, specific


def _check_strength(cue_strength):
    if isinstance(cue_strength, Mapping):
        unknown = [c for c in cue_strength if c not in CUES]
        if unknown:
            raise ValueError(f"Unknown cues {unknown} in cue_strength.")
        strengths = {c: cue_strength.get(c, 1.0) for c in CUES}
    else:
        strengths = dict.fromkeys(CUES, cue_strength)
    for cue, value in strengths.items():
        if (
            not isinstance(value, numbers.Real)
            or isinstance(value, bool)
            or not 0 <= value < np.inf
        ):
            raise ValueError(
                "cue_strength must be a non-negative number, "
                f"got {value!r} for {cue!r}."
            )
    return {c: float(v) for c, v in strengths.items()}


def _check_non_negative(value, name):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {value!r}.")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return float(value)


# ----------------------------------------------------------------------------
# Corpus design: speakers, label assignment, per-utterance parameters
# ----------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------
# Synthesis
# ----------------------------------------------------------------------------


def _resonator(frequency, bandwidth, sr):
    """Denominator and DC gain of a 2nd-order resonator (Klatt style)."""
    r = np.exp(-np.pi * bandwidth / sr)
    a = np.array([1.0, -2 * r * np.cos(2 * np.pi * frequency / sr), r * r])
    return a, a.sum()


def _formant_filter(formants, bandwidths, sr):
    """Cascade of resonators as one (b, a) pair, unity gain at 0 Hz."""
    a_total, gain = np.array([1.0]), 1.0
    for frequency, bandwidth in zip(formants, bandwidths):
        if frequency < 0.45 * sr:  # resonances above Nyquist would alias
            a, g = _resonator(frequency, bandwidth, sr)
            a_total, gain = np.convolve(a_total, a), gain * g
    return np.array([gain]), a_total


def _fade(n, ramp):
    """Window of length n with raised-cosine ramps of ``ramp`` samples."""
    window = np.ones(n)
    ramp = min(ramp, n // 2)
    if ramp > 0:
        edge = 0.5 - 0.5 * np.cos(np.pi * (np.arange(ramp) + 0.5) / ramp)
        window[:ramp] = edge
        window[n - ramp :] = edge[::-1]
    return window


def _plan_syllables(language, rate, speech_seconds, rng):
    """Syllables as (duration, stressed, onset, vowel, coda, pause after) tuples."""
    templates = list(language.syllables)
    weights = np.array([language.syllables[t] for t in templates], dtype=float)
    weights /= weights.sum()
    mean_syllable = 1.0 / rate
    # Stressed syllables are stress_contrast times longer; keep the mean at 1/rate.
    p = 1 / language.stress_period
    unit = mean_syllable / (p * language.stress_contrast + 1 - p)
    syllables, elapsed, position = [], 0.0, int(rng.integers(language.stress_period))
    while True:
        stressed = position % language.stress_period == 0
        duration = unit * (language.stress_contrast if stressed else 1.0)
        duration *= rng.uniform(0.85, 1.15)
        pause = rng.random() < language.pause_probability
        pause_seconds = rng.uniform(0.12, 0.28) if pause else 0.0
        if syllables and elapsed + duration > speech_seconds:
            break
        template = templates[rng.choice(len(templates), p=weights)]
        onset_size = template.index("V")
        coda_size = len(template) - onset_size - 1
        vowel = language.vowels[rng.integers(len(language.vowels))]
        if not stressed and rng.random() < language.reduction:
            vowel = "@"
        onset = [
            language.consonants[i]
            for i in rng.integers(len(language.consonants), size=onset_size)
        ]
        coda = [
            language.consonants[i]
            for i in rng.integers(len(language.consonants), size=coda_size)
        ]
        syllables.append((duration, stressed, onset, vowel, coda, pause_seconds))
        elapsed += duration + pause_seconds
        position += 1
    return syllables


_SEGMENT_WEIGHTS = {"plosive": 0.7, "fricative": 0.9, "nasal": 0.6, "approximant": 0.6}


def _layout(syllables, start, sr):
    """Turn syllables into sample-exact segments and syllable spans."""
    segments, spans, t = [], [], start
    for duration, stressed, onset, vowel, coda, pause_seconds in syllables:
        phones = [("C", c) for c in onset] + [("V", vowel)] + [("C", c) for c in coda]
        weights = np.array(
            [
                (2.6 if stressed else 2.0)
                if kind == "V"
                else _SEGMENT_WEIGHTS[_CONSONANTS[name].kind]
                for kind, name in phones
            ]
        )
        bounds = t + np.concatenate(
            [[0.0], np.cumsum(weights / weights.sum() * duration)]
        )
        samples = np.round(bounds * sr).astype(int)
        for (kind, name), a, b in zip(phones, samples[:-1], samples[1:]):
            if b > a:
                segments.append((kind, name, int(a), int(b), stressed))
        spans.append((int(samples[0]), int(samples[-1]), stressed))
        t += duration + pause_seconds
    return segments, spans


def _f0_contour(n, sr, segments, spans, language, speaker_f0, params, rng):
    """Sample-level F0 (Hz) from declination, accents, final contour and drift."""
    level, range_log2, shape = params[0], params[1], params[2]
    frames = np.arange(0, n / sr + _FRAME, _FRAME)
    excursion = language.declination * (frames - frames.mean())
    vowels = [
        (a / sr, b / sr, stressed)
        for kind, _, a, b, stressed in segments
        if kind == "V"
    ]
    if vowels:
        starts, ends, stressed = (np.array(v, dtype=float) for v in zip(*vowels))
        lengths = ends - starts
        # Pitch accents: Gaussian bumps on stressed vowels.
        peaks = starts + language.accent_alignment * lengths
        heights = language.accent_height * stressed * rng.uniform(0.7, 1.3, len(starts))
        widths = 0.6 * lengths + 0.02
        bumps = heights[:, None] * np.exp(
            -0.5 * ((frames[None, :] - peaks[:, None]) / widths[:, None]) ** 2
        )
        excursion += bumps.sum(axis=0)
        # Emotion contour shape: a rise (+) or fall (-) across every vowel.
        inside = (frames[None, :] >= starts[:, None]) & (
            frames[None, :] < ends[:, None]
        )
        relative = (frames[None, :] - starts[:, None]) / lengths[:, None] - 0.5
        excursion += (shape * relative * inside).sum(axis=0)
        # Final rise or fall over the last syllable.
        last_start, last_end = spans[-1][0] / sr, spans[-1][1] / sr
        final = np.clip((frames - last_start) / max(last_end - last_start, 1e-3), 0, 1)
        excursion += language.final_contour * final
    drift = sum(
        0.4
        * np.sin(2 * np.pi * rng.uniform(0.3, 1.5) * frames + rng.uniform(0, 2 * np.pi))
        for _ in range(2)
    )
    semitones = level + 2.0**range_log2 * excursion + drift
    f0 = np.clip(speaker_f0 * 2 ** (semitones / 12), 50.0, 500.0)
    return np.interp(np.arange(n) / sr, frames, f0)


def _glottal_source(f0, sr, jitter, shimmer, breath, tilt_db, rng):
    """Rosenberg pulse train (flow derivative) with jitter, shimmer, breath and tilt."""
    # Jitter: perturb each period's F0, found from a first pass of the phase.
    period = np.floor(np.cumsum(f0) / sr).astype(int)
    n_periods = period[-1] + 2
    f0 = f0 * (1 + jitter * np.clip(rng.standard_normal(n_periods), -3, 3))[period]
    phase = np.cumsum(f0) / sr
    period = np.floor(phase).astype(int)
    t = phase - period
    # The closing phase, which sets the high-frequency content of the pulse, lasts
    # a fixed time rather than a fixed fraction of the period: the spectral slope
    # then belongs to the tilt cue alone instead of following F0.
    opening = 0.4
    closing = np.minimum(_CLOSING_SECONDS * f0, 0.3)
    flow = np.where(
        t < opening,
        0.5 * (1 - np.cos(np.pi * t / opening)),
        np.where(
            t < opening + closing, np.cos(0.5 * np.pi * (t - opening) / closing), 0.0
        ),
    )
    amplitude = 1 + shimmer * np.clip(rng.standard_normal(period[-1] + 2), -3, 3)
    flow = flow * amplitude[period]
    source = np.diff(flow, prepend=0.0)
    # Aspiration noise, strongest while the glottis is open (breathy voice).
    aspiration = rng.standard_normal(len(source)) * (0.5 + flow)
    source += breath * np.sqrt(np.mean(source**2)) * aspiration
    # The source's natural roll-off: a one-pole low-pass at 1200 Hz.
    pole = np.exp(-2 * np.pi * min(1200.0, 0.4 * sr) / sr)
    source = lfilter([1 - pole], [1, -pole], source)
    return _tilt(source, tilt_db, sr)


def _tilt(signal, tilt_db, sr):
    """Raise (+) or lower (-) the spectrum above 1 kHz by ``tilt_db``.

    Zero-phase, in the frequency domain: the gain ramps linearly in octaves from
    0 dB at 500 Hz to ``tilt_db`` at 1 kHz, so the balance between low and high
    frequencies moves by ``tilt_db`` whatever the F0.
    """
    frequencies = np.fft.rfftfreq(len(signal), 1 / sr)
    octaves = np.log2(np.maximum(frequencies, 1.0) / _TILT_LOW_HZ)
    gain_db = tilt_db * np.clip(octaves, 0.0, 1.0)
    return np.fft.irfft(np.fft.rfft(signal) * 10.0 ** (gain_db / 20), n=len(signal))


def _synthesize(language, speaker, params, duration, sr, snr, rng):
    """One utterance as float64 samples."""
    (_, _, _, loudness_db, tilt, voice_quality, rate_log2) = params
    n = int(round(duration * sr))
    lead, trail = rng.uniform(0.05, 0.15, size=2)
    rate = language.rate * 2.0**rate_log2
    syllables = _plan_syllables(language, rate, duration - lead - trail, rng)
    segments, spans = _layout(syllables, lead, sr)
    n = max(n, spans[-1][1] + 1)

    f0 = _f0_contour(n, sr, segments, spans, language, speaker["f0"], params, rng)
    jitter, shimmer, breath = np.array(_VOICE_QUALITY) * 2.0**voice_quality
    source = _glottal_source(f0, sr, jitter, shimmer, breath, tilt, rng)
    source /= np.sqrt(np.mean(source**2)) + 1e-12

    signal = np.zeros(n)
    margin, ramp = int(0.02 * sr), int(0.008 * sr)
    vtl = speaker["vtl"]
    for kind, name, a, b, _ in segments:
        length = b - a
        if kind == "V" or _CONSONANTS[name].kind in ("nasal", "approximant"):
            if kind == "V":
                formants, level = _VOWELS[name], 1.0
                bandwidths = _BANDWIDTHS
            else:
                consonant = _CONSONANTS[name]
                formants, level = consonant.formants, consonant.level
                bandwidths = tuple(2 * bw for bw in _BANDWIDTHS)
            formants = np.array(formants + _UPPER_FORMANTS) * vtl
            formants[:3] *= np.array(language.setting) * (1 + rng.normal(0, 0.03, 3))
            lo = max(a - margin, 0)
            num, den = _formant_filter(formants, bandwidths, sr)
            voiced = lfilter(num, den, source[lo:b])[a - lo :]
            signal[a:b] += level * voiced * _fade(length, ramp)
            continue
        consonant = _CONSONANTS[name]
        centre = min(consonant.centre * np.sqrt(vtl), 0.4 * sr)
        num, den = _formant_filter((centre, centre), (consonant.bandwidth,) * 2, sr)
        # Centre-frequency resonators have little gain at 0 Hz: normalise by RMS.
        if consonant.kind == "fricative":
            noise = lfilter([1.0], den, rng.standard_normal(length + margin))[margin:]
            noise *= consonant.level / (np.sqrt(np.mean(noise**2)) + 1e-12)
            signal[a:b] += noise * _fade(length, 3 * ramp)
        else:  # plosive: closure (silent or voiced) then a decaying burst
            closure = int(0.6 * length)
            burst = length - closure
            noise = lfilter([1.0], den, rng.standard_normal(burst + margin))[margin:]
            noise *= consonant.level / (np.sqrt(np.mean(noise**2)) + 1e-12)
            decay = np.exp(-np.arange(burst) / (0.008 * sr))
            signal[a + closure : b] += 2.0 * noise * decay
        if consonant.voiced:  # voice bar: low-pass filtered source
            num, den = _formant_filter((250.0 * vtl,), (100.0,), sr)
            lo = max(a - margin, 0)
            bar = lfilter(num, den, source[lo:b])[a - lo :]
            signal[a:b] += 0.25 * bar * _fade(length, ramp)

    # Syllable envelope: stressed syllables louder, soft onsets and offsets.
    envelope = np.zeros(n)
    for a, b, stressed in spans:
        envelope[a:b] = (1.4 if stressed else 1.0) * _fade(b - a, int(0.02 * sr))
    signal *= envelope

    active = envelope > 0.1
    rms = np.sqrt(np.mean(signal[active] ** 2)) + 1e-12
    signal *= _REFERENCE_RMS * 10 ** (loudness_db / 20) / rms
    floor = _REFERENCE_RMS * 10 ** (-snr / 20)
    signal += floor * rng.standard_normal(n)
    return np.clip(signal, -1.0, 1.0)


# ----------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------


def make_emotional_speech(
    n_samples=240,
    *,
    emotions=None,
    n_languages=3,
    n_speakers_per_language=4,
    duration=(1.0, 2.0),
    sampling_rate=16000,
    shared_cues=("pitch",),
    specific_cues="auto",
    cue_strength=1.0,
    noise=1.0,
    snr=50.0,
    output_dir=None,
    return_bunch=False,
    random_state=None,
):
    """Generate a synthetic multilingual emotional speech corpus.

    Each utterance is synthesised with a source-filter model: a Rosenberg glottal
    pulse train following an F0 contour, formant resonators for vowels, nasals
    and approximants, filtered noise for fricatives and plosive bursts, organised
    into syllables with per-syllable envelopes and phrase pauses. Labels are
    balanced and every speaker speaks every emotion once ``n_samples`` is at
    least the number of speakers times the number of emotions.

    **Emotion** changes prosody through five *cues* (:data:`CUES`), each moving
    a known family of openSMILE IS10 features (:data:`CUE_FEATURES`, or
    :data:`CUE_FAMILIES` in terms of :mod:`sklearn_msfl.explain`):

    - ``"pitch"``: F0 level, F0 range and a rise or fall within each vowel;
      IS10 ``F0final``, ``F0finEnv``.
    - ``"loudness"``: speech level; IS10 ``pcm_loudness``.
    - ``"tilt"``: spectral balance of the glottal source (level above 1 kHz
      relative to below 500 Hz, independent of F0); IS10 ``mfcc``,
      ``logMelFreqBand``, ``lspFreq``.
    - ``"voice_quality"``: cycle-to-cycle jitter and shimmer and breathiness
      (aspiration noise); IS10 ``jitterLocal``, ``jitterDDP``,
      ``shimmerLocal``.
    - ``"rate"``: syllables per second (the duration stays the same); IS10
      ``F0final__Turn_numOnsets``, ``voicingFinalUnclipped``.

    ``shared_cues`` encode the emotion in every language, ``specific_cues`` in
    one language only. Where a cue is not tied to the emotion it varies just as
    much, following an emotion drawn at random, so it says nothing about the
    label there. The emotion effects at ``cue_strength=1`` (neutral is zero):

    =========  ========  ========  ========  ========  ========  ========  =======
    emotion    F0 level  F0 range  F0 shape  loudness  tilt      jitter,   rate
                                                                 shimmer,
                                                                 breath
    =========  ========  ========  ========  ========  ========  ========  =======
    anger      +6 st     x1.4      fall 2st  +8 dB     +10 dB    x3.5      x1.27
    happiness  +7 st     x2        rise 2.5  +4 dB     +5 dB     x0.44     x1.41
    sadness    -2.5 st   x0.5      fall 1st  -7 dB     -8 dB     x2.8      x0.68
    =========  ========  ========  ========  ========  ========  ========  =======

    ("tilt" raises the source spectrum above 1 kHz, positive is brighter.) The
    extra emotions ``"boredom"``, ``"fear"``, ``"disgust"``, ``"surprise"`` and
    ``"calm"`` have effects of the same kind.

    **Languages** differ in phonetic content: vowel inventory (formants) and
    articulatory setting, consonant inventory, syllable structure (CV or
    clusters), rhythm (stress period, stressed/unstressed duration contrast,
    vowel reduction, rate) and intonation (declination, accent height and
    alignment, final rise or fall). They carry the clearly synthetic ISO 639-2
    local-use codes ``"qaa"``, ``"qab"``, ``"qac"``, ...:

    - ``qaa``: open CV syllables, fast and syllable-timed, plosives, five
      peripheral vowels, falling statements;
    - ``qab``: fricative-rich clusters, slow and stress-timed with vowel
      reduction, lax vowels, late accent peaks and a final rise;
    - ``qac``: sonorants, velar and voiced fricatives, front rounded and
      central vowels, level intonation.

    Languages beyond the third are drawn from a fixed seed, so that, like the
    first three, they do not depend on ``random_state``.

    **Speakers** (genders alternate within a language; ids like ``"qab_m02"``,
    unique across languages) differ in baseline F0, vocal tract length (all
    formants scaled) and habitual offsets of every cue.

    Parameters
    ----------
    n_samples : int, default=240
        Number of utterances.
    emotions : None, int or sequence of str, default=None
        Emotion classes. None means :data:`~sklearn_msfl.corpora.DEFAULT_EMOTIONS`
        (``"anger"``, ``"happiness"``, ``"neutral"``, ``"sadness"``); an int ``k``
        the first ``k`` of those followed by ``"boredom"``, ``"fear"``,
        ``"disgust"``, ``"surprise"``, ``"calm"``; a sequence picks names from
        that list (:data:`~sklearn_msfl.corpora.EMOTION_VOCABULARY`).
    n_languages : int, default=3
        Number of languages, at most 26.
    n_speakers_per_language : int, default=4
        Speakers per language.
    duration : float or (float, float), default=(1.0, 2.0)
        Utterance duration in seconds, or the range it is drawn from uniformly.
        Durations do not depend on the labels.
    sampling_rate : int, default=16000
        Sampling rate in Hz, at least 8000.
    shared_cues : str or sequence of str, default=("pitch",)
        Cues that encode the emotion in every language.
    specific_cues : "auto", None or dict, default="auto"
        Cues that encode the emotion in one language only. A dict maps a
        language (index or code) to a cue or a sequence of cues. ``"auto"``
        gives language ``i`` the ``i``-th (cyclically) of ``("loudness",
        "tilt", "voice_quality", "rate")`` that is not shared: by default
        ``qaa`` loudness, ``qab`` tilt, ``qac`` voice quality. None: no
        language-specific cues.
    cue_strength : float or dict, default=1.0
        Scale of the emotion effects, for all cues or per cue (cues missing
        from a dict keep 1.0); 0 makes a cue constant apart from noise.
    noise : float, default=1.0
        Scale of the within-class spread of the cue parameters, per utterance
        and per speaker. Larger is harder.
    snr : float, default=50.0
        Level of the white background noise, in dB below the speech level of a
        neutral utterance.
    output_dir : str or path-like, optional
        If given, write each utterance there as a 16-bit WAV file named
        ``{index:04d}_{language}_{speaker}_{emotion}.wav`` and return the paths
        instead of the signals. The folder is created if needed.
    return_bunch : bool, default=False
        Return a :class:`~sklearn.utils.Bunch` instead of ``(X, y)``.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible corpora.

    Returns
    -------
    X : list of ndarray of shape (n_samples_i,), or list of str
        The float32 signals in [-1, 1], or the WAV file paths.
    y : pandas.DataFrame
        One row per utterance with string columns ``emotion``, ``language``,
        ``speaker`` and ``gender``.
    bunch : sklearn.utils.Bunch
        Only if ``return_bunch=True``, instead of the pair: ``data`` (X),
        ``target`` (y), ``sampling_rate``, ``emotions``, ``languages`` (codes),
        ``cues`` (``{"shared": (...), "specific": {code: (...)}}``, the cue
        assignment in effect) and ``parameters``, a DataFrame of the prosodic
        parameters each utterance was synthesised with (columns
        ``f0_level``, ``f0_range``, ``f0_shape``, ``loudness``, ``tilt``,
        ``voice_quality``, ``rate`` in the units of the table above; log2
        factors for range, voice quality and rate).

    See Also
    --------
    sklearn.datasets.make_classification : The same idea for tabular data.

    Notes
    -----
    The speakers depend only on ``random_state``, ``n_languages``,
    ``n_speakers_per_language`` and ``noise``. Synthesis takes about 10 ms per
    second of audio.

    Examples
    --------
    >>> from sklearn_msfl.datasets import make_emotional_speech
    >>> X, y = make_emotional_speech(24, n_speakers_per_language=2, duration=0.5,
    ...                              random_state=0)
    >>> len(X), X[0].dtype, X[0].shape
    (24, dtype('float32'), (8000,))
    >>> y.groupby("emotion").size().tolist()
    [6, 6, 6, 6]
    >>> sorted(y["language"].unique())
    ['qaa', 'qab', 'qac']
    >>> corpus = make_emotional_speech(24, n_speakers_per_language=2, duration=0.5,
    ...                                return_bunch=True, random_state=0)
    >>> corpus.cues["shared"], corpus.cues["specific"]
    (('pitch',), {'qaa': ('loudness',), 'qab': ('tilt',), 'qac': ('voice_quality',)})
    """
    n_samples = _check_int(n_samples, "n_samples", 1)
    emotions = _check_emotions(emotions)
    n_languages = _check_int(n_languages, "n_languages", 1, _MAX_LANGUAGES)
    n_speakers_per_language = _check_int(
        n_speakers_per_language, "n_speakers_per_language", 1
    )
    low, high = _check_duration(duration)
    sampling_rate = _check_int(sampling_rate, "sampling_rate", 8000, 192000)
    languages = [_language(i) for i in range(n_languages)]
    codes = tuple(language.code for language in languages)
    shared, specific = _check_cues(shared_cues, specific_cues, codes)
    strengths = _check_strength(cue_strength)
    noise = _check_non_negative(noise, "noise")
    if (
        not isinstance(snr, numbers.Real)
        or isinstance(snr, bool)
        or not np.isfinite(snr)
    ):
        raise TypeError(f"snr must be a finite number of dB, got {snr!r}.")

    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    # One stream for the design and one per utterance, so that an utterance does
    # not depend on how many random numbers the ones before it drew.
    design_seed, *utterance_seeds = np.random.SeedSequence(seed).spawn(n_samples + 1)
    design_rng = np.random.default_rng(design_seed)
    utterance_rngs = map(np.random.default_rng, utterance_seeds)
    speakers = _make_speakers(languages, n_speakers_per_language, noise, design_rng)
    speaker_index, emotion_index = _assign_labels(
        n_samples, len(speakers), len(emotions), design_rng
    )
    language_by_code = dict(zip(codes, languages))

    signals, rows, parameters = [], [], []
    for speaker_i, emotion_i, rng in zip(speaker_index, emotion_index, utterance_rngs):
        speaker, emotion = speakers[speaker_i], emotions[emotion_i]
        language = language_by_code[speaker["language"]]
        tied = set(shared) | set(specific[language.code])
        params = _emotion_parameters(emotion, tied, strengths, emotions, rng)
        params += speaker["offsets"]
        params += noise * _NOISE_SCALES * rng.standard_normal(len(_PARAMETERS))
        seconds = rng.uniform(low, high)
        signal = _synthesize(
            language, speaker, params, seconds, sampling_rate, snr, rng
        )
        signals.append(signal[: int(round(seconds * sampling_rate))].astype(np.float32))
        rows.append((emotion, language.code, speaker["speaker"], speaker["gender"]))
        parameters.append(params)
    y = pd.DataFrame(rows, columns=["emotion", "language", "speaker", "gender"])

    X = signals
    if output_dir is not None:
        X = _write_wavs(signals, y, sampling_rate, Path(output_dir))
    if not return_bunch:
        return X, y
    return Bunch(
        data=X,
        target=y,
        sampling_rate=sampling_rate,
        emotions=emotions,
        languages=codes,
        cues={"shared": shared, "specific": specific},
        parameters=pd.DataFrame(parameters, columns=list(_PARAMETERS)),
    )


def _write_wavs(signals, labels, sampling_rate, folder):
    import soundfile

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, (signal, row) in enumerate(zip(signals, labels.itertuples(index=False))):
        path = folder / f"{index:04d}_{row.language}_{row.speaker}_{row.emotion}.wav"
        soundfile.write(path, signal, sampling_rate, subtype="PCM_16")
        paths.append(str(path))
    return paths


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
