"""openSMILE functionals as a scikit-learn transformer.

:class:`OpenSmileTransformer` turns audio (file paths or in-memory signals) into
one row of openSMILE functionals per item, so that feature extraction can sit
at the start of a :class:`~sklearn.pipeline.Pipeline` and be cross-validated
together with the model. The per-item work (reading, downmixing, resampling,
hashing, caching, extraction) lives in :mod:`sklearn_msfl.features._extraction`, which
joblib worker processes import without paying for scikit-learn.
"""

from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Iterable

import numpy as np
import opensmile
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from . import _extraction, _feature_table
from ._extraction import (
    AudioError,
    AudioItem,
    AudioWarning,
    ExtractionSettings,
    cache_path,
    file_digest,
    load_cached,
)
from ._progress import check_verbose, run_extraction

__all__ = ["OpenSmileTransformer"]

_ON_ERROR_CHOICES = ("raise", "nan")
_FUNCTIONALS_ALIASES = {"functionals", "func"}
_FRAME_LEVEL_ALIASES = {"lld", "lld_de", "lowleveldescriptors", "lowleveldescriptors_deltas"}

# At most this many bad items are listed in the on_error="nan" warning.
_MAX_LISTED_ERRORS = 50


class OpenSmileTransformer(TransformerMixin, BaseEstimator):
    """Extract openSMILE functionals from audio files or signals.

    Every input item (a file or a signal) becomes one row of
    ``n_features_out_`` openSMILE features. Audio of any sampling rate and
    channel count is first downmixed to mono (channel average) and resampled
    to ``sampling_rate``; 16-bit mono audio already at that rate gives exactly
    the features of ``opensmile.Smile(feature_set, feature_level).process_file``.

    Parameters
    ----------
    feature_set : str, opensmile.FeatureSet or path-like, default="IS10"
        Name of an openSMILE feature set (case-insensitive): ``"IS10"``
        (INTERSPEECH 2010 paralinguistic challenge, 1582 functionals),
        ``"IS09"``, ``"IS11"``, ``"IS12"``, ``"IS13"``, ``"ComParE_2016"``
        (6373), ``"eGeMAPSv02"`` (88), ``"GeMAPSv01b"``, ``"emobase"``, ... (see
        :class:`opensmile.FeatureSet`), or the path of a custom openSMILE
        config file. For the cache, a custom config is identified by its
        content; files it includes are not hashed.
    feature_level : str or opensmile.FeatureLevel, default="functionals"
        ``"functionals"`` for the standard sets (low-level descriptors give
        many frames per item and are not supported), or the sink level name
        of a custom config file whose output is one vector per item.
    sampling_rate : int, default=16000
        Rate (Hz) at which features are extracted. Files are resampled to it;
        signals given without a rate are assumed to be at it.
    n_jobs : int, default=None
        Number of worker processes for extraction. ``None`` means 1 unless in
        a :func:`joblib.parallel_config` context, whose backend and
        ``n_jobs`` are honoured (default backend: ``"loky"`` processes).
        ``-1`` uses all processors.
    cache : str or path-like, default=None
        Folder for an on-disk feature cache. An item whose content (file
        bytes or signal samples) was already extracted with the same feature
        set, config, level, sampling rate and opensmile version is loaded
        instead of extracted, also in a new process. Worker processes may
        write to it concurrently. ``None`` disables caching.
    verbose : "auto" or bool, default="auto"
        Show a progress bar (tqdm, on stderr) while extracting. ``"auto"``
        shows it when the items still to extract (not found in ``cache``)
        hold more than 30 s of audio, about a second of extraction or more,
        judged from file headers and signal lengths; small inputs and fully
        cached runs stay quiet. ``True`` or ``False`` force it on or off.
    on_error : {"raise", "nan"}, default="raise"
        What to do with an item that cannot be processed (missing, empty,
        unreadable or corrupt file, or audio shorter than
        :data:`~sklearn_msfl.features.MIN_DURATION_SECONDS`, 0.3 s, where many functionals come out as
        meaningless zeros):
        ``"raise"`` raises :class:`AudioError` naming the file or index;
        ``"nan"`` gives it a row of NaN and emits one :class:`AudioWarning`
        listing all bad items.

    Attributes
    ----------
    n_features_out_ : int
        Number of features per item.
    feature_names_ : ndarray of str
        openSMILE's feature names, also returned by
        :meth:`get_feature_names_out`.
    extraction_settings_ : ExtractionSettings
        The validated settings used by :meth:`transform` (resolved feature
        set and level, sampling rate, config hash).

    See Also
    --------
    opensmile.Smile : The extractor this transformer wraps.

    Notes
    -----
    ``X`` may be:

    * a sequence (list, 1-D array, :class:`pandas.Series`) of audio file
      paths;
    * a :class:`pandas.DataFrame` with a ``file`` column (other columns,
      e.g. speaker or language, are ignored, so a corpus table can flow
      through a pipeline; its index is kept by ``set_output(transform="pandas")``);
    * a sequence of signals at ``sampling_rate``: a list of 1-D arrays (or
      2-D ``(channels, samples)`` arrays), or a 2-D array whose rows are
      equal-length signals. Float samples are in [-1, 1]; integer arrays are
      taken as PCM and scaled;
    * a :class:`pandas.DataFrame` with ``signal`` and ``sampling_rate``
      columns for signals at various rates.

    Features are returned as float32, openSMILE's own precision. Samples are
    converted to float32 as a sound file reader would give them, then
    quantised to 16 bit by openSMILE.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_msfl import OpenSmileTransformer
    >>> rng = np.random.default_rng(0)
    >>> signals = 0.1 * rng.standard_normal((3, 16000))  # three 1 s signals
    >>> smile = OpenSmileTransformer(feature_set="eGeMAPSv02")
    >>> smile.fit_transform(signals).shape
    (3, 88)
    >>> smile.get_feature_names_out()[:2].tolist()
    ['F0semitoneFrom27.5Hz_sma3nz_amean', 'F0semitoneFrom27.5Hz_sma3nz_stddevNorm']
    """

    def __init__(
        self,
        feature_set="IS10",
        feature_level="functionals",
        sampling_rate=16000,
        n_jobs=None,
        cache=None,
        verbose="auto",
        on_error="raise",
    ):
        self.feature_set = feature_set
        self.feature_level = feature_level
        self.sampling_rate = sampling_rate
        self.n_jobs = n_jobs
        self.cache = cache
        self.verbose = verbose
        self.on_error = on_error

    def fit(self, X, y=None):
        """Validate the parameters and the input format; record feature names.

        No audio is read: extraction needs nothing learned from data.

        Parameters
        ----------
        X : sequence of paths or signals, or DataFrame
            Audio items, see the class Notes.
        y : None
            Ignored.

        Returns
        -------
        self : OpenSmileTransformer
            The fitted transformer.

        Examples
        --------
        >>> from sklearn_msfl import OpenSmileTransformer
        >>> OpenSmileTransformer(feature_set="eGeMAPSv02").fit(["a.wav"]).n_features_out_
        88
        """
        settings = _validated_settings(self)
        _check_runtime_params(self)
        _as_items(X, settings.sampling_rate)
        smile = settings.smile()
        self.extraction_settings_ = settings
        self.feature_names_ = np.asarray(smile.feature_names, dtype=object)
        self.n_features_out_ = len(self.feature_names_)
        return self

    def transform(self, X):
        """Extract one row of openSMILE features per audio item.

        Parameters
        ----------
        X : sequence of paths or signals, or DataFrame
            Audio items, see the class Notes.

        Returns
        -------
        features : ndarray of shape (n_items, ``n_features_out_``), dtype float32
            The features; NaN rows for bad items when ``on_error="nan"``.

        Raises
        ------
        AudioError
            If an item cannot be processed and ``on_error="raise"``.

        Examples
        --------
        >>> import warnings
        >>> import numpy as np
        >>> from sklearn_msfl import OpenSmileTransformer
        >>> smile = OpenSmileTransformer(feature_set="eGeMAPSv02", on_error="nan")
        >>> signals = [0.1 * np.ones(16000), np.zeros(100)]  # the second is too short
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     features = smile.fit(signals).transform(signals)
        >>> np.isnan(features).all(axis=1).tolist()
        [False, True]
        >>> print(caught[0].message)
        1 of 2 audio items could not be processed; their feature rows are NaN:
          signal at index 1: audio too short for openSMILE functionals
          (100 samples, 0.006 s at 16000 Hz; at least 0.3 s are needed)
        """
        check_is_fitted(self)
        _check_runtime_params(self)
        items = _as_items(X, self.extraction_settings_.sampling_rate)
        features, errors = self._extract(items)
        if errors:
            _warn_bad_items(errors, len(items))
        return features

    def _extract(self, items, keys=None):
        """Features of ``items`` and the messages of bad items, by index.

        Rows come from a feature table that :func:`~sklearn_msfl.evaluation.evaluate`
        made active, else from the disk cache, else from openSMILE. ``keys`` (a list, filled
        here) receives the content digest of every item (None when it has none).
        """
        settings = self.extraction_settings_
        raise_errors = self.on_error == "raise"
        cache_dir = None if self.cache is None else os.fspath(self.cache)
        features = np.full((len(items), self.n_features_out_), np.nan, dtype=np.float32)
        errors: dict[int, str] = {}
        todo = [(item, None) for item in items]
        if keys is not None or cache_dir is not None or _feature_table.any_active():
            todo = _with_keys(todo, errors, raise_errors)
            if keys is not None:
                keys[:] = [None] * len(items)
                for item, key in todo:
                    keys[item.index] = key
        if _feature_table.any_active():
            todo = _load_from_tables(todo, settings, features, errors, raise_errors)
        if cache_dir is None:
            todo = [(item, None) for item, _ in todo]
        else:
            todo = _load_from_cache(todo, settings, cache_dir, features)
        results = run_extraction(
            todo,
            settings,
            cache_dir,
            raise_errors,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
        )
        for (item, _), result in zip(todo, results, strict=True):
            if isinstance(result, str):
                errors[item.index] = result
            else:
                features[item.index] = result
        return features, errors

    def get_feature_names_out(self, input_features=None):
        """Return openSMILE's feature names.

        Parameters
        ----------
        input_features : None
            Ignored; the output names do not depend on the input.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per output column.

        Examples
        --------
        >>> from sklearn_msfl import OpenSmileTransformer
        >>> smile = OpenSmileTransformer().fit(["a.wav"])
        >>> smile.get_feature_names_out()[0]
        'pcm_loudness_sma_maxPos'
        """
        check_is_fitted(self, "feature_names_")
        return self.feature_names_.copy()


# --------------------------------------------------------------------------- #
# Parameter validation
# --------------------------------------------------------------------------- #


def _resolve_feature_set(feature_set) -> tuple[str, bool, str]:
    """Return ``(FeatureSet name or config path, is_custom, config digest)``."""
    if isinstance(feature_set, opensmile.FeatureSet):
        return feature_set.name, False, ""
    if not isinstance(feature_set, (str, os.PathLike)):
        raise TypeError(
            f"feature_set must be a feature set name or a config file path, "
            f"got {type(feature_set).__name__}"
        )
    text = os.fspath(feature_set)
    names = {name.lower(): name for name in opensmile.FeatureSet.__members__}
    if text.lower() in names:
        return names[text.lower()], False, ""
    if os.path.isfile(text):
        return os.path.abspath(text), True, file_digest(text)
    raise ValueError(
        f"Unknown feature_set {text!r}: expected one of "
        f"{', '.join(opensmile.FeatureSet.__members__)}, or the path of an "
        "existing openSMILE config file."
    )


def _resolve_feature_level(feature_level, is_custom: bool) -> str:
    """Return the FeatureLevel member name, or a custom config's sink level."""
    if isinstance(feature_level, opensmile.FeatureLevel):
        key = feature_level.name.lower()
    elif isinstance(feature_level, str):
        key = feature_level.lower()
    else:
        raise TypeError(f"feature_level must be a string, got {type(feature_level).__name__}")
    if key in _FUNCTIONALS_ALIASES:
        return opensmile.FeatureLevel.Functionals.name
    if key in _FRAME_LEVEL_ALIASES:
        raise ValueError(
            f"feature_level={feature_level!r} gives many frames per item; "
            "OpenSmileTransformer returns one vector per item: use 'functionals'."
        )
    if is_custom:
        return feature_level  # a sink level defined by the custom config
    raise ValueError(
        f"Unknown feature_level {feature_level!r}: use 'functionals' (or the sink "
        "level name of a custom config file)."
    )


def _validated_settings(transformer: OpenSmileTransformer) -> ExtractionSettings:
    feature_set, is_custom, config_digest = _resolve_feature_set(transformer.feature_set)
    feature_level = _resolve_feature_level(transformer.feature_level, is_custom)
    rate = transformer.sampling_rate
    if not isinstance(rate, numbers.Integral) or isinstance(rate, bool) or rate <= 0:
        raise ValueError(f"sampling_rate must be a positive integer, got {rate!r}")
    return ExtractionSettings(
        feature_set=feature_set,
        is_custom=is_custom,
        feature_level=feature_level,
        sampling_rate=int(rate),
        config_digest=config_digest,
    )


def _check_runtime_params(transformer: OpenSmileTransformer) -> None:
    """Validate the parameters that transform reads directly."""
    if transformer.on_error not in _ON_ERROR_CHOICES:
        raise ValueError(
            f"on_error must be one of {_ON_ERROR_CHOICES}, got {transformer.on_error!r}"
        )
    n_jobs = transformer.n_jobs
    if n_jobs is not None and (
        not isinstance(n_jobs, numbers.Integral) or isinstance(n_jobs, bool) or n_jobs == 0
    ):
        raise ValueError(f"n_jobs must be None or a non-zero integer, got {n_jobs!r}")
    if transformer.cache is not None and not isinstance(transformer.cache, (str, os.PathLike)):
        raise TypeError(
            f"cache must be None or a folder path, got {type(transformer.cache).__name__}"
        )
    check_verbose(transformer.verbose)


# --------------------------------------------------------------------------- #
# Input parsing
# --------------------------------------------------------------------------- #


def _as_items(X, sampling_rate: int) -> list[AudioItem]:
    """Turn any accepted ``X`` into a list of :class:`AudioItem`."""
    if isinstance(X, pd.DataFrame):
        items = _items_from_frame(X, sampling_rate)
    elif isinstance(X, (str, bytes, os.PathLike)):
        raise TypeError("X must be a sequence of audio items; wrap a single path in a list")
    elif isinstance(X, np.ndarray) and X.dtype.kind in "iuf":
        if X.ndim != 2:
            raise ValueError(
                f"A numeric array X must be 2-D (n_items, n_samples) of equal-length "
                f"signals, got shape {X.shape}; wrap a single signal in a list."
            )
        items = [_signal_item(i, row, sampling_rate) for i, row in enumerate(X)]
    else:
        if isinstance(X, np.ndarray) and X.ndim != 1:
            raise ValueError(f"An array of paths must be 1-D, got shape {X.shape}")
        if not isinstance(X, Iterable):
            raise TypeError(
                f"X must be a sequence of audio paths or signals, got {type(X).__name__}"
            )
        items = [_item(i, element, sampling_rate) for i, element in enumerate(X)]
    if not items:
        raise ValueError("X contains no audio items (0 samples).")
    return items


def _items_from_frame(frame: pd.DataFrame, sampling_rate: int) -> list[AudioItem]:
    if "file" in frame.columns:
        return [_file_item(i, path) for i, path in enumerate(frame["file"])]
    if "signal" in frame.columns:
        if "sampling_rate" in frame.columns:
            rates = frame["sampling_rate"].tolist()
        else:
            rates = [sampling_rate] * len(frame)
        return [
            _signal_item(i, signal, rate)
            for i, (signal, rate) in enumerate(zip(frame["signal"], rates, strict=True))
        ]
    raise ValueError(
        "A DataFrame X needs a 'file' column (audio paths) or a 'signal' column "
        f"(with an optional 'sampling_rate' column); got columns {list(frame.columns)}"
    )


def _item(index: int, element, sampling_rate: int) -> AudioItem:
    if isinstance(element, (str, os.PathLike)):
        return _file_item(index, element)
    if isinstance(element, (np.ndarray, list, tuple)):
        return _signal_item(index, element, sampling_rate)
    raise TypeError(
        f"Item {index} must be an audio file path or a signal array, got {type(element).__name__}"
    )


def _file_item(index: int, path) -> AudioItem:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"Item {index} must be an audio file path, got {type(path).__name__}")
    return AudioItem(index=index, file=os.fspath(path), path=os.path.abspath(path))


def _signal_item(index: int, signal, sampling_rate) -> AudioItem:
    if isinstance(sampling_rate, float) and sampling_rate.is_integer():
        sampling_rate = int(sampling_rate)  # e.g. from a float DataFrame column
    if not isinstance(sampling_rate, numbers.Integral) or sampling_rate <= 0:
        raise ValueError(
            f"Signal at index {index}: sampling rate must be a positive integer, "
            f"got {sampling_rate!r}"
        )
    return AudioItem(index=index, signal=np.asarray(signal), sampling_rate=int(sampling_rate))


# --------------------------------------------------------------------------- #
# Extraction driver
# --------------------------------------------------------------------------- #


def _with_keys(todo, errors, raise_errors):
    """``todo`` with the content digest of every item; an unreadable item goes to ``errors``."""
    keyed = []
    for item, _ in todo:
        try:
            keyed.append((item, _feature_table.item_key(item)))
        except AudioError as error:
            if raise_errors:
                raise
            errors[item.index] = str(error)
    return keyed


def _load_from_tables(todo, settings, features, errors, raise_errors):
    """Fill ``features`` with rows of the active feature tables; return the rest of ``todo``."""
    settings_digest = settings.digest()
    rest = []
    for item, key in todo:
        found = _feature_table.lookup(settings_digest, key)
        if found is None:
            rest.append((item, key))
        elif isinstance(found, str):  # the reason why the item could not be extracted
            if raise_errors:
                raise AudioError(f"{item.label}: {found}")
            errors[item.index] = f"{item.label}: {found}"
        else:
            features[item.index] = found
    return rest


def _load_from_cache(todo, settings, cache_dir, features):
    """Fill ``features`` with cached rows; return the ``(item, key)`` still to extract."""
    settings_digest = settings.digest()
    n_features = features.shape[1]
    rest = []
    for item, key in todo:
        cached = load_cached(cache_path(cache_dir, settings_digest, key), n_features)
        if cached is None:
            rest.append((item, key))
        else:
            features[item.index] = cached
    return rest


def _warn_bad_items(errors: dict[int, str], n_items: int) -> None:
    messages = [errors[index] for index in sorted(errors)]
    listed = messages[:_MAX_LISTED_ERRORS]
    if len(messages) > len(listed):
        listed.append(f"... and {len(messages) - len(listed)} more")
    warnings.warn(
        f"{len(messages)} of {n_items} audio items could not be processed; their "
        "feature rows are NaN:\n  " + "\n  ".join(listed),
        AudioWarning,
        stacklevel=4,  # user -> set_output wrapper -> transform -> here
    )


def extract_table(transformers, X, *, n_jobs=None, verbose=True) -> _feature_table.FeatureTable:
    """Extract the features of every item of ``X`` once per distinct extraction settings.

    What :func:`~sklearn_msfl.evaluation.evaluate` runs before its folds. ``transformers``
    are unfitted :class:`OpenSmileTransformer` steps that receive ``X``; those with equal
    settings (feature set, config, level, sampling rate) share one extraction, run by a clone
    of the first with its ``cache`` and ``n_jobs`` (``n_jobs`` here when it has none), a
    progress bar when ``verbose``, and its ``on_error``. Every file is hashed once.

    Returns
    -------
    table : FeatureTable
        The rows by content, to activate with :func:`sklearn_msfl.features._feature_table.active`.
    """
    table = _feature_table.FeatureTable()
    for transformer in transformers:
        smile = clone(transformer).set_params(verbose=bool(verbose))
        if smile.n_jobs is None:
            smile.set_params(n_jobs=n_jobs)
        items = _as_items(X, smile.fit(X).extraction_settings_.sampling_rate)
        settings_digest = smile.extraction_settings_.digest()
        if settings_digest in table.features:
            continue
        keys: list[str | None] = []
        with _feature_table.active(table):  # finds the files hashed for an earlier setting
            features, errors = smile._extract(items, keys)
        for item, key in zip(items, keys, strict=True):
            if item.path is not None and key is not None:
                table.remember_file(item, key)
        reasons = {index: message.removeprefix(f"{items[index].label}: ")
                   for index, message in errors.items()}
        table.add(settings_digest, keys, features, reasons)
        if errors:
            _warn_bad_items(errors, len(items))
    return table
