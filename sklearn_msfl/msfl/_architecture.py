"""Network architectures of the estimator: MSFL's default form and the paper's, resolved.

:class:`~sklearn_msfl.msfl.MultitaskSERClassifier` takes an
``architecture`` and four structural parameters that default to None, meaning
"what the architecture says". This module holds the two architectures, fills in
the structural parameters and rejects combinations that do not make a coherent
network, naming the parameters that conflict and what to set.
"""

from __future__ import annotations

import math

__all__ = ["ARCHITECTURES", "AUTO_N_STEPS", "resolve_architecture"]

#: Sequence length that ``patch_size="auto"`` aims at.
AUTO_N_STEPS = 16

#: The structural parameters of every architecture.
ARCHITECTURES = {
    # Short sequences of per-feature embeddings with two-level attention: every
    # feature keeps its own weight, the LSTM reads about AUTO_N_STEPS steps. One-way:
    # a bidirectional LSTM's end states summarise the whole vector, and the step
    # attention then favoured the first and last features by position (the synthetic
    # ground truth of tests/test_explain_ground_truth.py failed on 2 of 5 seeds).
    "msfl": {"patch_size": "auto", "embedding": "per_feature",
             "attention_values": "inputs", "bidirectional": False},
    # Ma & Wang (2022): one raw feature value per LSTM step, attention over the
    # LSTM states, a shared dense layer and one head per task.
    "paper": {"patch_size": 1, "embedding": "shared",
              "attention_values": "states", "bidirectional": False},
}


def resolve_architecture(architecture: str, n_features: int, **params) -> dict:
    """The network's structural parameters: explicit values, else the architecture's.

    Parameters
    ----------
    architecture : {"msfl", "paper"}
        The architecture whose values fill the parameters left at None.
    n_features : int
        Number of input features (resolves ``patch_size="auto"``).
    **params
        ``patch_size``, ``embedding``, ``attention_values``, ``bidirectional``
        and ``pooling`` as given to the estimator (None: the architecture's).

    Returns
    -------
    dict
        ``patch_size`` (an int), ``embedding``, ``attention_values``,
        ``bidirectional`` and ``pooling``.

    Raises
    ------
    ValueError
        For a combination that makes no coherent network.

    Examples
    --------
    >>> resolve_architecture("msfl", 1582, pooling="attention")["patch_size"]
    99
    >>> resolve_architecture("paper", 1582, pooling="attention")
    {'patch_size': 1, 'embedding': 'shared', 'attention_values': 'states', 'bidirectional': False, 'pooling': 'attention'}
    >>> resolve_architecture("paper", 10, pooling="attention", attention_values="inputs")
    Traceback (most recent call last):
    ...
    ValueError: attention_values='inputs' pools per-feature embeddings, but embedding='shared' ...
    """
    defaults = ARCHITECTURES[architecture]
    explicit = {name: value for name, value in params.items() if value is not None}
    resolved = {**defaults, **explicit}
    if resolved["embedding"] == "shared" and resolved["attention_values"] != "states":
        source = "" if "embedding" in explicit else f" (architecture={architecture!r})"
        raise ValueError(
            f"attention_values={resolved['attention_values']!r} pools per-feature embeddings, "
            f"but embedding='shared'{source} feeds raw values to the LSTM: set "
            "embedding='per_feature', or attention_values='states'"
        )
    if resolved.get("pooling") == "mean" and "attention_values" in explicit:
        raise ValueError(
            f"attention_values={explicit['attention_values']!r} has no effect with "
            "pooling='mean' (no attention: the LSTM states are averaged): leave "
            "attention_values at None, or set pooling='attention'"
        )
    patch_size = resolved["patch_size"]
    if patch_size == "auto":
        patch_size = math.ceil(n_features / AUTO_N_STEPS)
    resolved["patch_size"] = min(int(patch_size), n_features)
    return resolved
