"""The skorch training machinery of MultitaskSERClassifier: criterion, hold-out, seeding, device.

:class:`_MultitaskNet` is the skorch ``NeuralNet`` that
:class:`~sklearn_msfl.msfl.MultitaskSERClassifier` trains: one loss per task
(:class:`MultitaskCrossEntropy`), combined by a loss weighting (GradNorm or a
constant one); :class:`_HoldoutSplit` is its early-stopping hold-out, and
:class:`_SeededTorch` seeds torch for one fit.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, Subset

from sklearn.model_selection import GroupShuffleSplit, train_test_split
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring, PrintLog
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from ._gradnorm import make_loss_weighting

__all__ = ["MultitaskCrossEntropy"]


class MultitaskCrossEntropy(nn.Module):
    """Cross-entropy of every task, stacked into one tensor of shape ``(n_tasks,)``.

    Logits with a member axis ``(batch, n_members, n_classes)`` (an ensemble in
    one network) give the mean of the members' losses.

    Parameters
    ----------
    class_weights : sequence of (array-like or None), optional
        Per-task class weights (``None`` for unweighted tasks).
    label_smoothing : float, default=0.0
        Label smoothing of every task's cross-entropy (PyTorch's).

    Examples
    --------
    >>> import torch
    >>> criterion = MultitaskCrossEntropy()
    >>> logits = (torch.zeros(2, 3), torch.zeros(2, 2))
    >>> criterion(logits, torch.tensor([[0, 1], [2, 0]])).shape
    torch.Size([2])
    """

    def __init__(self, class_weights=None, label_smoothing: float = 0.0):
        super().__init__()
        self.label_smoothing = float(label_smoothing)
        self.n_weighted = 0 if class_weights is None else len(class_weights)
        for i, weights in enumerate(class_weights or []):
            tensor = None if weights is None else torch.as_tensor(weights, dtype=torch.float32)
            self.register_buffer(f"class_weight_{i}", tensor)

    def forward(self, logits, y: torch.Tensor, sample_weight=None) -> torch.Tensor:
        """Stacked task losses for ``logits`` (one tensor per task), ``y`` (batch, n_tasks).

        With ``sample_weight`` (batch,) every task's loss is the weighted mean
        ``sum_n w_n c_n l_n / sum_n w_n c_n`` (``c_n`` the class weight of sample
        ``n``, 1 without), which is PyTorch's class-weighted mean when all
        ``w_n`` are equal.
        """
        losses = []
        for i, task_logits in enumerate(logits):
            weight = getattr(self, f"class_weight_{i}") if i < self.n_weighted else None
            target, weights = y[:, i], sample_weight
            if task_logits.ndim == 3:
                # Every member sees the whole batch: the mean over all member-sample
                # pairs is the mean of the members' (weighted) means.
                n_members = task_logits.shape[1]
                task_logits = task_logits.reshape(-1, task_logits.shape[-1])
                target = target.repeat_interleave(n_members)
                if weights is not None:
                    weights = weights.repeat_interleave(n_members)
            if weights is None:
                losses.append(nn.functional.cross_entropy(
                    task_logits, target, weight=weight, label_smoothing=self.label_smoothing))
                continue
            per_sample = nn.functional.cross_entropy(
                task_logits, target, weight=weight, reduction="none",
                label_smoothing=self.label_smoothing,
            )
            norm = weights if weight is None else weights * weight[target]
            losses.append((per_sample * weights).sum() / norm.sum().clamp_min(1e-12))
        return torch.stack(losses)


class _TaskWeightsLogger(Callback):
    """Record the task weights at the end of every epoch (before PrintLog prints)."""

    def on_epoch_end(self, net, **kwargs):
        weights = net.loss_weighting.get_weights()
        net.history.record("task_weights", weights)
        if len(weights) > 1:
            for task, weight in weights.items():
                net.history.record(f"weight_{task}", weight)


#: Weight averaging: SWA averages the weights at the end of the last quarter of the
#: epochs; EMA updates its average at the end of every epoch with this decay, so that
#: the last 10 epochs carry about two thirds of the weight.
SWA_FRACTION = 0.25
EMA_DECAY = 0.9


class _WeightAveraging(Callback):
    """Average the network's weights over the end of training; the average replaces them.

    ``"swa"``: the plain mean of the weights at the end of each of the last
    ``SWA_FRACTION`` of ``max_epochs`` epochs (stochastic weight averaging);
    ``"ema"``: an exponential moving average over all epochs' end weights, decay
    ``EMA_DECAY`` per epoch. Only parameters are averaged: the network has no
    batch-norm statistics to recompute.
    """

    def __init__(self, method: str, max_epochs: int):
        self.method = method
        self.max_epochs = max_epochs

    def initialize(self):
        self.averaged_ = None
        return self

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        if self.method == "swa":
            if epoch <= self.max_epochs - math.ceil(SWA_FRACTION * self.max_epochs):
                return
            if self.averaged_ is None:
                self.averaged_ = AveragedModel(net.module_)
        elif self.averaged_ is None:
            self.averaged_ = AveragedModel(
                net.module_, multi_avg_fn=get_ema_multi_avg_fn(EMA_DECAY))
        self.averaged_.update_parameters(net.module_)

    def on_train_end(self, net, **kwargs):
        if self.averaged_ is not None:
            net.module_.load_state_dict(self.averaged_.module.state_dict())
        self.averaged_ = None  # the net (and its pickle) keeps one copy of the weights


def _silent(*args, **kwargs):
    """A sink for callbacks that should not print (module level, so it pickles)."""


class _HoldoutSplit:
    """skorch ``train_split``: hold out a fraction of the groups (speakers) when given,
    else of the utterances, stratified on the main task if possible."""

    def __init__(self, fraction: float, random_state: int, main_index: int = 0, groups=None):
        self.fraction = fraction
        self.random_state = random_state
        self.main_index = main_index
        self.groups = groups

    def __call__(self, dataset, y=None, **fit_params):
        train, valid = self.split(len(dataset), y)
        return Subset(dataset, train), Subset(dataset, valid)

    def split(self, n_samples: int, y=None) -> tuple[np.ndarray, np.ndarray]:
        """Row indices of the training part and of the held-out part."""
        if self.groups is not None:
            return self._split_groups(n_samples)
        indices = np.arange(n_samples)
        n_valid = max(1, int(round(self.fraction * len(indices))))
        if len(indices) - n_valid < 1:
            raise ValueError(
                f"validation_fraction={self.fraction} leaves no training data "
                f"with {len(indices)} samples"
            )
        stratify = None if y is None else np.asarray(y)[:, self.main_index]
        try:
            train, valid = train_test_split(
                indices, test_size=n_valid, stratify=stratify, random_state=self.random_state
            )
        except ValueError:  # a class too rare to stratify: fall back to a plain split
            train, valid = train_test_split(
                indices, test_size=n_valid, random_state=self.random_state
            )
        return train, valid

    def _split_groups(self, n_samples: int):
        n_groups = len(np.unique(self.groups))
        if n_groups < 2:
            raise ValueError(
                f"validation_fraction={self.fraction} holds out whole groups (speakers), "
                f"but groups has only {n_groups} distinct value"
            )
        splitter = GroupShuffleSplit(
            n_splits=1, test_size=max(1, round(self.fraction * n_groups)),
            random_state=self.random_state,
        )
        return next(splitter.split(np.zeros(n_samples), groups=self.groups))


def _dataset_arrays(dataset):
    """``(X, y, rows)`` of a skorch Dataset of arrays, or of a Subset of one; else None."""
    rows = None
    if isinstance(dataset, Subset):
        rows, dataset = np.asarray(dataset.indices), dataset.dataset
    X, y = getattr(dataset, "X", None), getattr(dataset, "y", None)
    if not (isinstance(X, np.ndarray) and isinstance(y, np.ndarray)):
        return None
    return X, y, rows


class _ArrayBatches:
    """Iterable of ``(X, y)`` tensor batches, each gathered by one index (a DataLoader's stand-in)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, rows, batches: BatchSampler):
        self.X, self.y, self.rows, self.batches = X, y, rows, batches

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        # The DataLoader this replaces drew one number from torch's global RNG per
        # epoch; drawing it too keeps the training's random stream (dropout) as it was.
        torch.empty((), dtype=torch.int64).random_()
        for batch in self.batches:
            index = np.asarray(batch) if self.rows is None else self.rows[batch]
            yield torch.from_numpy(self.X[index]), torch.from_numpy(self.y[index])


class _MultitaskNet(NeuralNet):
    """skorch NeuralNet with one loss per task, combined by a :class:`LossWeighting`.

    The module returns a tuple of logits; the criterion returns the stacked task
    losses. Training steps hand the task losses and the last shared layer's
    weights to the loss weighting (GradNorm updates its weights there); every
    task loss is logged per batch and averaged per epoch into the history as
    ``train_loss_<task>`` / ``valid_loss_<task>``.
    """

    def __init__(self, *args, task_names=("emotion",), loss_weighting=None,
                 sample_weighted=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.task_names = tuple(task_names)
        # With sample weights, y carries them as a float column after the task codes.
        self.sample_weighted = sample_weighted
        self.loss_weighting = loss_weighting or make_loss_weighting("equal", self.task_names)

    def initialize_optimizer(self, *args, **kwargs):
        # optimizer=None: a net restored to predict (persistence.load_model), as after
        # skorch's trim_for_prediction. Building a torch optimizer imports
        # torch._dynamo: over a second of CPU of a one-file `msfl predict`.
        if self.optimizer is None:
            self.optimizer_ = None
            return self
        return super().initialize_optimizer(*args, **kwargs)

    @property
    def _default_callbacks(self):
        callbacks = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
        ]
        for task in self.task_names:
            for prefix in ("train", "valid"):
                key = f"{prefix}_loss_{task}"
                callbacks.append((key, PassthroughScoring(name=key, on_train=prefix == "train")))
        callbacks += [
            ("task_weights", _TaskWeightsLogger()),
            ("print_log", PrintLog(keys_ignored=["task_weights"])),
        ]
        return callbacks

    def on_epoch_end(self, net, **kwargs):
        """Tell the loss weighting that an epoch ended (GradNorm fixes ``L_i(0)``)."""
        super().on_epoch_end(net, **kwargs)
        self.loss_weighting.end_epoch()

    def get_iterator(self, dataset, training=False):
        """Batches gathered whole, in the order of skorch's iterators.

        skorch's default DataLoader fetches and collates a batch sample by sample, a
        fixed cost of several milliseconds per batch that dominated the short epochs of
        a 16-step sequence. A dataset of arrays (what ``fit`` passes) is indexed one
        batch at a time; anything else goes through a DataLoader.
        """
        params = self.get_params_for("iterator_train" if training else "iterator_valid")
        if params.get("shuffle", False):
            order = RandomSampler(dataset, generator=params.get("generator"))
        else:
            order = SequentialSampler(dataset)
        batches = BatchSampler(order, batch_size=int(self.batch_size), drop_last=False)
        arrays = _dataset_arrays(dataset)
        if arrays is None:
            return DataLoader(dataset, sampler=batches, batch_size=None)
        return _ArrayBatches(*arrays, batches)

    def _set_training(self, training=True):
        # skorch sets the mode of every submodule on every batch; it changes only
        # between training and validation.
        if self.module_.training != training or self.criterion_.training != training:
            super()._set_training(training)

    def get_task_losses(self, y_pred, y_true) -> torch.Tensor:
        """Per-task losses, a tensor of shape ``(n_tasks,)``."""
        y_true = to_tensor(y_true, device=self.device)
        if not self.sample_weighted:
            return self.criterion_(y_pred, y_true.long())
        weights = y_true[:, -1].to(y_pred[0].dtype)
        return self.criterion_(y_pred, y_true[:, :-1].long(), sample_weight=weights)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.loss_weighting.weighted_sum(self.get_task_losses(y_pred, y_true))

    def _record_task_losses(self, prefix: str, task_losses: torch.Tensor) -> None:
        for task, value in zip(self.task_names, task_losses.detach().cpu().tolist()):
            self.history.record_batch(f"{prefix}_loss_{task}", value)

    def _check_finite(self, task_losses: torch.Tensor) -> None:
        if not torch.isfinite(task_losses).all():
            values = dict(zip(self.task_names, task_losses.detach().cpu().tolist()))
            raise FloatingPointError(
                f"Training diverged in epoch {len(self.history)}: task losses {values}. "
                "Try a smaller lr, a smaller gradnorm_lr or more regularisation."
            )

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        task_losses = self.get_task_losses(y_pred, yi)
        self._check_finite(task_losses)
        loss = self.loss_weighting.combine(
            task_losses, self.module_.shared_parameters(), update=True
        )
        loss.backward()
        self._record_task_losses("train", task_losses)
        return {"loss": loss, "y_pred": y_pred}

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        Xi, yi = unpack_data(batch)
        with torch.no_grad():
            y_pred = self.infer(Xi, **fit_params)
            task_losses = self.get_task_losses(y_pred, yi)
            loss = self.loss_weighting.weighted_sum(task_losses)
        self._record_task_losses("valid", task_losses)
        return {"loss": loss, "y_pred": y_pred}


def _resolve_device(device) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', got {device!r}") from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available")
    return str(device)


class _SeededTorch:
    """Seed torch for the duration of a ``with`` block, then restore the global RNG state."""

    def __init__(self, seed: int, device: str):
        self.seed = seed
        self.devices = []
        if torch.device(device).type == "cuda":
            self.devices = [torch.device(device).index or 0]

    def __enter__(self):
        self._fork = torch.random.fork_rng(devices=self.devices)
        self._fork.__enter__()
        torch.manual_seed(self.seed)
        return self

    def __exit__(self, *exc_info):
        return self._fork.__exit__(*exc_info)
