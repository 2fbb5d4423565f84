"""Multitask-based shared feature learning (MSFL) for multilingual speech emotion recognition.

Public names are imported lazily, so that ``import sklearn_msfl`` stays cheap and
a user who only extracts features does not pay for importing torch.
"""

from importlib import import_module

__version__ = "0.1.0"

_PUBLIC = {
    "OpenSmileTransformer": "features",
    "make_emotional_speech": "datasets",
    "MSFLNetwork": "network",
    "GradNorm": "gradnorm",
    "MultitaskSERClassifier": "estimator",
    "uar_scorer": "metrics",
    "wa_scorer": "metrics",
    "load_corpus": "corpora",
    "load_corpora": "corpora",
    "CorpusSpeakerKFold": "model_selection",
    "LeaveOneSpeakerOut": "model_selection",
    "LeaveOneCorpusOut": "model_selection",
    "evaluate": "evaluation",
    "shared_features": "explain",
}

__all__ = sorted(_PUBLIC) + ["__version__"]


def __getattr__(name):
    if name in _PUBLIC:
        module = import_module(f".{_PUBLIC[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
