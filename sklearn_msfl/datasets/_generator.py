"""The public generator :func:`make_emotional_speech`: argument checks, corpus assembly, WAV output."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state

from ..corpora import DEFAULT_EMOTIONS
from ._design import (
    CUES,
    _AUTO_CUE_ORDER,
    _EMOTION_EFFECTS,
    _NOISE_SCALES,
    _PARAMETERS,
    _assign_labels,
    _emotion_parameters,
    _make_speakers,
)
from ._languages import _MAX_LANGUAGES, _language
from ._synthesis import _synthesize


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
