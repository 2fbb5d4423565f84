"""Per-item openSMILE extraction: read, downmix, resample, hash, cache and extract.

These helpers run inside joblib worker processes, so this module deliberately
imports neither scikit-learn nor pandas-heavy code of its own: a fresh loky
worker pays only for numpy, audiofile, audresample and opensmile (about
0.3 s) instead of also importing scikit-learn (about 2 s on the shared
machine), which would eat most of the gain of ``n_jobs=2`` on short jobs.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import audiofile
import audresample
import numpy as np
import opensmile

#: Bump when the preprocessing (downmix, resampling, clipping) changes, so that
#: old cache entries are no longer found.
CACHE_FORMAT = 1

#: Largest float sample value that openSMILE's int16 conversion can represent.
_INT16_MAX_AS_FLOAT = 32767 / 32768

#: Float signals peaking above this are almost certainly unnormalised PCM
#: values; clipping them to [-1, 1] would give silently wrong features.
_MAX_FLOAT_PEAK = 2.0

#: Shortest audio (in seconds, after resampling) whose functionals are extracted;
#: shorter items raise :class:`AudioError` (a NaN row with ``on_error="nan"``).
#: On short audio openSMILE has too few frames for many functionals
#: (regressions, percentiles, segment and delta statistics) and returns them as
#: exactly 0.0, the same for every input, without a warning; only below about
#: 0.06 s does it return NaN. On speech cropped from EmoDB, CASIA and SAVEE
#: (benchmarks/results/short_audio.md), 0.3 s is the shortest duration at which,
#: in IS10, eGeMAPSv02 and ComParE_2016 alike, no more features are constant
#: across utterances than in whole utterances and fewer than 10% of the values
#: are zeros caused by the shortness. At 0.25 s 1.1% of eGeMAPSv02's features
#: are still constant; at 0.1 s 14% of IS10's, and 70% below that. The shortest
#: file of the five shared corpora lasts just under a second.
MIN_DURATION_SECONDS = 0.3


class AudioError(ValueError):
    """An audio item could not be turned into openSMILE features.

    Raised by :class:`~sklearn_msfl.OpenSmileTransformer` for a missing,
    unreadable, empty or corrupt file, or audio too short for openSMILE.
    The message names the file or the index of the offending item. Audio
    shorter than :data:`MIN_DURATION_SECONDS` counts as too short. It is a
    :class:`ValueError`, so generic input-validation handlers catch it too.

    Examples
    --------
    >>> from sklearn_msfl.features import AudioError, OpenSmileTransformer
    >>> smile = OpenSmileTransformer(feature_set="eGeMAPSv02").fit(["missing.wav"])
    >>> try:
    ...     smile.transform(["missing.wav"])
    ... except AudioError as error:
    ...     print(error)
    item 0 'missing.wav': file not found
    """


class AudioWarning(UserWarning):
    """Some audio items were replaced by NaN rows (``on_error="nan"``).

    Examples
    --------
    >>> import warnings
    >>> from sklearn_msfl.features import AudioWarning, OpenSmileTransformer
    >>> smile = OpenSmileTransformer(feature_set="eGeMAPSv02", on_error="nan")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     features = smile.fit_transform(["missing.wav"])
    >>> caught[0].category is AudioWarning
    True
    """


# --------------------------------------------------------------------------- #
# Items and settings
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, eq=False)  # eq would compare signal arrays
class AudioItem:
    """One row of the input: either a file path or an in-memory signal."""

    index: int
    file: str | None = None  # as given by the user, for messages
    path: str | None = None  # absolute, so workers do not depend on the cwd
    signal: np.ndarray | None = None
    sampling_rate: int | None = None

    @property
    def label(self) -> str:
        """Name the item in messages: its index, and its file if it has one."""
        if self.file is not None:
            return f"item {self.index} {self.file!r}"
        return f"signal at index {self.index}"


@dataclass(frozen=True)
class ExtractionSettings:
    """Everything that determines the features of an item (and its cache key)."""

    feature_set: str  # opensmile.FeatureSet member name, or absolute config path
    is_custom: bool
    feature_level: str  # opensmile.FeatureLevel member name, or custom sink level
    sampling_rate: int
    config_digest: str  # content hash of a custom config ("" for standard sets)

    def smile(self) -> opensmile.Smile:
        """Return this process's (memoised) Smile object for these settings."""
        return _build_smile(
            self.feature_set, self.is_custom, self.feature_level, self.config_digest
        )

    def digest(self) -> str:
        """Hash of the settings, opensmile's version and the cache format."""
        parts = [
            f"cache-format={CACHE_FORMAT}",
            f"opensmile={opensmile.__version__}",
            f"feature_set={self.feature_set if not self.is_custom else 'custom'}",
            f"config={self.config_digest}",
            f"feature_level={self.feature_level}",
            f"sampling_rate={self.sampling_rate}",
        ]
        return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def _spare_distribution_scan() -> None:
    """Spare the first ``opensmile.Smile()`` of a process a scan of all packages.

    audobject names the class of every object it builds after its distribution,
    found with ``importlib.metadata.packages_distributions()``, which parses the
    metadata of every installed package: 0.3 s of CPU here, paid again by every
    fresh worker process. audobject keeps the answer in a module-level dict and
    only scans for modules missing from it; the ``opensmile`` module comes from
    the distribution of the same name, so that entry is all Smile needs.
    """
    try:
        from audobject.core import utils
    except ImportError:  # audobject reorganised: just pay for the scan
        return
    known = getattr(utils, "PACKAGES_DISTRIBUTIONS", None)
    if isinstance(known, dict) and "opensmile" not in known:
        known["opensmile"] = ["opensmile"]


@functools.lru_cache(maxsize=8)
def _build_smile(
    feature_set: str, is_custom: bool, feature_level: str, config_digest: str
) -> opensmile.Smile:
    # Memoised per process: building a Smile parses the config (tens of ms),
    # and loky reuses its workers between transform calls. ``config_digest`` is
    # part of the key so that an edited custom config is picked up.
    del config_digest
    _spare_distribution_scan()
    if is_custom:
        level = (
            opensmile.FeatureLevel[feature_level]
            if feature_level in opensmile.FeatureLevel.__members__
            else feature_level
        )
        return opensmile.Smile(feature_set=feature_set, feature_level=level)
    return opensmile.Smile(
        feature_set=opensmile.FeatureSet[feature_set],
        feature_level=opensmile.FeatureLevel[feature_level],
    )


def file_digest(path: str | os.PathLike) -> str:
    """Return a content hash of a file (its bytes, not its name)."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def signal_digest(signal: np.ndarray, sampling_rate: int) -> str:
    """Return a hash of a signal's samples, dtype, shape and sampling rate."""
    signal = np.ascontiguousarray(signal)
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{signal.dtype.str}|{signal.shape}|{sampling_rate}|".encode())
    digest.update(signal.data)
    return digest.hexdigest()


def item_digest(item: AudioItem) -> str:
    """Hash the content of an item; raise :class:`AudioError` if it is missing."""
    if item.path is None:
        return signal_digest(item.signal, item.sampling_rate)
    try:
        return file_digest(item.path)
    except FileNotFoundError:
        raise AudioError(f"{item.label}: file not found") from None
    except OSError as error:
        raise AudioError(f"{item.label}: cannot read file ({error})") from error


# --------------------------------------------------------------------------- #
# Cache
# --------------------------------------------------------------------------- #


def cache_path(cache_dir: str | os.PathLike, settings_digest: str, content: str) -> Path:
    """Return the ``.npy`` file that holds the features of one item."""
    # One folder per settings, sharded by the first hash byte so that no folder
    # grows to hundreds of thousands of entries.
    return Path(cache_dir) / settings_digest / content[:2] / f"{content}.npy"


def load_cached(path: Path, n_features: int) -> np.ndarray | None:
    """Return the cached feature vector at ``path``, or None when absent/invalid."""
    try:
        vector = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if vector.shape != (n_features,):
        return None
    return vector


def save_cached(path: Path, vector: np.ndarray) -> None:
    """Write ``vector`` to ``path`` atomically (safe with concurrent writers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write to a unique temporary name in the same folder, then rename: readers
    # never see a half-written file and the last of two writers simply wins.
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.save(stream, vector, allow_pickle=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- #
# Reading and preprocessing
# --------------------------------------------------------------------------- #


def read_audio(item: AudioItem) -> tuple[np.ndarray, int]:
    """Read a file as float32 ``(channels, samples)``; raise :class:`AudioError`."""
    if not os.path.exists(item.path):
        raise AudioError(f"{item.label}: file not found")
    if os.path.isdir(item.path):
        raise AudioError(f"{item.label}: is a folder, not an audio file")
    try:
        # The same reader as opensmile.Smile.process_file, hence identical samples.
        signal, sampling_rate = audiofile.read(item.path, always_2d=True)
    except Exception as error:  # libsndfile, sox and ffmpeg raise various types
        raise AudioError(f"{item.label}: cannot read audio ({error})") from error
    if not np.all(np.isfinite(signal)):  # possible in float WAV/FLAC files
        raise AudioError(f"{item.label}: file contains NaN or infinite samples")
    # Float files may exceed full scale; openSMILE's int16 conversion would wrap
    # such samples around. A no-op for integer PCM files.
    signal = np.clip(signal, -1.0, _INT16_MAX_AS_FLOAT)
    return signal, int(sampling_rate)


def as_float32_signal(signal: np.ndarray, label: str) -> np.ndarray:
    """Return a float32 ``(channels, samples)`` copy-free view in [-1, 1] scale."""
    signal = np.asarray(signal)
    if signal.ndim not in (1, 2):
        raise AudioError(
            f"{label}: a signal must be 1-D (samples) or 2-D (channels, samples), "
            f"got shape {signal.shape}"
        )
    if np.issubdtype(signal.dtype, np.integer):
        # Integer PCM: scale to [-1, 1) like a sound-file reader does.
        signal = signal.astype(np.float32) / np.float32(-np.iinfo(signal.dtype).min)
    elif np.issubdtype(signal.dtype, np.floating):
        signal = signal.astype(np.float32, copy=False)
    else:
        raise AudioError(f"{label}: signal has non-numeric dtype {signal.dtype}")
    if signal.size and not np.all(np.isfinite(signal)):
        raise AudioError(f"{label}: signal contains NaN or infinite samples")
    if signal.size and np.abs(signal).max() > _MAX_FLOAT_PEAK:
        raise AudioError(
            f"{label}: float samples must lie in [-1, 1] (peak is "
            f"{np.abs(signal).max():.4g}); pass integer PCM as an integer array"
        )
    return np.atleast_2d(signal)


def to_mono_at_rate(signal: np.ndarray, sampling_rate: int, target_rate: int) -> np.ndarray:
    """Downmix float32 ``(channels, samples)`` by averaging and resample to ``target_rate``.

    Returns a float32 ``(1, samples)`` array ready for openSMILE. Mono audio at
    the target rate is returned unchanged, so features equal
    ``opensmile.Smile.process_file`` exactly for such files.
    """
    if signal.shape[0] > 1:
        # Same downmix (channel average) as opensmile's ``mixdown=True``.
        signal = audresample.remix(signal, mixdown=True)
    if sampling_rate != target_rate:
        signal = audresample.resample(signal, sampling_rate, target_rate)
        # Resampling can overshoot full scale; openSMILE's int16 conversion
        # would wrap such samples around instead of saturating them.
        signal = np.clip(signal, -1.0, _INT16_MAX_AS_FLOAT)
    return signal


def load_item(item: AudioItem, target_rate: int) -> np.ndarray:
    """Return the item as float32 mono ``(1, samples)`` at ``target_rate``."""
    if item.path is not None:
        signal, sampling_rate = read_audio(item)
    else:
        signal = as_float32_signal(item.signal, item.label)
        sampling_rate = item.sampling_rate
    if signal.shape[-1] == 0:
        raise AudioError(f"{item.label}: audio is empty (0 samples)")
    return to_mono_at_rate(signal, sampling_rate, target_rate)


# --------------------------------------------------------------------------- #
# Extraction
# --------------------------------------------------------------------------- #


def extract_item(item: AudioItem, settings: ExtractionSettings) -> np.ndarray:
    """Return the openSMILE feature vector (float32) of one item."""
    signal = load_item(item, settings.sampling_rate)
    if signal.shape[-1] < round(MIN_DURATION_SECONDS * settings.sampling_rate):
        raise _too_short(item, signal, settings.sampling_rate)
    with warnings.catch_warnings():
        # opensmile only *warns* and returns NaN for a too-short signal; we
        # detect that below and report it with the item's name instead.
        warnings.filterwarnings("ignore", message="Segment too short")
        # A deprecated set (e.g. "eGeMAPS") already warned when fit built it.
        warnings.filterwarnings("ignore", message="Feature set .* is deprecated")
        features = settings.smile()(signal, settings.sampling_rate)
    # Shape (channels=1, features, frames): functionals give exactly one frame.
    if features.shape[2] != 1:
        raise ValueError(
            f"feature level {settings.feature_level!r} yields {features.shape[2]} "
            "frames per item; OpenSmileTransformer needs one vector per item "
            "(use functionals)"
        )
    vector = features[0, :, 0]
    if np.all(np.isnan(vector)):  # possible with a custom config
        raise _too_short(item, signal, settings.sampling_rate)
    if not np.all(np.isfinite(vector)):
        raise AudioError(f"{item.label}: openSMILE returned non-finite features")
    return vector


def _too_short(item: AudioItem, signal: np.ndarray, sampling_rate: int) -> AudioError:
    n_samples = signal.shape[-1]
    return AudioError(
        f"{item.label}: audio too short for openSMILE functionals ({n_samples} samples, "
        f"{n_samples / sampling_rate:.3f} s at {sampling_rate} Hz; at least "
        f"{MIN_DURATION_SECONDS} s are needed)"
    )


def extract_chunk(
    chunk: list[tuple[AudioItem, str | None]],
    settings: ExtractionSettings,
    cache_dir: str | None,
    raise_errors: bool,
    progress=None,
) -> list[np.ndarray | str]:
    """Extract a list of ``(item, cache_key)`` in this process.

    Returns one feature vector per item, or the error message of a bad item
    when ``raise_errors`` is False. Successful items with a key are written
    to the cache. ``progress`` (parent process only) is called once per item.
    """
    settings_digest = settings.digest() if cache_dir is not None else None
    results = []
    for item, key in chunk:
        try:
            vector = extract_item(item, settings)
        except AudioError as error:
            if raise_errors:
                raise
            results.append(str(error))
        else:
            if key is not None:
                save_cached(cache_path(cache_dir, settings_digest, key), vector)
            results.append(vector)
        if progress is not None:
            progress()
    return results


def extract_numbered_chunk(
    number: int,
    chunk: list[tuple[AudioItem, str | None]],
    settings: ExtractionSettings,
    cache_dir: str | None,
    raise_errors: bool,
) -> tuple[int, list[np.ndarray | str]]:
    """Return ``(number, extract_chunk(chunk, ...))``; the joblib task of one worker.

    The number travels with the results so that the parent can take chunks
    in the order they finish (and advance its progress bar at once) rather
    than in the order they were submitted.
    """
    return number, extract_chunk(chunk, settings, cache_dir, raise_errors)
