"""The argument parser of ``msfl`` and its help texts."""

from __future__ import annotations

import argparse
import textwrap

from .. import __version__
from ..features._audio_files import AUDIO_EXTENSIONS
from ._args import PROG
from ._commands import _cmd_evaluate, _cmd_explain, _cmd_extract, _cmd_predict, _cmd_train


EXIT_STATUS_HELP = """\
exit status:
  0    success
  1    runtime error (missing or unreadable file, bad data, failed training): one
       line "msfl <command>: error: ..." on stderr; add --debug for the traceback
  2    usage error (unknown option, missing or malformed argument)
  3    done, but some rows have NaN or infinite features (bad audio with --on-error
       nan, or such values in a feature file): extract writes them as NaN, train,
       evaluate and explain leave them out, predict gives them empty labels;
       stderr names them (the first 5 and the count), also with -q
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


def _wrap(text: str) -> str:
    """Wrap a description to 79 columns (the help formatter keeps text as given)."""
    return textwrap.fill(text, width=79)


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
                       help="bad audio (missing, unreadable, shorter than 0.3 s): 'nan' keeps "
                            "its row with NaN features and warns naming the files (train and "
                            "evaluate then leave those rows out; exit status 3), 'raise' stops "
                            "at the first")


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
               f"probabilities: {{task: {{class: p}}}}}}.\n  Rows with NaN or infinite "
               f"features (inputs that fail with --on-error nan)\n  get empty labels, are "
               f"named on stderr and make the exit status 3.\n\nexamples:\n"
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
                         help="bad audio: stop ('raise') or leave its labels empty ('nan', "
                              "exit status 3)")
    predict.set_defaults(func=_cmd_predict)

    explain = commands.add_parser(
        "explain", parents=[common], formatter_class=_HelpFormatter,
        help="the multilingual shared features (MSFs) a model attends to",
        description=_wrap("Rank the input features by the model's attention weight averaged over "
                    "utterances (sklearn_msfl.explain.shared_features) and print the top ones."),
        epilog=f"several models (seeds, folds): the ranking pools them (mean weight, its\n"
               f"standard deviation weight_sd, the share of models with the feature in\n"
               f"their top K, top_k_share) and the markdown output adds the Jaccard overlap\n"
               f"of their top-10 and top-50 sets next to its chance level.\n\n"
               f"examples:\n  msfl explain model.msfl --features features.csv --top 20\n"
               f"  msfl explain model.msfl --features features.csv --by language\n"
               f"  msfl explain seed0.msfl --model seed1.msfl --model seed2.msfl "
               f"--features features.csv\n\n"
               f"{EXIT_STATUS_HELP}",
    )
    explain.add_argument("model", metavar="MODEL", help="a model file from 'msfl train'")
    explain.add_argument("inputs", nargs="*", metavar="AUDIO", help="audio files or folders")
    explain.add_argument("--model", action="append", default=[], dest="more_models",
                         metavar="FILE", help="another model file to pool with MODEL "
                                              "(repeatable: seeds, folds)")
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
