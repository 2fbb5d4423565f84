"""Run the pending openSMILE extraction, with a progress bar where it takes long.

:class:`~sklearn_msfl.OpenSmileTransformer` hands :func:`run_extraction` the
items that its cache did not have. With ``verbose="auto"`` (the default) a tqdm
bar appears when those items hold more than :data:`AUTO_PROGRESS_SECONDS` of
audio; small inputs and fully cached runs stay quiet. Extraction runs at about
30x real time per core, so the bar appears wherever the user would otherwise
wait more than about a second in silence. The durations come from file
headers and signal lengths: deciding costs far less than extracting.

This module runs in the parent process only; the joblib tasks themselves live
in :mod:`sklearn_msfl.features._extraction`, which worker processes import cheaply.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence

import numpy as np
import soundfile
from joblib import Parallel, delayed, effective_n_jobs
from tqdm.auto import tqdm

from . import _extraction
from ._extraction import AudioItem, ExtractionSettings

#: With ``verbose="auto"``, show a bar once more than this much audio (seconds)
#: is pending. Tests lower it to see a bar on short signals.
AUTO_PROGRESS_SECONDS = 30.0

#: Assumed bit rate (bytes/s, 128 kbit/s) of a file whose header libsndfile
#: cannot read (e.g. m4a); such files are compressed, so size / rate is close.
_COMPRESSED_BYTES_PER_SECOND = 16_000

# Chunking of the parallel work: a few chunks per worker balance uneven file
# durations and load from other processes; a cap keeps the progress bar moving
# and bounds what one task pickles. Each chunk costs only milliseconds, while
# one item costs tens of milliseconds.
_CHUNKS_PER_WORKER = 4
_MAX_CHUNK_SIZE = 32


def check_verbose(verbose) -> None:
    """Raise :class:`ValueError` unless ``verbose`` is ``"auto"``, a bool or an int.

    Examples
    --------
    >>> check_verbose("auto"), check_verbose(False), check_verbose(2)
    (None, None, None)
    >>> check_verbose("yes")
    Traceback (most recent call last):
    ...
    ValueError: verbose must be 'auto', True or False, got 'yes'
    """
    if isinstance(verbose, str) and verbose == "auto":
        return
    if isinstance(verbose, (bool, np.bool_, numbers.Integral)):
        return
    raise ValueError(f"verbose must be 'auto', True or False, got {verbose!r}")


def item_seconds(item: AudioItem) -> float:
    """Estimate the duration of an item in seconds, without decoding its audio.

    Files are measured from their header; a file libsndfile cannot read is
    estimated from its size, and a missing one counts as 0 s (extraction will
    report it).

    Examples
    --------
    >>> import numpy as np
    >>> item_seconds(AudioItem(index=0, signal=np.zeros((2, 8000)), sampling_rate=16000))
    0.5
    >>> item_seconds(AudioItem(index=0, file="missing.wav", path="/no/such/missing.wav"))
    0.0
    """
    if item.path is None:
        return np.shape(item.signal)[-1] / item.sampling_rate if np.ndim(item.signal) else 0.0
    try:
        return float(soundfile.info(item.path).duration)
    except (soundfile.SoundFileError, OSError, ValueError):
        try:
            return os.path.getsize(item.path) / _COMPRESSED_BYTES_PER_SECOND
        except OSError:
            return 0.0


def pending_seconds(items: Sequence[AudioItem], stop_above: float = math.inf) -> float:
    """Sum the estimated durations of ``items``, stopping once above ``stop_above``.

    Stopping early keeps the decision cheap for large corpora: only the first
    few headers are read.

    Examples
    --------
    >>> import numpy as np
    >>> items = [AudioItem(index=i, signal=np.zeros(16000), sampling_rate=16000)
    ...          for i in range(100)]
    >>> pending_seconds(items), pending_seconds(items, stop_above=2.5)
    (100.0, 3.0)
    """
    total = 0.0
    for item in items:
        total += item_seconds(item)
        if total > stop_above:
            break
    return total


def show_progress(verbose, items: Sequence[AudioItem]) -> bool:
    """Decide whether extracting ``items`` shows a progress bar.

    ``True``/``False`` (or an int) force it; ``"auto"`` shows it when the
    items hold more than :data:`AUTO_PROGRESS_SECONDS` of audio.

    Examples
    --------
    >>> import numpy as np
    >>> one_second = [AudioItem(index=0, signal=np.zeros(16000), sampling_rate=16000)]
    >>> show_progress("auto", one_second), show_progress(True, one_second)
    (False, True)
    >>> show_progress("auto", one_second * 31)
    True
    """
    if isinstance(verbose, str):  # "auto"; check_verbose rejected anything else
        threshold = AUTO_PROGRESS_SECONDS
        return pending_seconds(items, stop_above=threshold) > threshold
    return bool(verbose)


def interleaved_chunks(n_items: int, n_workers: int) -> list[range]:
    """Split ``range(n_items)`` into interleaved chunks of similar total work.

    Examples
    --------
    >>> interleaved_chunks(5, 1)
    [range(0, 5, 4), range(1, 5, 4), range(2, 5, 4), range(3, 5, 4)]
    """
    n_chunks = max(n_workers * _CHUNKS_PER_WORKER, math.ceil(n_items / _MAX_CHUNK_SIZE))
    n_chunks = min(n_chunks, n_items)
    # Interleaving spreads long and short files (often grouped by corpus or
    # folder) evenly over the chunks.
    return [range(start, n_items, n_chunks) for start in range(n_chunks)]


def run_extraction(
    todo: list[tuple[AudioItem, str | None]],
    settings: ExtractionSettings,
    cache_dir: str | None,
    raise_errors: bool,
    n_jobs: int | None,
    verbose,
) -> list[np.ndarray | str]:
    """Extract ``todo`` (``(item, cache key)`` pairs), in parallel when asked.

    Returns one result per pair, in order: a feature vector, or an error
    message when ``raise_errors`` is False. The bar (see :func:`show_progress`)
    is drawn as soon as extraction starts and advances per item in this
    process, per finished chunk with workers.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_msfl import OpenSmileTransformer
    >>> signal = 0.1 * np.ones(16000)
    >>> smile = OpenSmileTransformer(feature_set="eGeMAPSv02").fit([signal])
    >>> todo = [(AudioItem(index=0, signal=signal, sampling_rate=16000), None)]
    >>> results = run_extraction(todo, smile.extraction_settings_, None, True, None, "auto")
    >>> [vector.shape for vector in results]  # one second of audio: no bar
    [(88,)]
    """
    if not todo:
        return []
    n_workers = min(effective_n_jobs(n_jobs), len(todo))
    show = show_progress(verbose, [item for item, _ in todo])
    description = f"openSMILE {os.path.basename(settings.feature_set)}"
    with tqdm(total=len(todo), disable=not show, desc=description, unit="item") as bar:
        if n_workers <= 1:
            return _extraction.extract_chunk(
                todo, settings, cache_dir, raise_errors, progress=bar.update
            )
        chunks = interleaved_chunks(len(todo), n_workers)
        # No backend is forced: joblib.parallel_config decides (loky by default).
        tasks = (
            delayed(_extraction.extract_numbered_chunk)(
                number, [todo[i] for i in chunk], settings, cache_dir, raise_errors
            )
            for number, chunk in enumerate(chunks)
        )
        results: list[np.ndarray | str | None] = [None] * len(todo)
        # Unordered: the bar moves as soon as any chunk finishes, not only the oldest.
        unordered = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        for number, chunk_results in unordered(tasks):
            for position, result in zip(chunks[number], chunk_results, strict=True):
                results[position] = result
            bar.update(len(chunk_results))
    return results
