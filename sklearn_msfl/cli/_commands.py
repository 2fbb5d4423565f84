"""The five commands (extract, train, evaluate, predict, explain): a thin layer over the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ._args import (
    EXIT_OK,
    _CommandError,
    _UsageError,
    _audio_files,
    _count,
    _estimator_params,
    _finite_rows,
    _model_path,
    _note,
)
from ._tables import (
    _extract,
    _labelled_data,
    _load_corpora,
    _merge_labels,
    _read_table,
    _row_names,
    _table_format,
    _write_table,
)


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
    _finite_rows(args, table.X, _row_names(table.meta, len(table.X)), "are written as NaN")
    _write_table(table, args.output)
    n_bad = int(np.isnan(np.asarray(table.X)).all(axis=1).sum())
    _note(args, f"wrote {len(table.meta)} rows x {len(table.names)} features to {args.output}"
                + (f" ({_count(n_bad, 'row', 'rows')} of NaN for bad audio)" if n_bad else ""))
    return EXIT_OK


def _cmd_train(args) -> int:
    """``msfl train``: fit MultitaskSERClassifier and save it (with its extractor)."""
    from sklearn.pipeline import Pipeline

    from ..msfl import MultitaskSERClassifier
    from ..persistence import save_model

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

    from ..baselines import make_svm_baseline
    from ..msfl import MultitaskSERClassifier
    from ..evaluation import evaluate
    from ..model_selection import CorpusSpeakerKFold

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
    """``(model part, its input, feature names, row names, meta)`` for predict and explain.

    From audio the whole model reads the files. From a feature file, the steps after the
    model's last feature extractor read the file's columns (see :func:`_feature_file_input`).
    """
    from sklearn.pipeline import Pipeline

    from ..features import OpenSmileTransformer

    if bool(args.inputs) == bool(args.features):
        raise _UsageError("give audio files/folders or --features FILE (not both)")
    if args.inputs:
        if not isinstance(model, Pipeline):
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
        return model, files, None, files, None
    table = _read_table(args.features)
    if getattr(args, "labels", None):
        table = _merge_labels(table, args.labels)
    part, X, names = _feature_file_input(model, table, args.features)
    rows = (table.meta["file"].astype(str).tolist() if "file" in table.meta.columns
            else [str(i) for i in range(len(X))])
    return part, X, names, rows, table.meta


def _feature_file_input(model, table, path):
    """The part of ``model`` after its last feature extractor, and its input from ``table``.

    That part reads the columns that the extractor names (or that its first step saw in
    fit), in that order. It gets them as a DataFrame, with the meta columns that a step
    groups rows by (a corpus normalisation's ``group_column``), when its first step was
    fitted on one; else as an array, returned with the names of its columns.
    """
    import numpy as np
    import pandas as pd
    from sklearn.pipeline import Pipeline

    steps = [step for _, step in model.steps[:-1]] if isinstance(model, Pipeline) else []
    start = _after_last_extractor(model)
    part = model[start:] if start < len(steps) else (model[-1] if steps else model)
    first = part[0] if isinstance(part, Pipeline) else part
    wanted = (model[:start].get_feature_names_out() if start
              else getattr(first, "feature_names_in_", None))
    X, names = np.asarray(table.X, dtype=np.float64), list(table.names)
    if wanted is not None:
        missing = [name for name in wanted if name not in names]
        if missing:
            raise _CommandError(
                f"{path} lacks {len(missing)} of the model's features, e.g. {missing[0]!r}"
            )
        position = {name: i for i, name in enumerate(names)}
        X, names = X[:, [position[name] for name in wanted]], [str(name) for name in wanted]
    groups = {getattr(step, "group_column", None) for step in steps[start:]} & set(table.meta)
    if getattr(first, "feature_names_in_", None) is None and not groups:
        return part, X, names
    frame = pd.DataFrame(X, columns=names)
    for column in sorted(groups):
        frame[column] = table.meta[column].astype(str).to_numpy()
    return part, frame, None


def _final_and_input(part, X):
    """The final estimator of ``part`` and ``X`` through the steps before it."""
    from sklearn.pipeline import Pipeline

    if isinstance(part, Pipeline):
        return part[-1], part[:-1].transform(X)
    return part, X


def _after_extraction(part, X, names):
    """From audio: the part of ``part`` after its last feature extractor, the features it
    reads and their names (from a feature file, the arguments unchanged)."""
    start = _after_last_extractor(part)
    if start == 0:
        return part, X, names
    head = part[:start]
    return part[start:], head.transform(X), head.get_feature_names_out().tolist()


def _after_last_extractor(model) -> int:
    """Position of the step after ``model``'s last feature extractor (0: none, or no pipeline)."""
    from sklearn.pipeline import Pipeline

    from ..features import OpenSmileTransformer

    if not isinstance(model, Pipeline):
        return 0
    positions = [i for i, (_, step) in enumerate(model.steps[:-1])
                 if isinstance(step, OpenSmileTransformer)]
    return positions[-1] + 1 if positions else 0


def _numeric(X):
    """The numeric columns of ``X`` as floats (a frame may carry group columns)."""
    import numpy as np
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        X = X.select_dtypes("number")
    return np.asarray(X, dtype=np.float64)


def _finite_inputs(args, X, rows, meta, fate: str):
    """:func:`_finite_rows` of the inputs of predict/explain, named as in the messages."""
    return _finite_rows(args, X, rows if meta is None else _row_names(meta, len(X)), fate)


def _task_probabilities(final, X) -> dict:
    if hasattr(final, "predict_proba_tasks"):
        probabilities = final.predict_proba_tasks(X)
        return {task: (final.classes_per_task_[task], p) for task, p in probabilities.items()}
    return {"prediction": (final.classes_, final.predict_proba(X))}


def _cmd_predict(args) -> int:
    """``msfl predict``: labels and probabilities as CSV or JSON."""
    import numpy as np
    import pandas as pd
    from sklearn.utils import _safe_indexing

    from ..persistence import load_model

    output_format = args.format or (
        "json" if args.output and args.output.lower().endswith(".json") else "csv")
    model = load_model(_model_path(args.model), device=args.device)
    part, X, _, rows, meta = _model_inputs(args, model)
    final, X = _final_and_input(part, X)
    good = _finite_inputs(args, _numeric(X), rows, meta, "get empty labels")
    results = {}
    for task, (classes, p) in _task_probabilities(final, _safe_indexing(X, good)).items():
        full = np.full((len(X), len(classes)), np.nan)
        full[good] = p
        results[task] = (classes, full)

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
    """``msfl explain``: the top attended features (MSFs), pooled over several models."""
    from sklearn.utils import _safe_indexing

    from ..persistence import load_model

    try:
        from ..explain import pool_rankings, shared_features, topk_stability
    except ImportError as error:
        raise _CommandError(f"explanations are not available here ({error})") from error
    if args.top < 1:
        raise _UsageError(f"--top must be positive, got {args.top}")
    rankings = []
    for path in [args.model, *args.more_models]:
        model = load_model(_model_path(path), device=args.device)
        part, X, names, rows, meta = _model_inputs(args, model)
        part, X, names = _after_extraction(part, X, names)
        by = _groups_by(args, meta)
        good = _finite_inputs(args, _numeric(X), rows, meta, "are left out")
        rankings.append(shared_features(part, _safe_indexing(X, good), feature_names=names,
                                        by=None if by is None else by[good]))
    ranking = rankings[0] if len(rankings) == 1 else pool_rankings(rankings, top_k=args.top)
    columns = [c for c in ("group", "rank", "feature", "weight", "weight_sd", "top_k_share",
                           "lld_family", "functional_family") if c in ranking.columns]
    top = ranking[ranking["rank"] <= args.top][columns]
    if args.format == "csv":
        _emit(args, top.to_csv(index=False))
        return EXIT_OK
    text = _markdown(top)
    if len(rankings) > 1:
        ks = [k for k in (10, 50) if k <= rankings[0]["feature"].nunique()]
        text += (f"\nAgreement of the {len(rankings)} models' top-k sets (Jaccard over pairs; "
                 f"chance: two random top-k sets):\n\n"
                 + _markdown(topk_stability(rankings, ks=ks)))
    _emit(args, text)
    return EXIT_OK


def _groups_by(args, meta):
    """The ``--by`` column of the feature or labels file, or None."""
    if args.by is None:
        return None
    if meta is None or args.by not in meta.columns:
        raise _CommandError(f"--by {args.by}: no such column in the feature file")
    return meta[args.by].astype(str).to_numpy()
