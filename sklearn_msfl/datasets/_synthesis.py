"""Source-filter signal synthesis: glottal source, formant filters, spectral tilt, breath noise."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from ._languages import _BANDWIDTHS, _CONSONANTS, _UPPER_FORMANTS, _VOWELS


_REFERENCE_RMS = 0.04  # active-speech RMS of a neutral utterance at 0 dB
_FRAME = 0.005  # seconds, time step of the F0 contour
_CLOSING_SECONDS = 0.001  # duration of the glottal closing phase
# Voice quality at neutral: jitter and shimmer (relative SD of period and pulse
# amplitude) and aspiration noise RMS relative to the pulses.
_VOICE_QUALITY = (0.01, 0.06, 0.1)
_TILT_LOW_HZ = 500.0  # the tilt cue's gain ramps from here to an octave above


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
