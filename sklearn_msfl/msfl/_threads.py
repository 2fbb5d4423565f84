"""Torch CPU threads for the duration of a fit or a prediction.

The MSFL networks are small (a 16-step LSTM of 32 units, batches of 32): their
operations are too short for torch's intra-op parallelism to pay. A second
thread only adds synchronisation, and when the cores are shared (another
process, or ``GridSearchCV(n_jobs=2)`` running two fits that each start torch
threads) spinning OpenMP threads are descheduled and every operation waits for
them: one epoch took 1.540 s with one thread and 21.236 s with two, the medians
of three fits on a shared 2-core machine (``benchmarks/results/threads.md``). The estimator therefore
trains and predicts on one thread unless told otherwise, and never on more than
the caller allowed: torch's own setting (``torch.set_num_threads``,
``OMP_NUM_THREADS``, threadpoolctl's OpenMP limits, the per-worker limits that
joblib and dask set) is an upper bound, and it is restored afterwards.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["resolve_n_threads", "torch_threads"]

#: Threads used when ``n_threads=None``: one, see the module docstring.
DEFAULT_N_THREADS = 1

# Concurrent fits in threads of one process (joblib's threading backend, dask's
# threaded workers) share torch's process-wide setting: the first to enter saves
# the caller's value, the last to leave restores it.
_lock = threading.Lock()
_active = 0
_saved: int | None = None


def caller_thread_limit(current: int | None = None) -> int:
    """The most torch threads the caller allows: torch's setting (``current``, else
    ``torch.get_num_threads()``), capped by ``OMP_NUM_THREADS`` when that is set (a
    worker's environment may say less than the thread pool torch started with)."""
    limit = torch.get_num_threads() if current is None else current
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        limit = min(limit, int(env))
    return max(1, limit)


def resolve_n_threads(n_threads: int | None, limit: int | None = None) -> int:
    """Number of torch threads for ``n_threads`` under the caller's ``limit``.

    Parameters
    ----------
    n_threads : int or None
        ``None``: the measured rule (one thread); a positive int: that many;
        ``-1``: as many as the caller allows.
    limit : int, optional
        Upper bound; :func:`caller_thread_limit` by default.

    Returns
    -------
    int

    Examples
    --------
    >>> resolve_n_threads(None, limit=8)
    1
    >>> resolve_n_threads(4, limit=2), resolve_n_threads(-1, limit=2)
    (2, 2)
    """
    limit = caller_thread_limit() if limit is None else limit
    if n_threads is None:
        return min(DEFAULT_N_THREADS, limit)
    if n_threads == -1:
        return limit
    return min(int(n_threads), limit)


@contextmanager
def torch_threads(n_threads: int | None) -> Iterator[int]:
    """Run a block with torch's intra-op threads set by :func:`resolve_n_threads`.

    Yields the number of threads used; the caller's setting is restored on exit.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with torch_threads(None) as n:
    ...     n == torch.get_num_threads() == 1
    True
    >>> torch.get_num_threads() == before
    True
    """
    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = torch.get_num_threads()
        n = resolve_n_threads(n_threads, caller_thread_limit(_saved))
        _active += 1
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
    try:
        yield n
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and torch.get_num_threads() != _saved:
                torch.set_num_threads(_saved)
