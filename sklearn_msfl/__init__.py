"""Multitask-based shared feature learning (MSFL) for multilingual speech emotion recognition.

Public names are imported lazily, so that ``import sklearn_msfl`` stays cheap and
a user who only extracts features does not pay for importing torch.
"""

from importlib import import_module

__version__ = "0.1.0"

_PUBLIC = {
    # features
    "OpenSmileTransformer": "features",
    "AudioError": "features",
    "AudioWarning": "features",
    # synthetic data
    "make_emotional_speech": "datasets",
    # corpus normalisation
    "GroupStandardScaler": "preprocessing",
    # the method
    "MSFLNetwork": "msfl",
    "GradNorm": "msfl",
    "EqualWeighting": "msfl",
    "FixedWeighting": "msfl",
    "make_loss_weighting": "msfl",
    "MultitaskSERClassifier": "msfl",
    # metrics
    "uar_score": "metrics",
    "wa_score": "metrics",
    "uar_scorer": "metrics",
    "wa_scorer": "metrics",
    # real corpora and protocol
    "load_corpus": "corpora",
    "load_corpora": "corpora",
    "subset_speakers": "corpora",
    "default_corpora_dir": "corpora",
    "CorpusSpeakerKFold": "model_selection",
    "LeaveOneSpeakerOut": "model_selection",
    "LeaveOneCorpusOut": "model_selection",
    "make_svm_baseline": "baselines",
    "make_logreg_baseline": "baselines",
    "make_mlp_baseline": "baselines",
    "make_tabm_baseline": "baselines",
    "TabMClassifier": "baselines",
    "make_msfl_pipeline": "baselines",
    "evaluate": "evaluation",
    "EvaluationResult": "evaluation",
    # explanation
    "shared_features": "explain",
    "feature_families": "explain",
    "family_weights": "explain",
    "compare_rankings": "explain",
    "monolingual_rankings": "explain",
    "compare_with_permutation": "explain",
    "plot_shared_features": "explain",
    "plot_family_weights": "explain",
    "plot_topk_overlap": "explain",
    # persistence
    "save_model": "persistence",
    "load_model": "persistence",
}

__all__ = sorted(_PUBLIC) + ["__version__"]


def __getattr__(name):
    if name in _PUBLIC:
        module = import_module(f".{_PUBLIC[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
