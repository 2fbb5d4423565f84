"""The ``msfl`` command: feature extraction, training, evaluation, prediction, explanation.

For people who do not write Python. Every subcommand has ``--help``; the exit
status is 0 on success, 1 on a runtime error (a one-line message on stderr,
the traceback with ``--debug``), 2 on a usage error and 3 when the command
finished but rows with NaN or infinite features were left out (named on
stderr). Heavy libraries (torch, scikit-learn, openSMILE) are imported by the
subcommands only, so that ``msfl --help`` answers at once.

Run ``msfl --help`` or ``python -m sklearn_msfl --help``.

The package keeps one concern per private module: ``_parser`` (the argument parser and
its help texts), ``_args`` (exit statuses, errors, option values, audio file lists),
``_tables`` (feature files and labels) and ``_commands`` (the five commands); the entry
point :func:`main` is here (console script ``msfl = sklearn_msfl.cli:main``).
"""

from __future__ import annotations

import sys
import traceback
import warnings

from ._args import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_ROWS_LEFT_OUT,
    EXIT_USAGE,
    PROG,
    _UsageError,
)
from ._parser import build_parser

__all__ = ["main", "build_parser"]


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as ``msfl: warning: ...`` without source locations."""
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def main(argv=None) -> int:
    """Run the ``msfl`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 1 on a runtime error, 2 on a usage error, 3 when rows
        with NaN or infinite features were left out, 130 when interrupted.

    Examples
    --------
    >>> from sklearn_msfl.cli import main
    >>> main(["--version"])  # doctest: +SKIP
    msfl (sklearn-msfl) 0.1.0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version (0) or a usage error (2)
        return int(exit_.code or 0)
    args.debug = getattr(args, "debug", False)
    args.quiet = getattr(args, "quiet", False)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    name = f"{PROG} {args.command}"
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            status = args.func(args)
        except _UsageError as error:
            print(f"usage: {name} ... (see {name} --help)\n{name}: error: {error}",
                  file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            print(f"{name}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except Exception as error:  # every other failure: one line, or the traceback
            if args.debug:
                traceback.print_exc()
            print(f"{name}: error: {_one_line(error)}", file=sys.stderr)
            return EXIT_ERROR
    if getattr(args, "rows_left_out", 0) and status in (None, EXIT_OK):
        return EXIT_ROWS_LEFT_OUT
    return EXIT_OK if status is None else status
