"""Feature files: reading and writing feature tables, joining labels, extracting audio into a table."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from ._args import (
    _CommandError,
    _UsageError,
    _count,
    _emotions,
    _finite_rows,
    _name_rows,
    _note,
    _parse_tasks,
    _split_pair,
)


#: Columns of corpus frames and feature files that are never features.
META_COLUMNS = frozenset({
    "file", "corpus", "language", "speaker", "gender", "emotion", "emotion_std",
    "sentence", "intensity", "repetition", "statement", "sampling_rate", "duration",
})

#: Standard openSMILE sets tried, in this order, to recognise a feature file's columns.
_KNOWN_FEATURE_SETS = ("IS10", "eGeMAPSv02", "IS09", "ComParE_2016", "GeMAPSv01b",
                       "emobase", "IS11", "IS12", "IS13")

_TABLE_SUFFIXES = (".csv", ".parquet", ".npz")


@dataclass
class _FeatureTable:
    """Metadata (one row per item) and the feature matrix."""

    meta: object  # pandas.DataFrame
    X: object  # ndarray (n_items, n_features)
    names: list


def _row_names(meta, n_rows: int) -> list[str]:
    """How messages name rows: by file, else by position (``row 0``, as predict numbers them)."""
    if meta is not None and "file" in meta.columns:
        return meta["file"].astype(str).tolist()
    return [f"row {i}" for i in range(n_rows)]


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
    from ..features import OpenSmileTransformer

    return OpenSmileTransformer(
        feature_set=feature_set or args.feature_set or "IS10",
        n_jobs=args.n_jobs,
        cache=args.cache,
        verbose=False if args.quiet else "auto",
        on_error=args.on_error,
    )


def _load_corpora(args):
    from ..corpora import load_corpora

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
    names = _row_names(meta, len(X))
    keep = _finite_rows(args, X, names, "are left out")
    unlabelled = np.flatnonzero(keep & y.isna().any(axis=1).to_numpy())
    if len(unlabelled):
        _note(args, f"leaving out {len(unlabelled)} of {len(keep)} rows without a label: "
                    f"{_name_rows(names, unlabelled)}")
        keep[unlabelled] = False
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
    from ..features import OpenSmileTransformer

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
