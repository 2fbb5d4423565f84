"""Features extracted once, found again by content: the table that :func:`~sklearn_msfl.evaluate` shares.

:func:`~sklearn_msfl.evaluation.evaluate` extracts the features of every row before any fold
starts and hands the folds a :class:`FeatureTable`. While a table is active (:func:`active`),
every :class:`~sklearn_msfl.OpenSmileTransformer` of this process looks its items up there
before its disk cache, so the pipelines of all folds, of every model and of searches nested
in them reuse the one extraction. Items are found by content, like the disk cache: a file by
the hash of its bytes (remembered per path with its size and modification time, so that a
file is hashed once), a signal by the hash of its samples. An altered copy (augmented audio,
whether a new file or a signal) therefore never takes the features of its original.

Like :mod:`sklearn_msfl.features._extraction`, this module imports no scikit-learn, so that worker
processes pay little for it.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from ._extraction import AudioItem, item_digest


@dataclass
class FeatureTable:
    """Feature rows of one or several extraction settings, keyed by item content."""

    #: settings digest -> (n_items, n_features) float32 matrix of extracted rows
    features: dict[str, np.ndarray] = field(default_factory=dict)
    #: (settings digest, content digest) -> row of ``features[settings digest]``
    rows: dict[tuple[str, str], int] = field(default_factory=dict)
    #: (settings digest, content digest) -> why an item could not be extracted (its error
    #: message without the item's name, which depends on where it stands in ``X``)
    errors: dict[tuple[str, str], str] = field(default_factory=dict)
    #: absolute path -> (size, modification time in ns, content digest)
    files: dict[str, tuple[int, int, str]] = field(default_factory=dict)

    def add(self, settings_digest: str, keys: list[str | None], features: np.ndarray,
            errors: dict[int, str]) -> None:
        """Record the rows of one extraction.

        ``keys`` are the content digests of the rows (None: unknown), ``errors`` the reasons
        why rows could not be extracted, by position.
        """
        self.features[settings_digest] = features
        for position, key in enumerate(keys):
            if key is None:
                continue
            if position in errors:
                self.errors[settings_digest, key] = errors[position]
            else:
                self.rows[settings_digest, key] = position

    def remember_file(self, item: AudioItem, key: str) -> None:
        """Remember the digest of a file, valid while its size and modification time stay."""
        status = os.stat(item.path)
        self.files[item.path] = (status.st_size, status.st_mtime_ns, key)

    def known_digest(self, item: AudioItem) -> str | None:
        """The digest of a file remembered unchanged, else None."""
        known = self.files.get(item.path)
        if known is None:
            return None
        try:
            status = os.stat(item.path)
        except OSError:
            return None
        if (status.st_size, status.st_mtime_ns) != known[:2]:
            return None
        return known[2]


_lock = threading.Lock()
# Tables active in this process (a tuple, replaced whole, so that readers need no lock).
_active: tuple[FeatureTable, ...] = ()


@contextmanager
def active(table: FeatureTable | None):
    """Make ``table`` visible to every transformer of this process (its threads included)."""
    global _active
    if table is None:
        yield
        return
    with _lock:
        _active = (*_active, table)
    try:
        yield
    finally:
        with _lock:  # remove one occurrence: threads may have activated the same table
            position = _active.index(table)
            _active = _active[:position] + _active[position + 1:]


def item_key(item: AudioItem) -> str:
    """The content digest of an item, from an active table's memory of files when it can."""
    if item.path is not None:
        for table in _active:
            key = table.known_digest(item)
            if key is not None:
                return key
    return item_digest(item)


def lookup(settings_digest: str, key: str) -> np.ndarray | str | None:
    """The row of ``key`` in an active table, why it could not be extracted, or None."""
    for table in _active:
        row = table.rows.get((settings_digest, key))
        if row is not None:
            return table.features[settings_digest][row]
        error = table.errors.get((settings_digest, key))
        if error is not None:
            return error
    return None


def any_active() -> bool:
    """Whether a table is active in this process."""
    return bool(_active)
