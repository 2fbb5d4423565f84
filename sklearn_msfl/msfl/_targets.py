"""Task labels of MultitaskSERClassifier: task names, one label column per task, encoding.

``y`` (1-D, 2-D, a Series or a DataFrame, optionally with ``auxiliary`` label
columns) becomes one named label column per task, checked and encoded as integer
codes; :func:`_class_weights` turns the ``class_weight`` parameter into one weight
array per task, :func:`_auxiliary_balance` ``balance="auxiliary"`` into sample
weights; :func:`_where_not_finite` names the rows and features of NaN or
infinite values in ``X``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.utils import assert_all_finite
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, column_or_1d

__all__ = ["default_task_names"]


def default_task_names(n_tasks: int) -> list[str]:
    """Names for the columns of a 2-D label array: emotion, language, task2, ...

    Examples
    --------
    >>> default_task_names(4)
    ['emotion', 'language', 'task2', 'task3']
    """
    names = ["emotion", "language"][:n_tasks]
    return names + [f"task{i}" for i in range(len(names), n_tasks)]


def _where_not_finite(X) -> str | None:
    """Describe where numeric ``X`` holds NaN or infinity; None if nowhere (or not numeric)."""
    if np.iscomplexobj(X):  # validate_data's own message says complex data is unsupported
        return None
    try:
        values = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if values.ndim != 2 or np.isfinite(values).all():
        return None
    bad = ~np.isfinite(values)
    rows, features = np.flatnonzero(bad.any(axis=1)), np.flatnonzero(bad.any(axis=0))
    names = list(X.columns) if isinstance(X, pd.DataFrame) else list(range(values.shape[1]))
    has_nan = bool(np.isnan(values).any())
    kind = "NaN and infinity" if has_nan and np.isinf(values).any() else (
        "NaN" if has_nan else "infinity")
    hint = (
        " NaN rows usually come from audio that OpenSmileTransformer(on_error='nan') could "
        "not process: drop or impute them first." if has_nan else ""
    )
    return (
        f"X contains {kind} in {len(rows)} of {len(values)} rows (rows {rows[:10].tolist()}"
        f"{' ...' if len(rows) > 10 else ''}; features "
        f"{[names[i] for i in features[:10]]}{' ...' if len(features) > 10 else ''}).{hint}"
    )


def _with_auxiliary(y, auxiliary):
    """``y`` (the main task) and the ``auxiliary`` task columns as one DataFrame."""
    if auxiliary is None:
        return y
    main_names, main = _targets_by_task(y)
    if len(main) != 1:
        raise ValueError(
            f"auxiliary labels are given, so y must hold the main task only, got {len(main)} "
            "columns: pass either a 2-D y or a 1-D y with auxiliary="
        )
    if isinstance(auxiliary, (pd.DataFrame, pd.Series)):
        names, columns = _targets_by_task(auxiliary)
        if isinstance(auxiliary, pd.Series) and auxiliary.name is None:
            names = ["language"]
    else:
        array = np.asarray(auxiliary)
        array = array.reshape(-1, 1) if array.ndim == 1 else array
        if array.ndim != 2:
            raise ValueError(f"auxiliary must be 1-D or 2-D, got shape {array.shape}")
        names = default_task_names(1 + array.shape[1])[1:]
        columns = [array[:, i] for i in range(array.shape[1])]
    if main_names[0] in names:
        main_names = ["main"] if "main" not in names else [f"main_{main_names[0]}"]
    check_consistent_length(main[0], *columns)
    return pd.DataFrame(dict(zip(main_names + names, main + columns)))


def _targets_by_task(y) -> tuple[list[str], list[np.ndarray]]:
    """Split ``y`` into task names and one 1-D label array per task."""
    if isinstance(y, pd.DataFrame):
        names = [str(column) for column in y.columns]
        columns = [y.iloc[:, i].to_numpy() for i in range(y.shape[1])]
    elif isinstance(y, pd.Series):
        names = ["emotion" if y.name is None else str(y.name)]
        columns = [y.to_numpy()]
    else:
        array = np.asarray(y)
        if array.ndim == 2 and array.shape[1] == 1:
            array = column_or_1d(array, warn=True)
        if array.ndim == 1:
            names, columns = ["emotion"], [array]
        elif array.ndim == 2:
            names = default_task_names(array.shape[1])
            columns = [array[:, i] for i in range(array.shape[1])]
        else:
            raise ValueError(f"y must be 1-D or 2-D, got shape {array.shape}")
    if not columns:
        raise ValueError("y has no task columns")
    if len(set(names)) != len(names):
        raise ValueError(f"task names must be unique, got {names}")
    return names, columns


def _encode_targets(task_names, columns) -> tuple[list[np.ndarray], np.ndarray]:
    """Check every task's labels; return per-task classes and the encoded (n, n_tasks) array."""
    classes, codes = [], []
    for name, column in zip(task_names, columns):
        if column.dtype == object and len(column) and not isinstance(column[0], str):
            # e.g. integer labels in a mixed-type 2-D object array: recover their dtype
            inferred = pd.Series(column).infer_objects().to_numpy()
            column = inferred if inferred.dtype != object else column
        if pd.isna(pd.Series(column, dtype=object)).any():
            raise ValueError(f"labels of task {name!r} contain missing values (NaN/None)")
        if column.dtype.kind == "f":  # before scikit-learn casts the labels to int
            assert_all_finite(column, input_name="y")
        check_classification_targets(column)
        task_classes, encoded = np.unique(column, return_inverse=True)
        if len(task_classes) < 2:
            raise ValueError(
                f"task {name!r} needs at least 2 classes, but y has only 1 class: "
                f"{task_classes.tolist()}"
            )
        classes.append(task_classes)
        codes.append(encoded.reshape(-1))
    return classes, np.column_stack(codes).astype(np.int64)


def _class_weights(spec, task_names, classes, Y, main_task) -> list:
    """Per-task class weight arrays (or None) from the ``class_weight`` parameter."""
    if spec is None:
        return [None] * len(task_names)
    if isinstance(spec, str):
        if spec != "balanced":
            raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {spec!r}")
        per_task = dict.fromkeys(task_names, spec)
    elif isinstance(spec, Mapping):
        is_per_task = bool(spec) and all(
            key in task_names and (value is None or isinstance(value, (str, Mapping)))
            for key, value in spec.items()
        )
        per_task = dict(spec) if is_per_task else {main_task: spec}
    else:
        raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {spec!r}")

    weights = []
    for i, (task, task_classes) in enumerate(zip(task_names, classes)):
        task_spec = per_task.get(task)
        if task_spec is None:
            weights.append(None)
            continue
        if isinstance(task_spec, Mapping):
            unknown = set(task_spec) - set(task_classes.tolist())
            if unknown:
                raise ValueError(
                    f"class_weight for task {task!r} names unknown labels "
                    f"{sorted(map(str, unknown))}"
                )
        # compute_class_weight maps labels to weights; encoded labels index classes.
        weights.append(
            compute_class_weight(task_spec, classes=task_classes, y=task_classes[Y[:, i]])
        )
    return weights


def _auxiliary_balance(Y: np.ndarray, task_names, main_task: str, sample_weight=None):
    """Sample weights of ``balance="auxiliary"``: every value of the first auxiliary task
    (e.g. every corpus) the same total, shared equally by its main-task classes.

    A row of auxiliary value ``a`` and main class ``c`` weighs
    ``n / (n_a_values * n_classes_in_a * count(a, c))`` (mean one over the rows), times
    its ``sample_weight`` if given.
    """
    auxiliary = [task for task in task_names if task != main_task]
    if not auxiliary:
        raise ValueError(
            "balance='auxiliary' weighs every value of an auxiliary task (e.g. every "
            "language) equally, but y has only the main task: pass the auxiliary labels "
            "as a column of y or as auxiliary="
        )
    cells = Y[:, [task_names.index(auxiliary[0]), task_names.index(main_task)]]
    pairs, inverse, counts = np.unique(cells, axis=0, return_inverse=True, return_counts=True)
    values, classes_per_value = np.unique(pairs[:, 0], return_counts=True)
    classes_in_value = classes_per_value[np.searchsorted(values, pairs[:, 0])]
    weights = len(Y) / (len(values) * classes_in_value * counts)
    weights = weights[inverse.ravel()]
    return weights if sample_weight is None else weights * sample_weight
