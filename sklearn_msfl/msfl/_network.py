"""The MSFL network: an LSTM over feature dimensions, attention pooling, task heads.

An utterance is described by one global openSMILE feature vector of ``d``
functionals. MSFL (Ma & Wang, 2022) treats the *feature dimensions* as the time
steps of a sequence: an LSTM reads the ``d`` values one after the other, an
attention layer scores every step and pools the LSTM states with softmax
weights (one weight per feature: the explanation of which features matter), and
shared dense layers feed one classification head per task. Reading several
features per step keeps the sequence short; a second attention level inside
each step then keeps one weight per feature.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import tabm
import torch
from torch import nn

from ._layers import (
    ATTENTION_SCORE_CAP,
    AttentionPooling,
    FeatureAttention,
    FeatureEmbedding,
    GradientReversal,
)

__all__ = ["MSFLNetwork"]

EMBEDDINGS = ("shared", "per_feature")
POOLINGS = ("attention", "mean")
ATTENTION_VALUES = ("states", "inputs", "both")


def _task_classes(n_classes) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Normalise ``n_classes`` (sequence or mapping) to task names and class counts."""
    if isinstance(n_classes, Mapping):
        names = tuple(str(name) for name in n_classes)
        counts = tuple(int(count) for count in n_classes.values())
    elif isinstance(n_classes, Sequence) and not isinstance(n_classes, str):
        counts = tuple(int(count) for count in n_classes)
        names = tuple(f"task{i}" for i in range(len(counts)))
    else:
        raise TypeError(
            "n_classes must be a sequence of class counts or a mapping task -> count, "
            f"got {n_classes!r}"
        )
    if not counts:
        raise ValueError("n_classes must name at least one task")
    if any(count < 1 for count in counts):
        raise ValueError(f"every task needs at least one class, got {n_classes!r}")
    return names, counts


class MSFLNetwork(nn.Module):
    """MSFL: LSTM over feature dimensions, attention pooling, shared layers, task heads.

    The input is a batch of global feature vectors ``(batch, n_features)``.
    Consecutive features are grouped in patches of ``patch_size`` (the last patch
    is zero-padded), giving a sequence of ``ceil(n_features / patch_size)``
    steps that an LSTM reads. Attention pooling weights the steps; the pooled
    vector passes through the task-sharing dense layers and then one linear
    classification head per task.

    With ``embedding="per_feature"`` the attention has two levels, so that every
    feature gets a weight of its own however many features a step reads: inside
    each step a *feature attention* (scores from each feature's embedding,
    softmax over the step's features) pools the step's embeddings into the
    LSTM's input; a *step attention* (scores from the LSTM states, softmax over
    the steps) pools the steps. A feature's weight is its step's weight times
    its weight within the step, so the weights sum to one over all features.
    ``patch_size=1`` with ``embedding="shared"`` and ``attention_values="states"``
    is the paper's network (one raw value per step, attention over the states).

    Parameters
    ----------
    n_features : int
        Number of input features ``d``.
    n_classes : sequence of int or mapping str -> int
        Number of classes of each task, main task first. With a mapping, its keys
        are the task names; otherwise the tasks are called ``task0``, ``task1``...
    patch_size : int, default=1
        Features read per LSTM step. ``1`` is the paper's form (sequence length
        ``d``, one value per step); ``k`` makes the LSTM about ``k`` times faster.
    embedding : {"shared", "per_feature"}, default="shared"
        ``"shared"`` feeds the raw patch values to the LSTM, whose input weights
        are shared across steps (the paper); with ``patch_size > 1`` the
        attention then weights steps, not features. ``"per_feature"`` embeds each
        feature with its own weights, ``value * W_i + b_i`` (as in
        FT-Transformer), and weights the features of a step by feature attention.
    embedding_dim : int, default=16
        Embedding size for ``embedding="per_feature"``; unused with ``"shared"``.
    hidden_size : int, default=32
        LSTM state size.
    num_layers : int, default=1
        Number of stacked LSTM layers.
    bidirectional : bool, default=False
        Whether the LSTM also reads the features backwards.
    pooling : {"attention", "mean"}, default="attention"
        ``"mean"`` is the no-attention ablation: both attention levels become
        plain averages (a step's input is the mean of its features' embeddings,
        the pooled vector the mean of the LSTM states), so the LSTM stays in the
        network; the reported attention is then uniform.
    attention_values : {"states", "inputs", "both"}, default="states"
        What the step attention pools. ``"states"``: the LSTM states (the
        paper). ``"inputs"``: the scores still come from the LSTM states, but
        they pool the LSTM's inputs (each step's pooled feature embeddings), so
        a feature's weight gates exactly what its embedding contributes: a
        faithful per-feature explanation. ``"both"``: the same weights pool
        both, and the shared layers read the pooled inputs and the pooled
        states side by side (what the LSTM learnt reaches the classifier).
        ``"inputs"`` and ``"both"`` need ``embedding="per_feature"``.
    feature_attention_scale : float or "learned", optional
        Factor of the within-step attention scores before their soft cap (see
        :class:`FeatureAttention`): the step's feature count by default, a
        constant, or ``"learned"`` (a temperature per step, from 1). Needs
        within-step attention (``embedding="per_feature"``, ``patch_size > 1``,
        ``pooling="attention"``).
    shared_sizes : int or sequence of int, default=(64,)
        Sizes of the shared dense layers after pooling (at least one: GradNorm
        balances the gradients at the last of them).
    dropout : float, default=0.0
        Dropout after pooling and after every shared layer (and between LSTM
        layers).
    wide : bool, default=False
        Whether the first shared layer also reads the whole input vector
        through a linear map of its own (wide and deep): a path around the
        LSTM and the attention, so that the attention weights no longer tell
        everything the network reads.
    n_members : int, default=1
        Members of a parameter-efficient ensemble (BatchEnsemble, as in TabM)
        that share the embeddings, the LSTM and the attention: the shared
        layers become ``tabm.LinearBatchEnsemble`` layers (one weight matrix,
        a scaling of its inputs and outputs and a bias per member) and every
        task gets one head per member (``tabm.LinearEnsemble``). With more
        than one member the logits have a member axis.
    feature_dropout : float, default=0.0
        Probability of dropping each input feature of each sample in training
        (set to 0, the mean of a standardised feature; the others scaled by
        ``1 / (1 - p)``, as dropout does).
    input_noise : float, default=0.0
        Standard deviation of Gaussian noise added to the (standardised)
        inputs in training.
    adversarial : sequence of str, default=()
        Tasks whose heads sit behind a :class:`GradientReversal`: the head
        learns the task, the shared layers learn features that do not reveal
        it (e.g. the language, for language-invariant shared features).
    adversarial_strength : float, default=1.0
        Strength of the gradient reversal.

    Attributes
    ----------
    task_names : tuple of str
        Task names, in the order of the outputs.
    n_steps : int
        LSTM sequence length ``ceil(n_features / patch_size)``.
    attention_level : {"feature", "step", None}
        What the attention weights distinguish: every feature, only steps
        (features of one step share its weight), or nothing (mean pooling).

    Examples
    --------
    >>> import torch
    >>> net = MSFLNetwork(n_features=10, n_classes={"emotion": 4, "language": 2},
    ...                   patch_size=4, embedding="per_feature", hidden_size=8)
    >>> net.n_steps, net.attention_level
    (3, 'feature')
    >>> (emotion, language), attention = net(torch.randn(5, 10), return_attention=True)
    >>> emotion.shape, language.shape, attention.shape
    (torch.Size([5, 4]), torch.Size([5, 2]), torch.Size([5, 10]))
    """

    def __init__(
        self,
        n_features: int,
        n_classes,
        patch_size: int = 1,
        embedding: str = "shared",
        embedding_dim: int = 16,
        hidden_size: int = 32,
        num_layers: int = 1,
        bidirectional: bool = False,
        pooling: str = "attention",
        attention_values: str = "states",
        feature_attention_scale=None,
        shared_sizes=(64,),
        dropout: float = 0.0,
        wide: bool = False,
        n_members: int = 1,
        feature_dropout: float = 0.0,
        input_noise: float = 0.0,
        adversarial=(),
        adversarial_strength: float = 1.0,
    ):
        super().__init__()
        _check_positive_int(n_features, "n_features")
        _check_positive_int(patch_size, "patch_size")
        _check_positive_int(hidden_size, "hidden_size")
        _check_positive_int(num_layers, "num_layers")
        _check_choice(embedding, "embedding", EMBEDDINGS)
        _check_choice(pooling, "pooling", POOLINGS)
        _check_choice(attention_values, "attention_values", ATTENTION_VALUES)
        _check_positive_int(n_members, "n_members")
        if embedding == "shared" and attention_values != "states":
            raise ValueError(
                f"attention_values={attention_values!r} pools per-feature embeddings: it "
                "needs embedding='per_feature' (or set attention_values='states')"
            )
        for value, name in ((dropout, "dropout"), (feature_dropout, "feature_dropout")):
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {value!r}")
        if not input_noise >= 0.0:
            raise ValueError(f"input_noise must be non-negative, got {input_noise!r}")
        shared_sizes = (
            (shared_sizes,) if isinstance(shared_sizes, numbers.Integral) else tuple(shared_sizes)
        )
        if not shared_sizes:
            raise ValueError("shared_sizes needs at least one layer")
        for size in shared_sizes:
            _check_positive_int(size, "shared layer size")

        self.task_names, self.n_classes = _task_classes(n_classes)
        self.n_features = int(n_features)
        self.patch_size = int(patch_size)
        self.n_steps = math.ceil(self.n_features / self.patch_size)
        self.embedding = embedding
        self.pooling = pooling
        self.attention_values = attention_values
        self.n_members = int(n_members)
        self.feature_dropout = float(feature_dropout)
        self.input_noise = float(input_noise)

        if embedding == "per_feature":
            _check_positive_int(embedding_dim, "embedding_dim")
            self.embed = FeatureEmbedding(self.n_steps, self.patch_size, embedding_dim)
            lstm_input_size = embedding_dim
        else:
            self.embed = None
            lstm_input_size = self.patch_size
        use_attention = pooling == "attention"
        # Inside a step: one weight per feature (needs embeddings and several features).
        weighs_within = use_attention and self.embed is not None and self.patch_size > 1
        self.feature_attention = None
        if weighs_within:
            # Passed only when set, so that a FeatureAttention variant keeps its own default.
            scale = {} if feature_attention_scale is None else {
                "logit_scale": _check_scale(feature_attention_scale)}
            self.feature_attention = FeatureAttention(
                self.n_steps, self.patch_size, embedding_dim, **scale)
        elif feature_attention_scale is not None:
            raise ValueError(
                "feature_attention_scale needs attention within steps (embedding='per_feature', "
                "patch_size > 1 and pooling='attention')"
            )
        self.lstm = nn.LSTM(
            lstm_input_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        state_size = hidden_size * (2 if bidirectional else 1)
        self.attention = (
            AttentionPooling(state_size, max_score=ATTENTION_SCORE_CAP) if use_attention else None
        )
        self.pool_dropout = nn.Dropout(dropout)

        pooled_sizes = {"states": state_size, "inputs": lstm_input_size,
                        "both": lstm_input_size + state_size}
        in_size = pooled_sizes[attention_values] if use_attention else state_size
        self.wide = nn.Linear(self.n_features, shared_sizes[0], bias=False) if wide else None
        self.shared = nn.Sequential(*self._shared_layers(in_size, shared_sizes, dropout))
        self.heads = nn.ModuleList(
            self._linear(shared_sizes[-1], count, first=False, head=True)
            for count in self.n_classes
        )
        unknown = set(adversarial) - set(self.task_names)
        if unknown:
            raise ValueError(f"adversarial names unknown tasks {sorted(unknown)}; "
                             f"the tasks are {list(self.task_names)}")
        self.adversarial = tuple(name for name in self.task_names if name in set(adversarial))
        self.reversal = GradientReversal(adversarial_strength)

        # Real (non-padding) features of every patch: only the last patch can be short.
        real = torch.ones(self.n_steps * self.patch_size, dtype=torch.bool)
        real[self.n_features :] = False
        self.register_buffer("real_features", real.reshape(self.n_steps, -1), persistent=False)

    def _linear(self, in_size: int, out_size: int, first: bool, head: bool = False) -> nn.Module:
        """A dense layer, or with several members its ensemble version from ``tabm``."""
        if self.n_members == 1:
            return nn.Linear(in_size, out_size)
        if head:
            return tabm.LinearEnsemble(in_size, out_size, k=self.n_members)
        # TabM's initialisation: random signs scale the first layer's inputs (what makes
        # the members differ at the start), every other scaling starts at one.
        scaling = ("random-signs", "ones") if first else "ones"
        return tabm.LinearBatchEnsemble(in_size, out_size, k=self.n_members,
                                        scaling_init=scaling)

    def _shared_layers(self, in_size: int, sizes, dropout: float) -> list[nn.Module]:
        layers = []
        for i, size in enumerate(sizes):
            layers += [self._linear(in_size, size, first=i == 0), nn.ReLU(), nn.Dropout(dropout)]
            in_size = size
        return layers

    @property
    def attention_level(self) -> str | None:
        """``"feature"``, ``"step"`` or None: what the attention weights tell apart."""
        if self.attention is None:
            return None
        if self.patch_size == 1 or self.feature_attention is not None:
            return "feature"
        return "step"

    @property
    def last_shared_layer(self) -> nn.Module:
        """The last task-sharing dense layer (where GradNorm measures gradients)."""
        return self.shared[-3]

    def shared_parameters(self) -> list[nn.Parameter]:
        """Weights of the last shared layer, the ``W`` of GradNorm's gradient norms.

        Examples
        --------
        >>> net = MSFLNetwork(n_features=4, n_classes=[3, 2], shared_sizes=(8,))
        >>> [tuple(p.shape) for p in net.shared_parameters()]
        [(8, 32)]
        """
        return [self.last_shared_layer.weight]

    def to_patches(self, X: torch.Tensor) -> torch.Tensor:
        """Zero-pad ``(batch, n_features)`` and reshape to ``(batch, n_steps, patch_size)``.

        Examples
        --------
        >>> import torch
        >>> net = MSFLNetwork(n_features=5, n_classes=[2], patch_size=2)
        >>> net.to_patches(torch.arange(1.0, 6.0).reshape(1, 5)).tolist()
        [[[1.0, 2.0], [3.0, 4.0], [5.0, 0.0]]]
        """
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(
                f"expected input of shape (batch, {self.n_features}), got {tuple(X.shape)}"
            )
        n_padding = self.n_steps * self.patch_size - self.n_features
        if n_padding:
            X = nn.functional.pad(X, (0, n_padding))
        return X.reshape(X.shape[0], self.n_steps, self.patch_size)

    def step_inputs(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The LSTM's input sequence and every feature's weight within its step.

        Returns ``(steps, within)``: ``steps`` of shape ``(batch, n_steps,
        input_size)``; ``within`` of shape ``(batch, n_steps, patch_size)``, each
        step's weights over its real features (zero on padding, summing to one).
        """
        patches = self.to_patches(X)
        real = self.real_features
        uniform = (real / real.sum(dim=1, keepdim=True)).to(patches.dtype)
        within = uniform.expand_as(patches)
        if self.embed is None:
            return patches, within
        if self.feature_attention is not None:
            return self.feature_attention(patches, self.embed, real)
        # One feature per step, or mean pooling: the sum of the real features' embeddings
        # (what uniform feature attention gives).
        weight, bias = self.embed.weight, self.embed.bias
        gates = real.to(patches.dtype)
        steps = (torch.einsum("bsk,ske->bse", gates * patches, weight)
                 + torch.einsum("sk,ske->se", gates, bias))
        return steps, within

    def forward(self, X: torch.Tensor, return_attention: bool = False):
        """Compute the logits of every task.

        Parameters
        ----------
        X : tensor of shape (batch, n_features)
            Standardised feature vectors.
        return_attention : bool, default=False
            Also return every feature's attention weight.

        Returns
        -------
        logits : tuple of tensors
            One ``(batch, n_classes[i])`` tensor per task, in ``task_names``
            order; ``(batch, n_members, n_classes[i])`` with several members.
        attention : tensor of shape (batch, n_features)
            Only when ``return_attention``: the weight of every feature (its
            step's weight times its weight within the step), summing to one.
        """
        inputs = self._perturb(X)
        steps, within = self.step_inputs(inputs)
        states, _ = self.lstm(steps)
        if self.attention is not None:
            values = {"inputs": steps, "states": states}.get(self.attention_values)
            if values is None:  # "both"
                values = torch.cat([steps, states], dim=-1)
            pooled, step_weights = self.attention(states, values=values)
        else:
            pooled = states.mean(dim=1)
            step_weights = states.new_full(states.shape[:2], 1.0 / self.n_steps)
        shared = self._shared_forward(self.pool_dropout(pooled), inputs)
        logits = tuple(
            head(self.reversal(shared) if name in self.adversarial else shared)
            for name, head in zip(self.task_names, self.heads)
        )
        if not return_attention:
            return logits
        attention = (step_weights.unsqueeze(-1) * within).reshape(X.shape[0], -1)
        return logits, attention[:, : self.n_features]

    def _perturb(self, X: torch.Tensor) -> torch.Tensor:
        """The inputs with noise and feature dropout in training (untouched at 0)."""
        if not self.training:
            return X
        if self.input_noise:
            X = X + self.input_noise * torch.randn_like(X)
        if self.feature_dropout:
            X = nn.functional.dropout(X, self.feature_dropout)
        return X

    def _shared_forward(self, pooled: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """The shared layers on the pooled vector (one copy per member), plus the wide path."""
        if self.n_members > 1:
            pooled = tabm.ensemble_view(pooled, self.n_members, self.training)
        if self.wide is None:
            return self.shared(pooled)
        wide = self.wide(inputs)
        hidden = self.shared[0](pooled) + (wide.unsqueeze(1) if self.n_members > 1 else wide)
        for layer in self.shared[1:]:
            hidden = layer(hidden)
        return hidden


def _check_choice(value, name: str, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def _check_scale(value):
    if isinstance(value, str):
        if value != "learned":
            raise ValueError(f"feature_attention_scale must be a positive number or "
                             f"'learned', got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"feature_attention_scale must be a positive number or 'learned', "
                         f"got {value!r}")
    return float(value)


def _check_positive_int(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
