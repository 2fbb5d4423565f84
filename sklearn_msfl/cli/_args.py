"""Command-line values: exit statuses, user-facing errors, option parsing, audio file lists."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from ..features._audio_files import AUDIO_EXTENSIONS, find_audio_files


EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_ROWS_LEFT_OUT = 3
EXIT_INTERRUPTED = 130

PROG = "msfl"

#: Rows named in a message before "and N more".
_MAX_NAMED_ROWS = 5


class _UsageError(Exception):
    """A malformed argument found after parsing; exits with status 2."""


class _CommandError(Exception):
    """A runtime problem with a message meant for the user; exits with status 1."""


def _note(args, message: str) -> None:
    if not args.quiet:
        print(f"{PROG}: {message}", file=sys.stderr)


def _name_rows(names, positions) -> str:
    """``"a.wav, b.wav and 3 more"``: the first few of ``names[positions]``."""
    listed = [str(names[i]) for i in positions[:_MAX_NAMED_ROWS]]
    more = len(positions) - len(listed)
    return ", ".join(listed) + (f" and {more} more" if more else "")


def _finite_rows(args, X, names, fate: str):
    """Mask of the rows of ``X`` whose features are all finite.

    The one policy of every command for rows with NaN or infinite features (bad
    audio under ``--on-error nan``, or such values in a feature file): stderr
    names them, also with ``-q``, ``fate`` saying what the command does with them,
    and the command exits with :data:`EXIT_ROWS_LEFT_OUT` (recorded in
    ``args.rows_left_out``). If no row is finite, it is an error.
    """
    import numpy as np

    good = np.isfinite(X).all(axis=1)
    bad = np.flatnonzero(~good)
    if len(bad) == len(good):
        raise _CommandError(f"all {len(good)} rows have NaN or infinite features: "
                            f"{_name_rows(names, bad)}")
    if len(bad):
        print(f"{PROG}: warning: {len(bad)} of {len(good)} rows have NaN or infinite "
              f"features and {fate}: {_name_rows(names, bad)}", file=sys.stderr)
        args.rows_left_out = len(bad)
    return good


def _split_pair(text: str, option: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise _UsageError(f"{option} expects NAME=VALUE, got {text!r}")
    return key.strip(), value.strip()


def _parse_value(text: str):
    """Parse a ``--param`` value: numbers, tuples, dicts, true/false, none; else a string."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _estimator_params(args) -> dict:
    from ..msfl import MultitaskSERClassifier

    valid = MultitaskSERClassifier().get_params()
    params = {}
    for text in args.param:
        key, value = _split_pair(text, "--param")
        if key not in valid:
            raise _UsageError(
                f"unknown hyperparameter {key!r}; valid: {', '.join(sorted(valid))}"
            )
        params[key] = _parse_value(value)
    return params


def _parse_tasks(text: str) -> list[tuple[str, str | None]]:
    tasks = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        task, sep, column = part.partition("=")
        tasks.append((task.strip(), column.strip() if sep else None))
    if not tasks:
        raise _UsageError("--tasks needs at least one task")
    names = [task for task, _ in tasks]
    if len(set(names)) != len(names):
        raise _UsageError(f"--tasks names a task twice: {names}")
    return tasks


def _emotions(text: str):
    if text.strip().lower() == "all":
        return None
    return [emotion.strip() for emotion in text.split(",") if emotion.strip()]


def _audio_files(inputs) -> list[str]:
    """Expand files and folders (recursively) into a sorted list of audio files per input."""
    files = []
    for entry in inputs:
        path = Path(entry).expanduser()
        if path.is_dir():
            found = [str(p) for p in find_audio_files(path)]
            if not found:
                raise _CommandError(
                    f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in folder {entry}")
            files += found
        elif path.exists() or path.suffix.lower() in AUDIO_EXTENSIONS:
            files.append(str(path))  # a missing file is reported by the extractor
        else:
            raise _CommandError(f"no such file or folder: {entry}")
    return files


def _model_path(path: str) -> str:
    """The model file to read, checked: a folder or a missing file gets a clear message."""
    if Path(path).expanduser().is_dir():
        raise _CommandError(
            f"{path} is a folder; MODEL is a model file written by 'msfl train -o FILE'"
        )
    if not Path(path).expanduser().exists():
        raise _CommandError(f"model file not found: {path}")
    return path


def _count(n: int, singular: str, plural: str) -> str:
    """``"1 class"``, ``"4 classes"``."""
    return f"{n} {singular if n == 1 else plural}"
