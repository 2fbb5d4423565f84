"""The ``msfl`` command: feature extraction, training, evaluation, prediction, explanation.

For people who do not write Python. Every subcommand has ``--help``; the exit
status is 0 on success, 1 on a runtime error (a one-line message on stderr,
the traceback with ``--debug``) and 2 on a usage error. Heavy libraries (torch,
scikit-learn, openSMILE) are imported by the subcommands only, so that
``msfl --help`` answers at once.

Run ``msfl --help`` or ``python -m sklearn_msfl --help``.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import textwrap
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from ._audio_files import AUDIO_EXTENSIONS, find_audio_files

__all__ = ["main", "build_parser"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

PROG = "msfl"

EXIT_STATUS_HELP = """\
exit status:
  0    success
  1    runtime error (missing or unreadable file, bad data, failed training): one
       line "msfl <command>: error: ..." on stderr; add --debug for the traceback
  2    usage error (unknown option, missing or malformed argument)
  130  interrupted (Ctrl-C)
"""

MAIN_EPILOG = f"""\
typical session:
  msfl extract --corpus emodb=~/data/emodb --corpus ravdess=~/data/ravdess -o features.csv
  msfl evaluate --features features.csv --baseline svm
  msfl train --features features.csv --tasks emotion,language -o model.msfl
  msfl predict model.msfl recordings/ -o predictions.csv
  msfl explain model.msfl --features features.csv --top 20

{EXIT_STATUS_HELP}"""

DATA_HELP = """\
data:
  Labelled data come either from corpora, --corpus NAME=FOLDER (repeatable; names:
  emodb, ravdess, urdu, emovo, casia, savee, tess, cremad), whose audio is
  extracted first, or from a feature file written by "msfl extract" (--features)
  with labels in the same file or in --labels FILE (a CSV with a "file" column,
  or one row per feature row). In a feature file, the feature columns are the
  numeric columns other than the label and metadata columns (file, corpus,
  language, speaker, gender, emotion, emotion_std, ...).

  --tasks names the label columns, main task first; "emotion" reads the corpora's
  shared vocabulary column emotion_std when there is one. Write TASK=COLUMN to
  read a task from another column.
"""

#: Columns of corpus frames and feature files that are never features.
META_COLUMNS = frozenset({
    "file", "corpus", "language", "speaker", "gender", "emotion", "emotion_std",
    "sentence", "intensity", "repetition", "statement", "sampling_rate", "duration",
})

#: Standard openSMILE sets tried, in this order, to recognise a feature file's columns.
_KNOWN_FEATURE_SETS = ("IS10", "eGeMAPSv02", "IS09", "ComParE_2016", "GeMAPSv01b",
                       "emobase", "IS11", "IS12", "IS13")

_TABLE_SUFFIXES = (".csv", ".parquet", ".npz")


def _wrap(text: str) -> str:
    """Wrap a description to 79 columns (the help formatter keeps text as given)."""
    return textwrap.fill(text, width=79)


class _UsageError(Exception):
    """A malformed argument found after parsing; exits with status 2."""


class _CommandError(Exception):
    """A runtime problem with a message meant for the user; exits with status 1."""


# --------------------------------------------------------------------------- #
# Parser
# --------------------------------------------------------------------------- #


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keep the epilog's layout and show defaults."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "%(default)" not in text and action.default not in (None, False, argparse.SUPPRESS, []):
            text += " (default: %(default)s)"
        return text


def _common_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a value given before the subcommand is not reset by its default.
    parent.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error")
    parent.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bars or notes on stderr (warnings and errors "
                             "still show)")
    return parent


def _add_extraction_options(parser) -> None:
    group = parser.add_argument_group("feature extraction")
    group.add_argument("--feature-set", default=None, metavar="NAME",
                       help="openSMILE feature set: IS10, eGeMAPSv02, ComParE_2016, ... or a "
                            "config file (default: IS10; for a feature file, recognised from "
                            "its columns)")
    group.add_argument("--n-jobs", type=int, default=None, metavar="N",
                       help="worker processes for extraction (-1: all processors)")
    group.add_argument("--cache", default=None, metavar="FOLDER",
                       help="feature cache folder: items extracted before are not extracted "
                            "again, so an interrupted run resumes")
    group.add_argument("--on-error", choices=("nan", "raise"), default="nan",
                       help="bad audio (missing, unreadable, too short): 'nan' keeps its row "
                            "with NaN features and warns naming the files (train and evaluate "
                            "then leave those rows out), 'raise' stops at the first")


def _add_data_options(parser, labels=True) -> None:
    group = parser.add_argument_group("data")
    group.add_argument("--corpus", action="append", default=[], metavar="NAME=FOLDER",
                       help="a corpus folder as released (repeatable)")
    group.add_argument("--emotions", default="anger,happiness,neutral,sadness",
                       metavar="LIST",
                       help="comma-separated emotions kept from the corpora, or 'all'")
    if labels:
        group.add_argument("--features", default=None, metavar="FILE",
                           help="a feature file (.csv, .parquet, .npz) instead of corpora")
        group.add_argument("--labels", default=None, metavar="FILE",
                           help="labels for --features when they are not in it (.csv)")
        group.add_argument("--tasks", default="emotion,language", metavar="LIST",
                           help="comma-separated tasks, main first, each with 2 or more "
                                "classes (one language: e.g. emotion,gender or emotion); "
                                "TASK=COLUMN reads another column")


def _add_model_options(parser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="a MultitaskSERClassifier hyperparameter, e.g. max_epochs=20, "
                            "lr=0.001, loss_weighting=equal (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``msfl`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        The parser, with one subparser per command.

    Examples
    --------
    >>> from sklearn_msfl.cli import build_parser
    >>> args = build_parser().parse_args(["predict", "model.msfl", "a.wav"])
    >>> args.command, args.inputs
    ('predict', ['a.wav'])
    """
    common = _common_parent()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=_wrap("Multilingual speech emotion recognition with MSFL "
                    "(multitask shared feature learning) from the command line."),
        epilog=MAIN_EPILOG,
        formatter_class=_HelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version",
                        version=f"{PROG} (sklearn-msfl) {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    extract = commands.add_parser(
        "extract", parents=[common], formatter_class=_HelpFormatter,
        help="audio to a feature file",
        description=_wrap("Extract openSMILE features from audio files or folders, or from corpora "
                    "(then with their labels), into a feature file: .csv, .parquet (needs "
                    "pyarrow) or .npz, chosen by the output name."),
        epilog=f"examples:\n  msfl extract recordings/ -o features.csv\n"
               f"  msfl extract --corpus emodb=~/data/emodb --cache ~/.msfl-cache "
               f"-o emodb.parquet\n\n{EXIT_STATUS_HELP}",
    )
    extract.add_argument("inputs", nargs="*", metavar="AUDIO",
                         help="audio files or folders (searched recursively for "
                              f"{', '.join(AUDIO_EXTENSIONS)}; other formats by file name)")
    extract.add_argument("-o", "--output", required=True, metavar="FILE",
                         help="the feature file to write (.csv, .parquet or .npz)")
    _add_data_options(extract, labels=False)
    _add_extraction_options(extract)
    extract.set_defaults(func=_cmd_extract)

    train = commands.add_parser(
        "train", parents=[common], formatter_class=_HelpFormatter,
        help="train a model and save it",
        description=_wrap("Train an MSFL model (openSMILE features -> MultitaskSERClassifier) on "
                    "all the data and save it with sklearn_msfl.persistence."),
        epilog=f"{DATA_HELP}\nexamples:\n"
               f"  msfl train --corpus emodb=~/data/emodb --corpus urdu=~/data/urdu "
               f"-o model.msfl\n"
               f"  msfl train --features features.csv --labels labels.csv "
               f"--param max_epochs=50 -o model.msfl\n\n{EXIT_STATUS_HELP}",
    )
    train.add_argument("-o", "--output", required=True, metavar="MODEL",
                       help="the model file to write")
    _add_data_options(train)
    _add_model_options(train)
    _add_extraction_options(train)
    train.set_defaults(func=_cmd_train)

    evaluate = commands.add_parser(
        "evaluate", parents=[common], formatter_class=_HelpFormatter,
        help="speaker-independent cross-validation",
        description=_wrap("Cross-validate MSFL with unseen speakers in every test fold "
                    "(CorpusSpeakerKFold) and print UAR/WA per language as a markdown table. "
                    "Features are extracted once; each fold standardises and trains on its "
                    "training speakers only."),
        epilog=f"{DATA_HELP}\n  Speaker-independent folds need a 'speaker' column (corpora "
               f"have one); without a\n  'corpus' column all rows count as one corpus.\n\n"
               f"examples:\n  msfl evaluate --features features.csv --baseline svm\n\n"
               f"{EXIT_STATUS_HELP}",
    )
    _add_data_options(evaluate)
    _add_model_options(evaluate)
    evaluate.add_argument("--folds", type=int, default=5, metavar="K",
                          help="number of folds (every corpus needs K speakers)")
    evaluate.add_argument("--baseline", choices=("none", "svm"), default="none",
                          help="also evaluate a baseline on the same folds and compare; svm: "
                               "standardised features, RBF SVC with C and gamma chosen by a "
                               "grid search scoring UAR on inner speaker-independent folds "
                               "(sklearn_msfl.baselines.make_svm_baseline, as the benchmark)")
    evaluate.add_argument("-o", "--output", default=None, metavar="FILE",
                          help="also write the per-fold scores as CSV")
    _add_extraction_options(evaluate)
    evaluate.set_defaults(func=_cmd_evaluate)

    predict = commands.add_parser(
        "predict", parents=[common], formatter_class=_HelpFormatter,
        help="labels and probabilities for audio",
        description=_wrap("Predict every task's label and class probabilities for audio files "
                    "(with a model trained from audio or with a known feature set) or for the "
                    "rows of a feature file."),
        epilog=f"output:\n  CSV: one row per input with the columns file, <task> and "
               f"<task>_proba_<class>;\n  JSON: a list of {{file, <task>: label, "
               f"probabilities: {{task: {{class: p}}}}}}.\n  Inputs that fail with "
               f"--on-error nan get empty labels.\n\nexamples:\n"
               f"  msfl predict model.msfl a.wav b.flac\n"
               f"  msfl predict model.msfl recordings/ --format json -o predictions.json\n\n"
               f"{EXIT_STATUS_HELP}",
    )
    predict.add_argument("model", metavar="MODEL", help="a model file from 'msfl train'")
    predict.add_argument("inputs", nargs="*", metavar="AUDIO", help="audio files or folders")
    predict.add_argument("--features", default=None, metavar="FILE",
                         help="predict the rows of a feature file instead of audio")
    predict.add_argument("-o", "--output", default=None, metavar="FILE",
                         help="write here instead of stdout")
    predict.add_argument("--format", choices=("csv", "json"), default=None,
                         help="output format (default: from the output name, else csv)")
    predict.add_argument("--device", default="cpu", help="where the network runs")
    predict.add_argument("--n-jobs", type=int, default=None, metavar="N",
                         help="worker processes for extraction")
    predict.add_argument("--cache", default=None, metavar="FOLDER", help="feature cache folder")
    predict.add_argument("--on-error", choices=("raise", "nan"), default="raise",
                         help="bad audio: stop ('raise') or leave its labels empty ('nan')")
    predict.set_defaults(func=_cmd_predict)

    explain = commands.add_parser(
        "explain", parents=[common], formatter_class=_HelpFormatter,
        help="the multilingual shared features (MSFs) a model attends to",
        description=_wrap("Rank the input features by the model's attention weight averaged over "
                    "utterances (sklearn_msfl.explain.shared_features) and print the top ones."),
        epilog=f"examples:\n  msfl explain model.msfl --features features.csv --top 20\n"
               f"  msfl explain model.msfl --features features.csv --by language\n\n"
               f"{EXIT_STATUS_HELP}",
    )
    explain.add_argument("model", metavar="MODEL", help="a model file from 'msfl train'")
    explain.add_argument("inputs", nargs="*", metavar="AUDIO", help="audio files or folders")
    explain.add_argument("--features", default=None, metavar="FILE",
                         help="explain on the rows of a feature file instead of audio")
    explain.add_argument("--labels", default=None, metavar="FILE",
                         help="extra columns for --by, joined on 'file' (.csv)")
    explain.add_argument("--top", type=int, default=20, metavar="K",
                         help="number of features shown (per group)")
    explain.add_argument("--by", default=None, metavar="COLUMN",
                         help="one ranking per value of this column of the feature or labels "
                              "file (e.g. language)")
    explain.add_argument("--format", choices=("markdown", "csv"), default="markdown",
                         help="output format")
    explain.add_argument("-o", "--output", default=None, metavar="FILE",
                         help="write here instead of stdout")
    explain.add_argument("--device", default="cpu", help="where the network runs")
    explain.set_defaults(func=_cmd_explain)
    return parser


# --------------------------------------------------------------------------- #
# Entry point
# --------------------------------------------------------------------------- #


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
        0 on success, 1 on a runtime error, 2 on a usage error, 130 when
        interrupted.

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
    return EXIT_OK if status is None else status


# --------------------------------------------------------------------------- #
# Argument helpers
# --------------------------------------------------------------------------- #


def _note(args, message: str) -> None:
    if not args.quiet:
        print(f"{PROG}: {message}", file=sys.stderr)


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
    from .estimator import MultitaskSERClassifier

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


# --------------------------------------------------------------------------- #
# Feature tables
# --------------------------------------------------------------------------- #


@dataclass
class _FeatureTable:
    """Metadata (one row per item) and the feature matrix."""

    meta: object  # pandas.DataFrame
    X: object  # ndarray (n_items, n_features)
    names: list


def _table_format(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in _TABLE_SUFFIXES:
        raise _UsageError(f"{path}: feature files end in {', '.join(_TABLE_SUFFIXES)}")
    return suffix


def _write_table(table: _FeatureTable, path: str) -> None:
    import numpy as np
    import pandas as pd

    suffix = _table_format(path)
    Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".npz":
        meta = {f"meta:{column}": table.meta[column].astype("string").fillna("").to_numpy(str)
                for column in table.meta.columns}
        np.savez_compressed(path, features=np.asarray(table.X, dtype=np.float32),
                            feature_names=np.asarray(table.names, dtype=str), **meta)
        return
    frame = pd.concat(
        [table.meta.reset_index(drop=True),
         pd.DataFrame(table.X, columns=list(table.names))], axis=1
    )
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        try:
            frame.to_parquet(path, index=False)
        except ImportError as error:
            raise _CommandError(
                f"writing {path} needs pyarrow (pip install pyarrow); or write .csv or .npz"
            ) from error


def _read_table(path: str, label_columns=()) -> _FeatureTable:
    import numpy as np
    import pandas as pd

    suffix = _table_format(path)
    if not Path(path).expanduser().is_file():
        raise _CommandError(f"feature file not found: {path}")
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            meta = pd.DataFrame({
                key[len("meta:"):]: pd.Series(data[key], dtype="string").replace("", pd.NA)
                for key in data.files if key.startswith("meta:")
            })
            return _FeatureTable(meta, data["features"], data["feature_names"].tolist())
    frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    excluded = META_COLUMNS | set(label_columns)
    names = [
        column for column in frame.columns
        if column not in excluded and pd.api.types.is_numeric_dtype(frame[column])
    ]
    if not names:
        raise _CommandError(f"{path} has no numeric feature columns")
    meta = frame.drop(columns=names)
    return _FeatureTable(meta, frame[names].to_numpy(dtype=np.float64), [str(n) for n in names])


def _merge_labels(table: _FeatureTable, labels_path: str) -> _FeatureTable:
    """Add the columns of a labels CSV, joined on ``file`` (full path, then file name)."""
    import pandas as pd

    if not Path(labels_path).expanduser().is_file():
        raise _CommandError(f"labels file not found: {labels_path}")
    labels = pd.read_csv(labels_path)
    meta = table.meta.reset_index(drop=True)
    if "file" not in labels.columns:
        if len(labels) != len(meta):
            raise _CommandError(
                f"{labels_path} has no 'file' column and {len(labels)} rows for "
                f"{len(meta)} feature rows"
            )
        extra = labels.drop(columns=[c for c in labels.columns if c in meta.columns])
        return _FeatureTable(pd.concat([meta, extra], axis=1), table.X, table.names)
    if "file" not in meta.columns:
        raise _CommandError("the feature file has no 'file' column to join the labels on")
    for key in (lambda s: s.astype(str), lambda s: s.astype(str).map(os.path.basename)):
        left, right = key(meta["file"]), key(labels["file"])
        if right.is_unique and left.isin(set(right)).all():
            extra = labels.drop(columns=[c for c in labels.columns if c in meta.columns])
            extra.index = right
            joined = pd.concat([meta, extra.loc[left].reset_index(drop=True)], axis=1)
            return _FeatureTable(joined, table.X, table.names)
    known = set(labels["file"].astype(str).map(os.path.basename))
    missing = [f for f in meta["file"].astype(str) if os.path.basename(f) not in known]
    if not missing:  # every name is there, but some more than once
        raise _CommandError(f"{labels_path}: file names are not unique")
    raise _CommandError(f"{labels_path}: no labels for {len(missing)} of {len(meta)} feature "
                       f"rows, e.g. {missing[0]}")


def _smile(args, feature_set=None):
    from .features import OpenSmileTransformer

    return OpenSmileTransformer(
        feature_set=feature_set or args.feature_set or "IS10",
        n_jobs=args.n_jobs,
        cache=args.cache,
        verbose=False if args.quiet else "auto",
        on_error=args.on_error,
    )


def _load_corpora(args):
    from .corpora import load_corpora

    paths = {}
    for text in args.corpus:
        name, folder = _split_pair(text, "--corpus")
        paths[name] = os.path.expanduser(folder)
    return load_corpora(paths, emotions=_emotions(args.emotions))


def _extract(args, meta, items) -> tuple[_FeatureTable, object]:
    smile = _smile(args).fit(items)
    _note(args, f"extracting {smile.feature_set} features of {len(meta)} items")
    X = smile.transform(items)
    names = smile.get_feature_names_out().tolist()
    return _FeatureTable(meta.reset_index(drop=True), X, names), smile


def _labelled_data(args):
    """Features and labels for train/evaluate; also the fitted extractor, if known."""
    if bool(args.corpus) == bool(args.features):
        raise _UsageError("give either --corpus NAME=FOLDER (repeatable) or --features FILE")
    tasks = _parse_tasks(args.tasks)
    if args.corpus:
        frame = _load_corpora(args)
        table, smile = _extract(args, frame, frame)
    else:
        table = _read_table(args.features, [column for _, column in tasks if column])
        if args.labels:
            table = _merge_labels(table, args.labels)
        smile = _recognise_feature_set(args, table.names)
    return _with_labels(args, table, tasks), smile


def _with_labels(args, table: _FeatureTable, tasks):
    import numpy as np
    import pandas as pd

    meta = table.meta
    columns = {}
    for task, column in tasks:
        if column is None:
            column = "emotion_std" if task == "emotion" and "emotion_std" in meta else task
        if column not in meta.columns:
            raise _CommandError(
                f"no label column {column!r} for task {task!r}; columns: "
                f"{', '.join(map(str, meta.columns))} (see --tasks, --labels)"
            )
        columns[task] = meta[column]
    y = pd.DataFrame(columns).reset_index(drop=True)
    X = np.asarray(table.X, dtype=np.float64)
    keep = np.isfinite(X).all(axis=1) & y.notna().all(axis=1).to_numpy()
    if not keep.all():
        _note(args, f"leaving out {int((~keep).sum())} of {len(keep)} items without features "
                    "or labels")
    if not keep.any():
        raise _CommandError("no item has both features and labels")
    meta = meta.reset_index(drop=True)[keep].reset_index(drop=True)
    y = y[keep].reset_index(drop=True)
    _check_task_classes(y, meta, used={series.name for series in columns.values()})
    return _FeatureTable(meta, X[keep], table.names), y


def _check_task_classes(y, meta, used) -> None:
    """Every task needs two classes; say how to choose others (single-language data)."""
    for task in y.columns:
        classes = y[task].unique()
        if len(classes) >= 2:
            continue
        main = y.columns[0]
        others = [column for column in ("gender", "language", "corpus")
                  if column in meta.columns and column not in used
                  and meta[column].nunique() >= 2]
        examples = [f"--tasks {main},{column}" for column in others] + [
            f"--tasks {main} (one task)" if task != main else f"--tasks {task}=COLUMN"]
        raise _CommandError(
            f"task {task!r} has {_count(len(classes), 'class', 'classes')} "
            f"({', '.join(map(str, classes))}) in these data; every task needs 2 or more. "
            f"Choose the tasks with --tasks, main first, e.g. {' or '.join(examples)}"
        )


def _recognise_feature_set(args, names):
    """The fitted OpenSmileTransformer whose feature names are ``names``, or None."""
    from .features import OpenSmileTransformer

    candidates = [args.feature_set] if args.feature_set else _KNOWN_FEATURE_SETS
    for feature_set in candidates:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated sets
            try:
                smile = OpenSmileTransformer(feature_set=feature_set).fit(["unused.wav"])
            except (ValueError, TypeError):
                continue
        if smile.get_feature_names_out().tolist() == list(names):
            return smile
    if args.feature_set:
        raise _CommandError(
            f"the columns of the feature file are not the {args.feature_set} features"
        )
    return None


# --------------------------------------------------------------------------- #
# Commands
# --------------------------------------------------------------------------- #


def _cmd_extract(args) -> int:
    """``msfl extract``: audio or corpora to a feature file."""
    _table_format(args.output)
    if bool(args.inputs) == bool(args.corpus):
        raise _UsageError("give audio files/folders or --corpus NAME=FOLDER (not both)")
    files = None if args.corpus else _audio_files(args.inputs)  # fail fast, before imports

    import numpy as np
    import pandas as pd

    if files is None:
        frame = _load_corpora(args)
        table, _ = _extract(args, frame, frame)
    else:
        table, _ = _extract(args, pd.DataFrame({"file": files}), files)
    _write_table(table, args.output)
    n_bad = int(np.isnan(np.asarray(table.X)).all(axis=1).sum())
    _note(args, f"wrote {len(table.meta)} rows x {len(table.names)} features to {args.output}"
                + (f" ({_count(n_bad, 'row', 'rows')} of NaN for bad audio)" if n_bad else ""))
    return EXIT_OK


def _cmd_train(args) -> int:
    """``msfl train``: fit MultitaskSERClassifier and save it (with its extractor)."""
    from sklearn.pipeline import Pipeline

    from .estimator import MultitaskSERClassifier
    from .persistence import save_model

    params = _estimator_params(args)
    if Path(args.output).expanduser().is_dir():
        raise _CommandError(f"{args.output} is a folder; -o names the model file to write, "
                            f"e.g. {Path(args.output) / 'model.msfl'}")
    (table, y), smile = _labelled_data(args)
    classes = (f"{t} ({_count(y[t].nunique(), 'class', 'classes')})" for t in y.columns)
    _note(args, f"training on {len(y)} items, {len(table.names)} features, tasks "
                f"{', '.join(classes)}")
    model = MultitaskSERClassifier(**params).fit(table.X, y)
    if smile is not None:
        # A saved model should not depend on this machine's folders or cores.
        smile.set_params(cache=None, n_jobs=None, verbose=False, on_error="raise")
        model = Pipeline([("smile", smile), ("msfl", model)])
    else:
        _note(args, "the feature columns are not a known openSMILE set: the model predicts "
                    "from feature files only")
    path = save_model(model, args.output)
    print(f"saved {'audio ' if smile is not None else ''}model to {path} "
          f"({_model_summary(model)})")
    return EXIT_OK


def _model_summary(model) -> str:
    """One line about a fitted model: feature set, tasks and classes."""
    from sklearn.pipeline import Pipeline

    parts = []
    final = model
    if isinstance(model, Pipeline):
        final = model[-1]
        feature_set = getattr(model[0], "feature_set", None)
        if feature_set is not None:
            parts.append(f"{feature_set} features")
    tasks = getattr(final, "classes_per_task_", {})
    parts += [f"{task}: {', '.join(map(str, classes))}" for task, classes in tasks.items()]
    return "; ".join(parts)


def _cmd_evaluate(args) -> int:
    """``msfl evaluate``: speaker-independent cross-validation, markdown table."""
    import pandas as pd

    from .baselines import make_svm_baseline
    from .estimator import MultitaskSERClassifier
    from .evaluation import evaluate
    from .model_selection import CorpusSpeakerKFold

    params = _estimator_params(args)
    if args.folds < 2:
        raise _UsageError(f"--folds must be at least 2, got {args.folds}")
    (table, y), _ = _labelled_data(args)
    meta = table.meta
    if "speaker" not in meta.columns:
        raise _CommandError(
            "speaker-independent folds need a 'speaker' column (in the feature or labels file)"
        )
    corpus = meta["corpus"] if "corpus" in meta.columns else pd.Series("data", index=meta.index)
    groups = pd.DataFrame({"corpus": corpus.astype(str), "speaker": meta["speaker"].astype(str)})
    estimators = {"msfl": MultitaskSERClassifier(**params)}
    if args.baseline == "svm":
        # The benchmark's SVM; its inner folds find the speakers of a fold's rows by index.
        estimators["svm"] = make_svm_baseline(groups)
    X = pd.DataFrame(table.X, columns=table.names)
    languages = meta["language"].astype(str).to_numpy() if "language" in meta.columns else None
    result = evaluate(estimators, X, y, groups=groups, languages=languages,
                      cv=CorpusSpeakerKFold(n_splits=args.folds), verbose=False if args.quiet else "auto")
    print(result.to_markdown())
    if args.baseline != "none":
        print()
        print(result.compare("msfl", args.baseline))
    if args.output:
        result.scores.to_csv(args.output, index=False)
        _note(args, f"wrote per-fold scores to {args.output}")
    return EXIT_OK


def _model_inputs(args, model):
    """``(final estimator, X, row names)`` for predict/explain from audio or a feature file."""
    import numpy as np
    from sklearn.pipeline import Pipeline

    from .features import OpenSmileTransformer

    is_pipeline = isinstance(model, Pipeline)
    final = model[-1] if is_pipeline else model
    if bool(args.inputs) == bool(args.features):
        raise _UsageError("give audio files/folders or --features FILE (not both)")
    if args.inputs:
        if not is_pipeline:
            raise _CommandError(
                "this model was trained on a feature file without a known openSMILE set; "
                "predict from a feature file (--features) instead"
            )
        for _, step in model.steps[:-1]:
            if isinstance(step, OpenSmileTransformer):
                step.set_params(n_jobs=getattr(args, "n_jobs", None),
                                cache=getattr(args, "cache", None), verbose=False if args.quiet else "auto",
                                on_error=getattr(args, "on_error", "raise"))
        files = _audio_files(args.inputs)
        head = model[:-1]
        return final, head.transform(files), files, head.get_feature_names_out().tolist(), None
    table = _read_table(args.features)
    if getattr(args, "labels", None):
        table = _merge_labels(table, args.labels)
    names = None
    if is_pipeline:
        names = model[:-1].get_feature_names_out().tolist()
    elif getattr(final, "feature_names_in_", None) is not None:
        names = final.feature_names_in_.tolist()
    X = np.asarray(table.X, dtype=np.float64)
    if names is not None:
        missing = [name for name in names if name not in table.names]
        if missing:
            raise _CommandError(
                f"{args.features} lacks {len(missing)} of the model's features, e.g. {missing[0]!r}"
            )
        position = {name: i for i, name in enumerate(table.names)}
        X = X[:, [position[name] for name in names]]
    rows = (table.meta["file"].astype(str).tolist() if "file" in table.meta.columns
            else [str(i) for i in range(len(X))])
    return final, X, rows, names or list(table.names), table.meta


def _task_probabilities(final, X) -> dict:
    if hasattr(final, "predict_proba_tasks"):
        probabilities = final.predict_proba_tasks(X)
        return {task: (final.classes_per_task_[task], p) for task, p in probabilities.items()}
    return {"prediction": (final.classes_, final.predict_proba(X))}


def _cmd_predict(args) -> int:
    """``msfl predict``: labels and probabilities as CSV or JSON."""
    import numpy as np
    import pandas as pd

    from .persistence import load_model

    output_format = args.format or (
        "json" if args.output and args.output.lower().endswith(".json") else "csv")
    model = load_model(_model_path(args.model), device=args.device)
    final, X, rows, _, _ = _model_inputs(args, model)
    good = np.isfinite(X).all(axis=1)
    results = {}
    if good.any():
        for task, (classes, p) in _task_probabilities(final, X[good]).items():
            full = np.full((len(X), len(classes)), np.nan)
            full[good] = p
            results[task] = (classes, full)
    else:
        raise _CommandError("no input could be processed")

    if output_format == "csv":
        frame = pd.DataFrame({"file": rows})
        for task, (classes, p) in results.items():
            frame[task] = [_plain(classes[int(np.argmax(p[i]))]) if good[i] else None
                           for i in range(len(rows))]
        for task, (classes, p) in results.items():
            for j, label in enumerate(classes):
                frame[f"{task}_proba_{label}"] = p[:, j]
        text = frame.to_csv(index=False)
    else:
        records = []
        for i, row in enumerate(rows):
            record = {"file": row}
            probabilities = {}
            for task, (classes, p) in results.items():
                if good[i]:
                    record[task] = _plain(classes[int(np.argmax(p[i]))])
                    probabilities[task] = {
                        str(c): float(v) for c, v in zip(classes, p[i], strict=True)}
                else:
                    record[task] = None
                    probabilities[task] = None
            record["probabilities"] = probabilities
            records.append(record)
        text = json.dumps(records, indent=2) + "\n"
    _emit(args, text)
    return EXIT_OK


def _plain(value):
    """numpy scalars to Python values for JSON."""
    return value.item() if hasattr(value, "item") else value


def _emit(args, text: str) -> None:
    if args.output:
        Path(args.output).expanduser().parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).expanduser().write_text(text)
        _note(args, f"wrote {args.output}")
    else:
        sys.stdout.write(text)


def _markdown(frame) -> str:
    header = [str(column) for column in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in frame.itertuples(index=False):
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cmd_explain(args) -> int:
    """``msfl explain``: the top attended features (MSFs)."""
    from .persistence import load_model

    try:
        from .explain import shared_features
    except ImportError as error:
        raise _CommandError(f"explanations are not available here ({error})") from error
    if args.top < 1:
        raise _UsageError(f"--top must be positive, got {args.top}")
    model = load_model(_model_path(args.model), device=args.device)
    final, X, _, names, meta = _model_inputs(args, model)
    by = None
    if args.by is not None:
        if meta is None or args.by not in meta.columns:
            raise _CommandError(f"--by {args.by}: no such column in the feature file")
        by = meta[args.by].astype(str).to_numpy()
    ranking = shared_features(final, X, feature_names=names, by=by)
    columns = [c for c in ("group", "rank", "feature", "weight", "lld_family",
                           "functional_family") if c in ranking.columns]
    top = ranking[ranking["rank"] <= args.top][columns]
    _emit(args, top.to_csv(index=False) if args.format == "csv" else _markdown(top))
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
