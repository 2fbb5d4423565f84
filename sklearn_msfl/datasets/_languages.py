"""Synthetic languages: vowel and consonant inventories, syllable templates, voice settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


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
