"""openSMILE features: a scikit-learn transformer from audio to functionals.

:class:`OpenSmileTransformer` turns audio files or signals into one row of
openSMILE functionals per item. The subpackage keeps one concern per private
module: ``_transformer`` (the transformer), ``_extraction`` (reading, resampling,
hashing, caching and extracting one item), ``_progress`` (running the pending
extraction, with a progress bar) and ``_audio_files`` (which files count as
audio); every public name is imported here.

``OpenSmileTransformer`` is imported on first use: joblib's worker processes
import ``_extraction``, and through it this package, and must not pay for
scikit-learn.

Examples
--------
>>> from sklearn_msfl.features import AudioError, OpenSmileTransformer
>>> issubclass(AudioError, ValueError), OpenSmileTransformer().feature_set
(True, 'IS10')
"""

from ._extraction import MIN_DURATION_SECONDS, AudioError, AudioWarning

__all__ = ["AudioError", "AudioWarning", "MIN_DURATION_SECONDS", "OpenSmileTransformer"]


def __getattr__(name):
    if name in ("OpenSmileTransformer", "extract_table"):
        from . import _transformer

        return getattr(_transformer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
