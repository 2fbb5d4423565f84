"""Save and load fitted models without executing code on load.

A model file written by :func:`save_model` is a zip archive with three members:

``manifest.json``
    Format version, the versions of the libraries the model was saved with,
    and how many networks it holds.
``model.skops``
    Everything except the network weights (the estimator's parameters, label
    classes, scaler, feature names, training history, the
    :class:`~sklearn_msfl.OpenSmileTransformer` settings, the pipeline around
    them) in the :mod:`skops.io` format, which only rebuilds an allow-list of
    types instead of running arbitrary code like :mod:`pickle` does.
``weights.pt``
    The state dictionaries (plain tensors) of every
    :class:`~sklearn_msfl.MultitaskSERClassifier` network, written with
    :func:`torch.save` and read back with ``torch.load(weights_only=True)``.

The networks themselves are rebuilt from the estimators' parameters at load
time, on the device asked for, so that a model trained on a GPU loads on a
machine without one. ``skops`` is an optional dependency
(``pip install sklearn-msfl[persist]``).

.. warning::

   ``pickle.dump``/``joblib.dump`` of a fitted model also work, but loading a
   pickle (``pickle.load``, ``joblib.load``, ``torch.load`` without
   ``weights_only=True``) runs whatever code the file contains. Load pickles
   only of files you wrote yourself; exchange models as :func:`save_model`
   files.
"""

from __future__ import annotations

import copy
import io
import json
import os
import pickle
import platform
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

__all__ = ["TRUSTED_TYPES", "ModelFileError", "UntrustedModelError", "load_model", "save_model"]

#: Identifies a model file and the layout of its members.
FORMAT_NAME = "sklearn-msfl-model"
FORMAT_VERSION = 1

_MANIFEST = "manifest.json"
_SKOPS = "model.skops"
_WEIGHTS = "weights.pt"

#: Types of this package (and harmless standard ones) that :func:`load_model`
#: lets skops rebuild, on top of skops' own defaults (numpy, scipy and
#: scikit-learn types). Anything else in a file is refused unless named in
#: ``trusted``.
TRUSTED_TYPES = (
    "sklearn_msfl.msfl._estimator.MultitaskSERClassifier",
    "sklearn_msfl.features._transformer.OpenSmileTransformer",
    "sklearn_msfl.preprocessing.GroupStandardScaler",
    "sklearn_msfl.features._extraction.ExtractionSettings",
    # A cache folder given as a Path (only a string is stored).
    "pathlib.PosixPath",
    "pathlib.WindowsPath",
)

# Attribute that replaces ``net_`` in model.skops: the position of the
# estimator's network in weights.pt. (A ``net_`` that is not a skorch net would
# trip the estimator's ``__setstate__``, which skops calls.)
_NETWORK_INDEX = "_persistence_network_index"
# How many consecutive networks from that position form the estimator's ensemble.
_NETWORK_COUNT = "_persistence_network_count"

_VERSIONED_PACKAGES = ("sklearn-msfl", "scikit-learn", "torch", "skorch", "skops",
                       "numpy", "opensmile")


class UntrustedModelError(ValueError):
    """A model file holds types that are not trusted, so it was not loaded.

    Raised by :func:`load_model`. The message lists the types; pass those you
    trust (because you trust the file's origin) as ``trusted=[...]``.

    Examples
    --------
    >>> from sklearn_msfl.persistence import UntrustedModelError
    >>> issubclass(UntrustedModelError, ValueError)
    True
    """


class ModelFileError(ValueError):
    """A file is not a readable model file, so nothing was loaded.

    Raised by :func:`load_model` for a file that is not a zip archive, lacks a
    member, has an unknown or newer format, holds a network this version cannot
    rebuild, or has a corrupt or truncated member (``manifest.json``,
    ``model.skops`` or ``weights.pt``). The message names the file and the member.

    Examples
    --------
    >>> from sklearn_msfl.persistence import ModelFileError
    >>> issubclass(ModelFileError, ValueError)
    True
    """


def _corrupt(path: Path, member: str, error: BaseException) -> ModelFileError:
    """The error for a member of ``path`` that cannot be decoded, with the cause's gist."""
    text = str(error)
    if isinstance(error, pickle.UnpicklingError):  # torch.load(weights_only=True) refused it
        # torch's long message says why after this marker; the rest is advice.
        text = text.partition("WeightsUnpickler error:")[2].strip() or text
        what = "is not plain tensors (or is corrupt), so it was not loaded"
    else:
        what = "is corrupt or truncated"
    first_line = text.strip().split("\n")[0].split(". ")[0].strip()
    return ModelFileError(f"{path}: member {member!r} {what} "
                          f"({first_line or type(error).__name__})")


def _skops_io():
    try:
        import skops.io
    except ImportError as error:  # optional dependency
        raise ImportError(
            "Saving and loading models needs skops: pip install 'sklearn-msfl[persist]' "
            "(or pip install skops). pickle/joblib also work, but only for files you trust."
        ) from error
    return skops.io


def _package_versions() -> dict[str, str | None]:
    versions = {"python": platform.python_version()}
    for package in _VERSIONED_PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return versions


def _estimators(model, types) -> Iterator:
    """Yield every instance of ``types`` in ``model``, depth first, each once.

    Descends into scikit-learn estimators (their attributes) and the lists,
    tuples and dicts they hold, which covers Pipeline, ColumnTransformer,
    FeatureUnion and the search and ensemble meta-estimators.
    """
    from sklearn.base import BaseEstimator

    seen: set[int] = set()
    stack = [model]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, types):
            yield obj
        if isinstance(obj, BaseEstimator):
            children = list(vars(obj).values())
        elif isinstance(obj, dict):
            children = list(obj.values())
        elif isinstance(obj, (list, tuple)):
            children = list(obj)
        else:
            continue
        stack.extend(reversed(children))  # keep depth-first, left-to-right order


def _msfl_estimators(model) -> Iterator:
    from .msfl import MultitaskSERClassifier

    return _estimators(model, MultitaskSERClassifier)


def _check_saveable(estimator) -> None:
    from .msfl import LossWeighting

    if isinstance(estimator.loss_weighting, LossWeighting):
        raise TypeError(
            "save_model cannot store a MultitaskSERClassifier whose loss_weighting is a "
            f"{type(estimator.loss_weighting).__name__} instance (it holds torch tensors); "
            "use loss_weighting='gradnorm', 'equal' or a dict {task: weight}."
        )


def _network_state(net) -> dict:
    """Plain tensors of a fitted skorch net: module, criterion and task weights."""
    loss_weighting = {
        name: value.detach().cpu()
        for name, value in vars(net.loss_weighting).items()
        if hasattr(value, "detach")  # torch tensors, e.g. GradNorm's weights
    }
    return {
        "module": {k: v.detach().cpu() for k, v in net.module_.state_dict().items()},
        "criterion": {k: v.detach().cpu() for k, v in net.criterion_.state_dict().items()},
        "loss_weighting": loss_weighting,
    }


def _split_model(model) -> tuple[object, list[dict]]:
    """Copy ``model`` with every fitted net replaced by its index; return the weights.

    The user's model is not modified: ``copy.deepcopy`` is handed a memo that
    maps every MultitaskSERClassifier to a stand-in that shares all its fitted
    attributes except the net (an index instead) and the skorch History (a
    plain list of dicts instead).
    """
    memo: dict[int, object] = {}
    states = []
    for estimator in _msfl_estimators(model):
        _check_saveable(estimator)
        attributes = dict(vars(estimator))
        net = attributes.pop("net_", None)
        nets = attributes.pop("nets_", None) or ([net] if net is not None else [])
        if nets:
            attributes[_NETWORK_INDEX] = len(states)
            attributes[_NETWORK_COUNT] = len(nets)
            states.extend(_network_state(member) for member in nets)
        if attributes.get("history_") is not None:
            attributes["history_"] = [dict(epoch) for epoch in attributes["history_"]]
        stand_in = object.__new__(type(estimator))
        stand_in.__dict__.update(attributes)
        memo[id(estimator)] = stand_in
    return copy.deepcopy(model, memo), states


def save_model(model, path: str | os.PathLike) -> Path:
    """Save a fitted model (estimator or pipeline) to a file that loads without running code.

    Parameters
    ----------
    model : estimator
        A :class:`~sklearn_msfl.MultitaskSERClassifier`, a Pipeline such as
        ``OpenSmileTransformer() -> MultitaskSERClassifier``, or any
        scikit-learn estimator (fitted or not) whose types skops supports.
    path : str or path-like
        The file to write (e.g. ``"model.msfl"``); replaced atomically if it
        exists, its folder is created if needed.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    TypeError
        If the model holds something skops cannot store, e.g. a
        ``loss_weighting`` given as a GradNorm instance.

    See Also
    --------
    load_model : The reverse operation.

    Notes
    -----
    The file is a zip archive of ``manifest.json`` (format and library
    versions), ``model.skops`` (all but the network weights, in the
    :mod:`skops.io` format) and ``weights.pt`` (network state dictionaries:
    plain tensors). The optimizer state is not saved: a loaded estimator
    predicts, explains and scores exactly like the saved one, and ``fit``
    trains from scratch as always.

    Examples
    --------
    >>> import numpy as np
    >>> from tempfile import TemporaryDirectory
    >>> from sklearn_msfl import MultitaskSERClassifier
    >>> from sklearn_msfl.persistence import load_model, save_model
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.normal(size=(20, 6)), rng.choice(["angry", "sad"], size=20)
    >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, random_state=0).fit(X, y)
    >>> with TemporaryDirectory() as folder:
    ...     path = save_model(clf, f"{folder}/model.msfl")
    ...     restored = load_model(path)
    >>> bool((restored.predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    import torch

    sio = _skops_io()
    skeleton, states = _split_model(model)
    skops_bytes = sio.dumps(skeleton)
    weights = io.BytesIO()
    torch.save({"networks": states}, weights)
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "model_type": f"{type(model).__module__}.{type(model).__qualname__}",
        "n_networks": len(states),
        "versions": _package_versions(),
    }

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream, zipfile.ZipFile(stream, "w") as archive:
            archive.writestr(_MANIFEST, json.dumps(manifest, indent=2),
                             compress_type=zipfile.ZIP_DEFLATED)
            # skops output is itself a zip; tensors hardly compress.
            archive.writestr(_SKOPS, skops_bytes, compress_type=zipfile.ZIP_STORED)
            archive.writestr(_WEIGHTS, weights.getvalue(), compress_type=zipfile.ZIP_STORED)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _read_member(archive: zipfile.ZipFile, path: Path, member: str) -> bytes:
    try:
        return archive.read(member)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:  # CRC, truncation
        raise _corrupt(path, member, error) from error


def _read_manifest(archive: zipfile.ZipFile, path: Path) -> dict:
    try:
        manifest = json.loads(_read_member(archive, path, _MANIFEST))
    except ValueError as error:  # not JSON, or not UTF-8
        raise _corrupt(path, _MANIFEST, error) from error
    if not isinstance(manifest, dict):
        raise ModelFileError(f"{path}: member {_MANIFEST!r} is corrupt (not a JSON object)")
    return manifest


def _read_members(path: Path) -> tuple[dict, bytes, bytes]:
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"model file not found: {path}") from None
    except zipfile.BadZipFile:
        raise ModelFileError(
            f"{path} is not a model file written by sklearn_msfl.persistence.save_model "
            "(not a zip archive)"
        ) from None
    with archive:
        names = set(archive.namelist())
        missing = {_MANIFEST, _SKOPS, _WEIGHTS} - names
        if missing:
            raise ModelFileError(
                f"{path} is not a complete model file: missing {sorted(missing)}")
        manifest = _read_manifest(archive, path)
        if manifest.get("format") != FORMAT_NAME:
            raise ModelFileError(f"{path}: unknown format {manifest.get('format')!r}")
        if manifest.get("format_version", 0) > FORMAT_VERSION:
            raise ModelFileError(
                f"{path} was written in format version {manifest['format_version']}; this "
                f"sklearn-msfl reads up to version {FORMAT_VERSION}: upgrade sklearn-msfl"
            )
        return (manifest, _read_member(archive, path, _SKOPS),
                _read_member(archive, path, _WEIGHTS))


def _read_weights(weight_bytes: bytes, device: str, path: Path, manifest: dict) -> list[dict]:
    """The network states of ``weights.pt``, as many as the manifest announces."""
    import torch

    try:
        # weights_only: only tensors and plain containers are unpickled.
        weights = torch.load(io.BytesIO(weight_bytes), map_location=device, weights_only=True)
    except Exception as error:  # truncated or damaged archive, objects other than tensors
        raise _corrupt(path, _WEIGHTS, error) from error
    states = weights.get("networks") if isinstance(weights, dict) else None
    expected = manifest.get("n_networks", len(states or []))
    parts = ("module", "criterion", "loss_weighting")
    if (not isinstance(states, list) or len(states) != expected
            or not all(isinstance(state, dict) and all(p in state for p in parts)
                       for state in states)):
        raise ModelFileError(
            f"{path}: member {_WEIGHTS!r} is corrupt (it does not hold the {expected} "
            "network state(s) the manifest announces)"
        )
    return states


def _warn_on_version_change(manifest: dict, path: Path) -> None:
    saved = manifest.get("versions", {})
    current = _package_versions()
    changed = [
        f"{package} {saved[package]} -> {current[package]}"
        for package in ("sklearn-msfl", "scikit-learn", "torch", "skorch")
        if saved.get(package) and current.get(package) and saved[package] != current[package]
    ]
    if changed:
        warnings.warn(
            f"{path} was saved with other library versions ({', '.join(changed)}); "
            "predictions may differ. Check the model, or save it again with these versions.",
            UserWarning,
            stacklevel=3,
        )


def _rebuild_networks(estimator, states: list, device: str, path: Path, saved_version) -> None:
    """Give a loaded estimator its skorch net(s) back, with the saved weights."""
    from skorch.history import History

    index = estimator.__dict__.pop(_NETWORK_INDEX)
    count = estimator.__dict__.pop(_NETWORK_COUNT)
    nets = [_restored_net(estimator, state, device, path, saved_version)
            for state in states[index : index + count]]
    # Only the first net's history is saved (it is the estimator's history_).
    nets[0].history = History(estimator.history_)
    estimator.nets_ = nets
    estimator.net_ = nets[0]
    estimator.history_ = nets[0].history
    estimator.device_ = str(nets[0].device)


def _restored_net(estimator, state: dict, device: str, path: Path, saved_version):
    """A skorch net built as ``fit`` builds it, holding the saved weights."""
    classes = [estimator.classes_per_task_[task] for task in estimator.task_names_]
    # The net is built as fit builds it, less the early-stopping hold-out that only
    # training uses. Class weights are computed from a stand-in label array with every
    # class once, then replaced by the saved ones.
    n_rows = max(len(task_classes) for task_classes in classes)
    stand_in = np.column_stack(
        [np.arange(n_rows) % len(task_classes) for task_classes in classes]
    ).astype(np.int64)
    task_names = list(estimator.task_names_)
    network = estimator._network_params(estimator.n_features_in_, task_names, classes)
    # Without optimizer: a loaded model predicts, and fit builds new nets.
    net = estimator._build_net(task_names, classes, network, stand_in, seed=0, device=device,
                               predict_only=True)
    net.initialize()
    try:
        net.module_.load_state_dict(state["module"])
        net.criterion_.load_state_dict(state["criterion"])
    except RuntimeError as error:  # layers added, removed or resized since saving
        raise ModelFileError(
            f"{path}: the saved network (sklearn-msfl {saved_version}) does not fit the "
            f"network of this sklearn-msfl version: {' '.join(str(error).split())}"
        ) from None
    for name, tensor in state["loss_weighting"].items():
        current = getattr(net.loss_weighting, name, None)
        if current is not None and hasattr(current, "data"):
            current.data = tensor.to(current.dtype)
        else:
            setattr(net.loss_weighting, name, tensor)
    return net


def load_model(path: str | os.PathLike, device: str = "cpu", trusted: Iterable[str] | None = None):
    """Load a model saved by :func:`save_model`, refusing untrusted types.

    Parameters
    ----------
    path : str or path-like
        The model file.
    device : {"cpu", "cuda", "auto"} or torch device string, default="cpu"
        Where the networks are placed. A model trained on a GPU loads on a
        CPU-only machine with the default. The estimators' ``device``
        parameter is left as saved (it applies to the next ``fit``);
        ``device_`` tells where the network now is.
    trusted : iterable of str, default=None
        Extra type names (``"module.Class"``) to allow, e.g. a custom
        transformer of your own in the pipeline. Only name types whose file
        you trust: skops rebuilds them by calling their constructors.

    Returns
    -------
    model : estimator
        The model, ready to ``predict``.

    Raises
    ------
    UntrustedModelError
        If the file holds types outside :data:`TRUSTED_TYPES`, skops' own
        defaults and ``trusted``; nothing is loaded then.
    ModelFileError
        If the file is not a model file, was written by a newer format, or has
        a corrupt or truncated member; the message names the file and member.

    Warns
    -----
    UserWarning
        If the model was saved with other versions of sklearn-msfl,
        scikit-learn, torch or skorch.

    See Also
    --------
    save_model : Writes the files this function reads.

    Examples
    --------
    >>> import numpy as np
    >>> from tempfile import TemporaryDirectory
    >>> from sklearn_msfl import MultitaskSERClassifier
    >>> from sklearn_msfl.persistence import load_model, save_model
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(20, 6))
    >>> y = np.column_stack([rng.choice(["angry", "sad"], 20), rng.choice(["de", "en"], 20)])
    >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, random_state=0).fit(X, y)
    >>> with TemporaryDirectory() as folder:
    ...     restored = load_model(save_model(clf, f"{folder}/model.msfl"), device="cpu")
    >>> restored.device_, restored.task_names_
    ('cpu', ['emotion', 'language'])
    """
    from .msfl._net import _resolve_device  # torch is imported only when a model is loaded

    sio = _skops_io()
    from skops.io.exceptions import UntrustedTypesFoundException

    path = Path(path)
    device = _resolve_device(device)
    manifest, skops_bytes, weight_bytes = _read_members(path)
    allowed = list(TRUSTED_TYPES) + [str(name) for name in (trusted or ())]
    try:
        found = sio.get_untrusted_types(data=skops_bytes)
    except Exception as error:  # skops reports broken data with many exception types
        raise _corrupt(path, _SKOPS, error) from error
    untrusted = sorted(set(found) - set(allowed))
    if untrusted:
        raise UntrustedModelError(
            f"{path} holds types that are not trusted: {untrusted}. Nothing was loaded. "
            "If you trust where the file comes from, pass them as load_model(..., "
            "trusted=[...])."
        )
    _warn_on_version_change(manifest, path)
    try:
        model = sio.loads(skops_bytes, trusted=allowed)
    except UntrustedTypesFoundException as error:  # defence in depth
        raise UntrustedModelError(f"{path}: {error}") from None
    except Exception as error:
        raise _corrupt(path, _SKOPS, error) from error
    states = _read_weights(weight_bytes, device, path, manifest)
    saved_version = manifest.get("versions", {}).get("sklearn-msfl")
    for estimator in _msfl_estimators(model):
        if _NETWORK_INDEX in vars(estimator):
            _rebuild_networks(estimator, states, device, path, saved_version)
    return model
