"""The MSFL network: an LSTM over feature dimensions, attention pooling, task heads.

An utterance is described by one global openSMILE feature vector of ``d``
functionals. MSFL (Ma & Wang, 2022) treats the *feature dimensions* as the time
steps of a sequence: an LSTM reads the ``d`` values one after the other, an
attention layer scores every step and pools the LSTM states with softmax
weights (one weight per feature: the explanation of which features matter), and
shared dense layers feed one classification head per task.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import torch
from torch import nn

__all__ = ["AttentionPooling", "FeatureEmbedding", "MSFLNetwork"]

EMBEDDINGS = ("shared", "per_feature")
POOLINGS = ("attention", "mean")
ATTENTION_VALUES = ("states", "inputs")


class FeatureEmbedding(nn.Module):
    """Embed every feature with its own weights: ``value * W_i + b_i``.

    Like the feature tokenizer of FT-Transformer, each feature position gets its
    own linear embedding, so the LSTM knows *which* feature it is reading, not
    only its value. Features are grouped in patches of ``patch_size``; the
    embedding of a patch is the sum of its features' embeddings, which is a
    per-patch linear map (and exactly ``value * W_i + b_i`` for ``patch_size=1``).

    Parameters
    ----------
    n_steps : int
        Number of patches (sequence length).
    patch_size : int
        Number of features per patch.
    embedding_dim : int
        Size of each embedding vector.

    Examples
    --------
    >>> import torch
    >>> embed = FeatureEmbedding(n_steps=5, patch_size=2, embedding_dim=3)
    >>> embed(torch.zeros(4, 5, 2)).shape
    torch.Size([4, 5, 3])
    """

    def __init__(self, n_steps: int, patch_size: int, embedding_dim: int):
        super().__init__()
        bound = 1.0 / math.sqrt(embedding_dim)
        self.weight = nn.Parameter(
            torch.empty(n_steps, patch_size, embedding_dim).uniform_(-bound, bound)
        )
        self.bias = nn.Parameter(torch.empty(n_steps, embedding_dim).uniform_(-bound, bound))

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        """Map patches ``(batch, n_steps, patch_size)`` to ``(batch, n_steps, embedding_dim)``."""
        if patches.shape[-1] == 1:
            # Broadcasting is cheaper than a batched matmul with an inner size of one.
            return patches * self.weight[:, 0, :] + self.bias
        return torch.einsum("bsk,ske->bse", patches, self.weight) + self.bias


class AttentionPooling(nn.Module):
    """Additive attention that pools a sequence of states into one vector.

    Every step ``t`` gets a score ``v^T tanh(W h_t + b)``; a softmax over the
    steps turns the scores into weights, and the output is the weighted sum of
    the states. Steps where ``mask`` is False get weight zero.

    Parameters
    ----------
    input_size : int
        Size of each state ``h_t``.
    attention_size : int, optional
        Size of the hidden scoring layer; defaults to ``input_size``.

    Examples
    --------
    >>> import torch
    >>> pool = AttentionPooling(input_size=6)
    >>> pooled, weights = pool(torch.randn(2, 4, 6))
    >>> pooled.shape, weights.shape
    (torch.Size([2, 6]), torch.Size([2, 4]))
    >>> torch.allclose(weights.sum(dim=1), torch.ones(2))
    True
    """

    def __init__(self, input_size: int, attention_size: int | None = None):
        super().__init__()
        attention_size = attention_size or input_size
        self.project = nn.Linear(input_size, attention_size)
        self.score = nn.Linear(attention_size, 1, bias=False)

    def forward(
        self,
        states: torch.Tensor,
        mask: torch.Tensor | None = None,
        values: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Score ``states`` ``(batch, n_steps, size)``; return ``(pooled, weights)``.

        ``mask`` is a boolean tensor broadcastable to ``(batch, n_steps)``,
        True for steps that may receive attention. ``values``
        ``(batch, n_steps, any size)`` are what the weights pool; the states
        themselves by default.
        """
        scores = self.score(torch.tanh(self.project(states))).squeeze(-1)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=1)
        values = states if values is None else values
        pooled = torch.bmm(weights.unsqueeze(1), values).squeeze(1)
        return pooled, weights


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
    steps that an LSTM reads. Attention pooling weights every step; the pooled
    vector passes through the task-sharing dense layers and then one linear
    classification head per task.

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
        are shared across steps (the paper). ``"per_feature"`` first embeds each
        feature with its own weights, ``value * W_i + b_i`` (as in FT-Transformer),
        so that each step knows which features it reads.
    embedding_dim : int, default=16
        Embedding size for ``embedding="per_feature"``; unused with ``"shared"``.
    hidden_size : int, default=32
        LSTM state size.
    num_layers : int, default=1
        Number of stacked LSTM layers.
    bidirectional : bool, default=False
        Whether the LSTM also reads the features backwards.
    pooling : {"attention", "mean"}, default="attention"
        ``"mean"`` averages the LSTM states (the no-attention ablation); the
        reported attention is then uniform.
    attention_values : {"states", "inputs"}, default="states"
        What the attention weights pool. ``"states"``: the LSTM states (the
        paper). ``"inputs"``: the scores still come from the LSTM states, but
        they pool the LSTM's inputs (each step's embedding, or its raw patch
        with ``embedding="shared"``). A state summarises every feature read so
        far, so the weight of a state marks a *position* in the sequence; the
        weight of an input gates exactly what that step's features contribute,
        which makes the attention a faithful per-feature explanation.
    shared_sizes : int or sequence of int, default=(64,)
        Sizes of the shared dense layers after pooling (at least one: GradNorm
        balances the gradients at the last of them).
    dropout : float, default=0.0
        Dropout after pooling and after every shared layer (and between LSTM
        layers).

    Attributes
    ----------
    task_names : tuple of str
        Task names, in the order of the outputs.
    n_steps : int
        LSTM sequence length ``ceil(n_features / patch_size)``.

    Examples
    --------
    >>> import torch
    >>> net = MSFLNetwork(n_features=10, n_classes={"emotion": 4, "language": 2},
    ...                   patch_size=4, hidden_size=8)
    >>> net.n_steps
    3
    >>> (emotion, language), attention = net(torch.randn(5, 10), return_attention=True)
    >>> emotion.shape, language.shape, attention.shape
    (torch.Size([5, 4]), torch.Size([5, 2]), torch.Size([5, 3]))
    >>> net.feature_attention(attention).shape
    torch.Size([5, 10])
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
        shared_sizes=(64,),
        dropout: float = 0.0,
    ):
        super().__init__()
        _check_positive_int(n_features, "n_features")
        _check_positive_int(patch_size, "patch_size")
        _check_positive_int(hidden_size, "hidden_size")
        _check_positive_int(num_layers, "num_layers")
        if embedding not in EMBEDDINGS:
            raise ValueError(f"embedding must be one of {EMBEDDINGS}, got {embedding!r}")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        if attention_values not in ATTENTION_VALUES:
            raise ValueError(
                f"attention_values must be one of {ATTENTION_VALUES}, got {attention_values!r}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
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

        if embedding == "per_feature":
            _check_positive_int(embedding_dim, "embedding_dim")
            self.embed = FeatureEmbedding(self.n_steps, self.patch_size, embedding_dim)
            lstm_input_size = embedding_dim
        else:
            self.embed = None
            lstm_input_size = self.patch_size
        self.lstm = nn.LSTM(
            lstm_input_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        state_size = hidden_size * (2 if bidirectional else 1)
        self.attention = AttentionPooling(state_size) if pooling == "attention" else None
        self.pool_dropout = nn.Dropout(dropout)

        layers = []
        in_size = state_size if attention_values == "states" else lstm_input_size
        for size in shared_sizes:
            layers += [nn.Linear(in_size, size), nn.ReLU(), nn.Dropout(dropout)]
            in_size = size
        self.shared = nn.Sequential(*layers)
        self.heads = nn.ModuleList(nn.Linear(in_size, count) for count in self.n_classes)

        # Number of real (non-padding) features in every patch: only the last
        # patch can be short. Used to spread patch attention over its features.
        counts = torch.full((self.n_steps,), self.patch_size)
        counts[-1] = self.n_features - self.patch_size * (self.n_steps - 1)
        self.register_buffer("patch_counts", counts, persistent=False)

    @property
    def last_shared_layer(self) -> nn.Linear:
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

    def forward(self, X: torch.Tensor, return_attention: bool = False):
        """Compute the logits of every task.

        Parameters
        ----------
        X : tensor of shape (batch, n_features)
            Standardised feature vectors.
        return_attention : bool, default=False
            Also return the attention weights over the LSTM steps.

        Returns
        -------
        logits : tuple of tensors
            One ``(batch, n_classes[i])`` tensor per task, in ``task_names`` order.
        attention : tensor of shape (batch, n_steps)
            Only when ``return_attention``: weights that sum to one over the steps.
        """
        steps = self.to_patches(X)
        if self.embed is not None:
            steps = self.embed(steps)
        states, _ = self.lstm(steps)
        values = states if self.attention_values == "states" else steps
        if self.attention is not None:
            pooled, attention = self.attention(states, values=values)
        else:
            pooled = values.mean(dim=1)
            attention = states.new_full(states.shape[:2], 1.0 / self.n_steps)
        shared = self.shared(self.pool_dropout(pooled))
        logits = tuple(head(shared) for head in self.heads)
        if return_attention:
            return logits, attention
        return logits

    def feature_attention(self, attention: torch.Tensor) -> torch.Tensor:
        """Spread step attention ``(batch, n_steps)`` evenly over each patch's features.

        Padding positions get nothing: each patch's weight is divided among its
        real features only, so the result ``(batch, n_features)`` still sums to
        one per row.

        Examples
        --------
        >>> import torch
        >>> net = MSFLNetwork(n_features=5, n_classes=[2], patch_size=2)
        >>> net.feature_attention(torch.tensor([[0.5, 0.2, 0.3]])).tolist()
        [[0.25, 0.25, 0.10000000149011612, 0.10000000149011612, 0.30000001192092896]]
        """
        per_feature = attention / self.patch_counts.to(attention.dtype)
        per_feature = per_feature.repeat_interleave(self.patch_size, dim=1)
        return per_feature[:, : self.n_features]


def _check_positive_int(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
