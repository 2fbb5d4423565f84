"""MultitaskSERClassifier: the MSFL network as a scikit-learn classifier, trained with skorch.

The estimator is a plain scikit-learn classifier: ``fit(X, y)`` with one row of
features per utterance and one label column per task (emotion first, then
auxiliary tasks such as language), ``predict`` returns the main task's labels.
Inside ``fit`` it standardises the features and trains an
:class:`~sklearn_msfl.network.MSFLNetwork` through a skorch ``NeuralNet``
subclass that computes one loss per task and combines them with GradNorm (or
a constant weighting).
"""

from __future__ import annotations

import copy
import math
import warnings
import numbers
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, Subset

from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GroupShuffleSplit, train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch import NeuralNet
from skorch.callbacks import (
    Callback,
    EarlyStopping,
    EpochTimer,
    LRScheduler,
    PassthroughScoring,
    PrintLog,
)
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from .gradnorm import make_loss_weighting
from ._architecture import ARCHITECTURES, resolve_architecture
from ._threads import torch_threads
from .metrics import main_task_labels
from .network import MSFLNetwork

__all__ = ["MultitaskSERClassifier", "MultitaskCrossEntropy", "default_task_names"]

# Standardised features are clipped to this many standard deviations, so that an
# outlier at prediction time cannot saturate the LSTM gates.
_CLIP_STD = 10.0
_FLOAT_DTYPES = (np.float64, np.float32)
_INFERENCE_BATCH_SIZE = 512
LR_SCHEDULES = ("onecycle", "cosine", "constant")


def default_task_names(n_tasks: int) -> list[str]:
    """Names for the columns of a 2-D label array: emotion, language, task2, ...

    Examples
    --------
    >>> default_task_names(4)
    ['emotion', 'language', 'task2', 'task3']
    """
    names = ["emotion", "language"][:n_tasks]
    return names + [f"task{i}" for i in range(len(names), n_tasks)]


class MultitaskCrossEntropy(nn.Module):
    """Cross-entropy of every task, stacked into one tensor of shape ``(n_tasks,)``.

    Parameters
    ----------
    class_weights : sequence of (array-like or None), optional
        Per-task class weights (``None`` for unweighted tasks).

    Examples
    --------
    >>> import torch
    >>> criterion = MultitaskCrossEntropy()
    >>> logits = (torch.zeros(2, 3), torch.zeros(2, 2))
    >>> criterion(logits, torch.tensor([[0, 1], [2, 0]])).shape
    torch.Size([2])
    """

    def __init__(self, class_weights=None):
        super().__init__()
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
            if sample_weight is None:
                losses.append(nn.functional.cross_entropy(task_logits, y[:, i], weight=weight))
                continue
            per_sample = nn.functional.cross_entropy(
                task_logits, y[:, i], weight=weight, reduction="none"
            )
            norm = sample_weight if weight is None else sample_weight * weight[y[:, i]]
            losses.append((per_sample * sample_weight).sum() / norm.sum().clamp_min(1e-12))
        return torch.stack(losses)


class _TaskWeightsLogger(Callback):
    """Record the task weights at the end of every epoch (before PrintLog prints)."""

    def on_epoch_end(self, net, **kwargs):
        weights = net.loss_weighting.get_weights()
        net.history.record("task_weights", weights)
        if len(weights) > 1:
            for task, weight in weights.items():
                net.history.record(f"weight_{task}", weight)


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
        if self.groups is not None:
            return self._split_groups(dataset)
        indices = np.arange(len(dataset))
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
        return Subset(dataset, train), Subset(dataset, valid)

    def _split_groups(self, dataset):
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
        train, valid = next(splitter.split(np.zeros(len(dataset)), groups=self.groups))
        return Subset(dataset, train), Subset(dataset, valid)


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

    def get_iterator(self, dataset, training=False):
        """Batches fetched whole by fancy indexing, in the order of skorch's iterators.

        skorch's default DataLoader fetches and collates a batch sample by sample, a
        fixed cost of several milliseconds per batch that dominated the short epochs of
        a 16-step sequence.
        """
        params = self.get_params_for("iterator_train" if training else "iterator_valid")
        if params.get("shuffle", False):
            order = RandomSampler(dataset, generator=params.get("generator"))
        else:
            order = SequentialSampler(dataset)
        batches = BatchSampler(order, batch_size=int(self.batch_size), drop_last=False)
        return DataLoader(dataset, sampler=batches, batch_size=None)

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


class MultitaskSERClassifier(ClassifierMixin, BaseEstimator):
    """Multitask shared feature learning (MSFL) for speech emotion recognition.

    Learns emotion (the main task) together with auxiliary tasks such as the
    language from one global feature vector per utterance (e.g. openSMILE IS10
    functionals). An LSTM reads the standardised feature vector with the feature
    dimensions as time steps, attention pooling weights every feature, shared
    dense layers follow, and each task has its own classification head. The
    task losses are balanced by GradNorm (Chen et al., 2018). With a 1-D ``y``
    it is the single-task (STL) baseline.

    Parameters
    ----------
    architecture : {"msfl", "paper"}, default="msfl"
        The network's form; it sets every structural parameter left at None.
        ``"msfl"``: per-feature embeddings read in about ``AUTO_N_STEPS`` (16)
        steps by a one-way LSTM, with two-level attention (features within
        a step, then steps) that gives every feature its own weight, pooling the
        embeddings. ``"paper"``: Ma & Wang's network, one raw feature value per
        LSTM step (1582 steps on IS10, far slower), a one-way LSTM, attention
        over its states. See :class:`~sklearn_msfl.network.MSFLNetwork`.
    hidden_size : int, default=32
        LSTM state size.
    num_layers : int, default=1
        Number of stacked LSTM layers.
    bidirectional : bool, default=None
        Whether the LSTM also reads the features backwards (None: the
        architecture's, False for both: with two-level attention a
        bidirectional LSTM biased the step weights towards the first and last
        features).
    patch_size : int or "auto", default=None
        Consecutive features read per LSTM step (None: the architecture's,
        ``"auto"`` for "msfl", 1 for "paper"); the training time falls roughly
        in proportion. ``"auto"`` groups the features into about
        ``AUTO_N_STEPS`` (16) steps, ``ceil(d / 16)`` features each (99 for
        IS10, 6 for eGeMAPSv02).
    embedding : {"per_feature", "shared"}, default=None
        ``"per_feature"``: each feature gets its own linear embedding
        ``value * W_i + b_i`` and its own attention weight within its step;
        ``"shared"``: raw values into the LSTM (the paper; with
        ``patch_size > 1`` the attention then weights steps, not features).
        None: the architecture's.
    embedding_dim : int, default=16
        Size of the per-feature embeddings.
    pooling : {"attention", "mean"}, default="attention"
        Attention pooling (MSFL) or mean pooling (the no-attention ablation:
        features and LSTM states are averaged, the LSTM stays).
    attention_values : {"inputs", "states"}, default=None
        What the step attention pools: the LSTM's inputs (each step's
        attention-pooled feature embeddings), weighted by scores computed from
        the states; or the LSTM states (the paper). A state summarises all
        features read before it, so state weights mark positions rather than
        features: ``"inputs"`` makes the attention a faithful per-feature
        explanation. None: the architecture's ("inputs" for "msfl", "states"
        for "paper"); "inputs" needs ``embedding="per_feature"``.
    shared_size : int or tuple of int, default=64
        Size(s) of the shared dense layer(s) after pooling.
    dropout : float, default=0.3
        Dropout after pooling and after each shared layer.
    adversarial_tasks : tuple of str, default=()
        Auxiliary tasks learnt adversarially: their heads sit behind a gradient
        reversal, so that the shared features stop encoding them (e.g.
        ``("language",)`` for language-invariant features when the target
        language is unseen). The paper's language task is cooperative (the
        default).
    adversarial_strength : float, default=1.0
        Strength of the gradient reversal of ``adversarial_tasks``.
    lr : float, default=2e-3
        (Peak) learning rate of the AdamW optimizer.
    lr_schedule : {"onecycle", "cosine", "constant"}, default="onecycle"
        Learning-rate schedule over the ``max_epochs`` epochs, stepped every
        batch: one-cycle (warm-up then annealing to zero), cosine annealing,
        or a constant ``lr``.
    weight_decay : float, default=1e-3
        AdamW weight decay.
    max_epochs : int, default=60
        Number of training epochs (fewer with early stopping).
    batch_size : int, default=32
        Mini-batch size.
    loss_weighting : "gradnorm", "equal" or dict, default="gradnorm"
        How the task losses are combined: GradNorm, a plain sum, or constant
        weights ``{task: weight}`` (tasks left out get 1). A
        :class:`~sklearn_msfl.gradnorm.LossWeighting` instance also works.
    gradnorm_alpha : float, default=1.5
        GradNorm's asymmetry ``alpha``.
    gradnorm_lr : float, default=0.025
        Learning rate of GradNorm's task-weight optimizer.
    main_task : str or int, default=None
        The task whose labels ``predict`` returns (name or column position);
        None means the first column of ``y``.
    class_weight : None, "balanced" or dict, default=None
        Class weights of the losses: ``"balanced"`` for every task, a dict
        ``{label: weight}`` for the main task, or a dict ``{task: spec}`` with a
        spec per task.
    validation_fraction : float, default=0.0
        Fraction of the training data held out (stratified on the main task) to
        monitor ``valid_loss_<task>`` and stop early; 0 trains on everything for
        ``max_epochs`` epochs.
    patience : int, default=5
        Epochs without improvement of the main task's validation loss before
        stopping; the best epoch's weights are restored.
    n_ensemble : int, default=1
        Number of networks trained with different seeds; predictions, task
        probabilities and attention weights are their averages. Each network
        costs one more training run; averaging lowers the variance that a
        few hundred training utterances leave (with 5 networks: +3 points of
        UAR over a single seed on inner validation and +4 on the benchmark's
        test folds, ``benchmarks/results/multilingual_ser.md``).
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where to train; "auto" takes CUDA when available.
    n_threads : int or None, default=None
        Torch CPU threads during ``fit`` and prediction (the caller's setting is
        restored afterwards). None: one thread, which is the fastest for
        networks of this size and never oversubscribes shared cores
        (``benchmarks/results/threads.md``); -1: as many as the caller allows.
        A limit the caller set (``torch.set_num_threads``, ``OMP_NUM_THREADS``,
        threadpoolctl, the per-worker limits of joblib and dask) is an upper bound.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation split
        (torch's global RNG state is restored afterwards). Two fits with the same
        integer give identical predictions on the CPU.
    verbose : int, default=0
        If positive, print one progress line per epoch (skorch's PrintLog).

    Attributes
    ----------
    classes_ : ndarray
        Labels of the main task.
    task_names_ : list of str
        Task names, in the column order of ``y``.
    main_task_ : str
        Name of the main task.
    classes_per_task_ : dict str -> ndarray
        Labels of every task.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Feature names, when ``X`` was a DataFrame with string column names.
    scaler_ : StandardScaler
        The feature standardisation fitted on the training data.
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the MSFLNetwork. With
        ``n_ensemble > 1``, the first network of ``nets_``.
    nets_ : list of skorch.NeuralNet
        All ``n_ensemble`` trained nets.
    history_ : skorch.History
        The first net's per-epoch ``train_loss`` / ``valid_loss`` (weighted sum), per-task
        ``train_loss_<task>`` / ``valid_loss_<task>`` and ``task_weights``.
    device_ : str
        The device the network lives on.
    n_iter_ : int
        Number of epochs trained.
    attention_level_ : {"feature", "step"} or None
        What :meth:`attention_weights` tells apart: every feature (the
        defaults and the paper's form), only LSTM steps (raw patches of several
        features, ``embedding="shared"`` with ``patch_size > 1``: a step's
        features share its weight), or nothing (``pooling="mean"``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> X, emotion = make_classification(n_samples=60, n_features=12, n_informative=6,
    ...                                  n_classes=3, random_state=0)
    >>> language = np.where(X[:, 0] > 0, "de", "en")
    >>> y = np.column_stack([emotion, language])
    >>> clf = MultitaskSERClassifier(hidden_size=8, shared_size=8, patch_size=4,
    ...                              max_epochs=3, random_state=0).fit(X, y)
    >>> clf.task_names_, clf.main_task_
    (['emotion', 'language'], 'emotion')
    >>> clf.predict(X[:4]).shape, clf.predict_proba(X[:4]).shape
    ((4,), (4, 3))
    >>> list(clf.predict_tasks(X[:2]).columns)
    ['emotion', 'language']
    >>> clf.attention_weights(X[:2]).sum(axis=1).round(6)
    array([1., 1.])
    """

    _parameter_constraints: dict = {
        "architecture": [StrOptions(set(ARCHITECTURES))],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean", None],
        "patch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "embedding": [StrOptions({"per_feature", "shared"}), None],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "pooling": [StrOptions({"attention", "mean"})],
        "attention_values": [StrOptions({"inputs", "states"}), None],
        "shared_size": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "adversarial_tasks": [tuple, list],
        "adversarial_strength": [Interval(Real, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "loss_weighting": [StrOptions({"gradnorm", "equal"}), dict,
                           HasMethods(["combine", "get_weights"])],
        "gradnorm_alpha": [Interval(Real, 0, None, closed="left")],
        "gradnorm_lr": [Interval(Real, 0, None, closed="neither")],
        "main_task": [str, Integral, None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "n_ensemble": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "n_threads": [Interval(Integral, 1, None, closed="left"), Options(Integral, {-1}), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        architecture="msfl",
        hidden_size=32,
        num_layers=1,
        bidirectional=None,
        patch_size=None,
        embedding=None,
        embedding_dim=16,
        pooling="attention",
        attention_values=None,
        shared_size=64,
        dropout=0.3,
        adversarial_tasks=(),
        adversarial_strength=1.0,
        lr=2e-3,
        lr_schedule="onecycle",
        weight_decay=1e-3,
        max_epochs=60,
        batch_size=32,
        loss_weighting="gradnorm",
        gradnorm_alpha=1.5,
        gradnorm_lr=0.025,
        main_task=None,
        class_weight=None,
        validation_fraction=0.0,
        patience=5,
        n_ensemble=1,
        device="auto",
        n_threads=None,
        random_state=None,
        verbose=0,
    ):
        self.architecture = architecture
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.patch_size = patch_size
        self.embedding = embedding
        self.embedding_dim = embedding_dim
        self.pooling = pooling
        self.attention_values = attention_values
        self.shared_size = shared_size
        self.dropout = dropout
        self.adversarial_tasks = adversarial_tasks
        self.adversarial_strength = adversarial_strength
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.loss_weighting = loss_weighting
        self.gradnorm_alpha = gradnorm_alpha
        self.gradnorm_lr = gradnorm_lr
        self.main_task = main_task
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.n_ensemble = n_ensemble
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit

    def fit(self, X, y, sample_weight=None, groups=None, auxiliary=None):
        """Train the network on features ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One feature vector per utterance (not yet standardised).
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Labels. 1-D: a single task (the STL baseline), named after the
            Series or ``"emotion"``. 2-D: one column per task; a DataFrame's
            column names are the task names, an array's columns are called
            ``emotion``, ``language``, ``task2``... Labels may be strings.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of every utterance in every task's loss (e.g. to weight
            corpora); each task's loss is the weighted mean over a batch.
        groups : array-like of shape (n_samples,), default=None
            Speaker of every utterance. With ``validation_fraction > 0`` the
            early-stopping hold-out then takes whole speakers, so that early
            stopping watches unseen speakers. In a pipeline or a search with
            metadata routing enabled, request it with
            ``set_fit_request(groups=True)``.
        auxiliary : array-like of shape (n_samples,) or (n_samples, n_aux), default=None
            Labels of the auxiliary tasks (e.g. the language) when ``y`` holds
            only the main task: the tasks are then ``y`` followed by these
            columns (a DataFrame's or Series' names, else ``language``,
            ``task2``...). With a 1-D ``y`` every scikit-learn tool treats the
            estimator as a plain classifier: string scorers such as
            ``"balanced_accuracy"``, ``cross_val_predict(method="predict_proba")``
            and stratified folds work unchanged, and the auxiliary labels are
            split with the rows as fit metadata (``set_fit_request(auxiliary=True)``
            with metadata routing, ``msfl__auxiliary=`` in a pipeline without).

        Returns
        -------
        self : MultitaskSERClassifier
            The fitted estimator.
        """
        self._validate_params()
        # A failed refit leaves a fitted estimator as it was (validate_data resets
        # n_features_in_ and feature_names_in_ before training starts).
        fitted = {name: value for name, value in vars(self).items() if _is_fitted_name(name)}
        try:
            return self._fit(X, _with_auxiliary(y, auxiliary), sample_weight, groups)
        except BaseException:
            for name in [name for name in vars(self) if _is_fitted_name(name)]:
                delattr(self, name)
            vars(self).update(fitted)
            raise

    def _fit(self, X, y, sample_weight, groups):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        X = self._validate_features(X, reset=True)
        task_names, columns = _targets_by_task(y)
        check_consistent_length(X, *columns)
        main_task = self._resolve_main_task(task_names)
        classes, Y = _encode_targets(task_names, columns)
        self._check_shared_size()
        structure = self._structure(X.shape[1])
        if groups is not None:
            groups = column_or_1d(groups)
            check_consistent_length(X, groups)
        elif self.validation_fraction > 0:
            warnings.warn(
                "validation_fraction holds out utterances, so early stopping watches the "
                "training speakers: pass groups=speakers to fit to hold out whole speakers",
                UserWarning, stacklevel=3,
            )
        Y_fit = Y
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
            Y_fit = np.column_stack([Y, sample_weight])

        # The first seed is the one a single network always used: n_ensemble=1 is unchanged.
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=int(self.n_ensemble)
        )
        device = _resolve_device(self.device)
        scaler = StandardScaler().fit(X)
        X_train = _standardise(scaler, X).astype(np.float32)

        nets = []
        with torch_threads(self.n_threads):
            for seed in seeds:
                net = self._build_net(task_names, classes, structure, Y, int(seed), device,
                                      groups=groups, sample_weighted=sample_weight is not None)
                with _SeededTorch(int(seed), device):
                    net.fit(X_train, Y_fit)
                nets.append(net)

        self.scaler_ = scaler
        self.task_names_ = list(task_names)
        self.main_task_ = main_task
        self.classes_per_task_ = dict(zip(task_names, classes))
        self.classes_ = self.classes_per_task_[main_task]
        self.nets_ = nets
        self.net_ = nets[0]
        self.history_ = self.net_.history
        self.device_ = device
        self.n_iter_ = len(self.net_.history)
        self.attention_level_ = self.net_.module_.attention_level
        return self

    def _validate_features(self, X, reset: bool) -> np.ndarray:
        """``validate_data``, with the rows and features of NaN/infinite values named."""
        try:
            return validate_data(self, X, reset=reset, dtype=_FLOAT_DTYPES)
        except ValueError as error:
            where = _where_not_finite(X)
            if where is None:
                raise
            raise ValueError(f"{type(self).__name__}: {where}") from error

    def _resolve_main_task(self, task_names) -> str:
        if self.main_task is None:
            return task_names[0]
        if isinstance(self.main_task, numbers.Integral) and not isinstance(self.main_task, bool):
            if not -len(task_names) <= self.main_task < len(task_names):
                raise ValueError(
                    f"main_task={self.main_task} is out of range for {len(task_names)} tasks"
                )
            return task_names[self.main_task]
        if self.main_task not in task_names:
            raise ValueError(f"main_task={self.main_task!r} is not one of the tasks {task_names}")
        return str(self.main_task)

    def _adversarial_tasks(self, task_names) -> tuple:
        tasks = tuple(self.adversarial_tasks)
        main = self._resolve_main_task(task_names)
        if main in tasks:
            raise ValueError(f"the main task {main!r} cannot be in adversarial_tasks")
        unknown = set(tasks) - set(task_names)
        if unknown:
            raise ValueError(
                f"adversarial_tasks names unknown tasks {sorted(unknown)}; the tasks are "
                f"{list(task_names)}"
            )
        return tasks

    def _check_shared_size(self) -> None:
        if not isinstance(self.shared_size, Integral):
            sizes = list(self.shared_size)
            if not sizes or not all(
                isinstance(size, Integral) and not isinstance(size, bool) and size >= 1
                for size in sizes
            ):
                raise ValueError(
                    "shared_size must be a positive int or a non-empty sequence of them, "
                    f"got {self.shared_size!r}"
                )

    def _structure(self, n_features: int) -> dict:
        """The network's structural parameters, the architecture filling those left at None."""
        # Models saved before architectures existed were all "msfl" networks.
        return resolve_architecture(
            getattr(self, "architecture", "msfl"), n_features, patch_size=self.patch_size,
            embedding=self.embedding, attention_values=self.attention_values,
            bidirectional=self.bidirectional, pooling=self.pooling,
        )

    def _lr_scheduler(self, n_samples: int):
        """The skorch callback of ``lr_schedule``, stepped every batch; None if constant."""
        if self.lr_schedule == "constant":
            return None
        # An upper bound of the optimizer steps: a validation hold-out only removes batches.
        total_steps = int(self.max_epochs) * math.ceil(n_samples / int(self.batch_size))
        if self.lr_schedule == "onecycle":
            return LRScheduler(
                policy=torch.optim.lr_scheduler.OneCycleLR,
                max_lr=float(self.lr),
                total_steps=total_steps,
                step_every="batch",
            )
        return LRScheduler(
            policy=torch.optim.lr_scheduler.CosineAnnealingLR,
            T_max=total_steps,
            step_every="batch",
        )

    def _shared_sizes(self) -> tuple[int, ...]:
        if isinstance(self.shared_size, numbers.Integral):
            return (int(self.shared_size),)
        return tuple(int(size) for size in self.shared_size)

    def _build_net(self, task_names, classes, structure, Y, seed, device, *, groups=None,
                   sample_weighted=False) -> _MultitaskNet:
        n_features = self.n_features_in_
        main_index = task_names.index(self._resolve_main_task(task_names))
        weighting_spec = self.loss_weighting if len(task_names) > 1 else "equal"
        loss_weighting = make_loss_weighting(
            weighting_spec, task_names, alpha=self.gradnorm_alpha, lr=self.gradnorm_lr
        )
        callbacks = []
        scheduler = self._lr_scheduler(len(Y))
        if scheduler is not None:
            callbacks.append(("lr_scheduler", scheduler))
        train_split = None
        if self.validation_fraction > 0:
            train_split = _HoldoutSplit(self.validation_fraction, seed, main_index, groups)
            callbacks.append((
                "early_stopping",
                EarlyStopping(
                    monitor=f"valid_loss_{task_names[main_index]}",
                    patience=self.patience,
                    load_best=True,
                    sink=print if self.verbose else _silent,
                ),
            ))
        return _MultitaskNet(
            module=MSFLNetwork,
            module__n_features=n_features,
            module__n_classes={task: len(c) for task, c in zip(task_names, classes)},
            module__patch_size=structure["patch_size"],
            module__embedding=structure["embedding"],
            module__embedding_dim=self.embedding_dim,
            module__hidden_size=self.hidden_size,
            module__num_layers=self.num_layers,
            module__bidirectional=bool(structure["bidirectional"]),
            module__pooling=self.pooling,
            module__attention_values=structure["attention_values"],
            module__shared_sizes=self._shared_sizes(),
            module__dropout=float(self.dropout),
            module__adversarial=self._adversarial_tasks(task_names),
            module__adversarial_strength=float(self.adversarial_strength),
            criterion=MultitaskCrossEntropy,
            criterion__class_weights=self._class_weights(task_names, classes, Y),
            optimizer=torch.optim.AdamW,
            optimizer__weight_decay=float(self.weight_decay),
            lr=float(self.lr),
            max_epochs=int(self.max_epochs),
            batch_size=int(self.batch_size),
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            train_split=train_split,
            callbacks=callbacks,
            task_names=task_names,
            loss_weighting=loss_weighting,
            sample_weighted=sample_weighted,
            device=device,
            verbose=int(self.verbose),
        )

    def _class_weights(self, task_names, classes, Y) -> list:
        """Per-task class weight arrays (or None) from the ``class_weight`` parameter."""
        spec = self.class_weight
        if spec is None:
            return [None] * len(task_names)
        if isinstance(spec, str):
            if spec != "balanced":
                raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {spec!r}")
            per_task = dict.fromkeys(task_names, spec)
        elif isinstance(spec, Mapping):
            is_per_task = bool(spec) and all(
                key in task_names and (value is None or isinstance(value, (str, Mapping)))
                for key, value in spec.items()
            )
            per_task = dict(spec) if is_per_task else {self._resolve_main_task(task_names): spec}
        else:
            raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {spec!r}")

        weights = []
        for i, (task, task_classes) in enumerate(zip(task_names, classes)):
            task_spec = per_task.get(task)
            if task_spec is None:
                weights.append(None)
                continue
            if isinstance(task_spec, Mapping):
                unknown = set(task_spec) - set(task_classes.tolist())
                if unknown:
                    raise ValueError(
                        f"class_weight for task {task!r} names unknown labels "
                        f"{sorted(map(str, unknown))}"
                    )
            # compute_class_weight maps labels to weights; encoded labels index classes.
            weights.append(
                compute_class_weight(task_spec, classes=task_classes, y=task_classes[Y[:, i]])
            )
        return weights

    # ------------------------------------------------------------ predict

    def _forward(self, X, return_attention: bool = False):
        """Run the network(s) in float64 on ``X``; return task probabilities (and feature attention).

        Inference runs in double precision so that a sample's output does not
        depend on which other samples share its batch. An ensemble averages the
        probabilities and the attention of its networks.
        """
        check_is_fitted(self)
        X = self._validate_features(X, reset=False)
        X = np.ascontiguousarray(_standardise(self.scaler_, X), dtype=np.float64)
        with torch_threads(getattr(self, "n_threads", None)):
            outputs = [self._forward_net(net, X, return_attention) for net in self._ensemble()]
        probabilities = {
            task: np.mean([output[0][task] for output in outputs], axis=0)
            for task in self.task_names_
        }
        if return_attention:
            return probabilities, np.mean([output[1] for output in outputs], axis=0)
        return probabilities

    def _ensemble(self) -> list:
        # A model saved before ensembles existed has only net_.
        return getattr(self, "nets_", None) or [self.net_]

    def _forward_net(self, net, X: np.ndarray, return_attention: bool):
        device = net.device
        module = copy.deepcopy(net.module_).to(device=device, dtype=torch.float64).eval()
        probabilities = [[] for _ in self.task_names_]
        attention = []
        with torch.no_grad():
            for start in range(0, len(X), _INFERENCE_BATCH_SIZE):
                batch = torch.from_numpy(X[start : start + _INFERENCE_BATCH_SIZE]).to(device)
                logits, feature_attention = module(batch, return_attention=True)
                for task_probabilities, task_logits in zip(probabilities, logits):
                    task_probabilities.append(torch.softmax(task_logits, dim=1).cpu().numpy())
                if return_attention:
                    attention.append(feature_attention.cpu().numpy())
        probabilities = {
            task: np.concatenate(chunks) for task, chunks in zip(self.task_names_, probabilities)
        }
        return probabilities, (np.concatenate(attention) if return_attention else None)

    def predict_proba_tasks(self, X) -> dict:
        """Class probabilities of every task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        dict str -> ndarray of shape (n_samples, n_classes_of_task)
            Columns ordered as ``classes_per_task_[task]``.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.RandomState(0)
        >>> X, y = rng.normal(size=(20, 6)), np.column_stack([rng.randint(3, size=20),
        ...                                                   rng.randint(2, size=20)])
        >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, random_state=0).fit(X, y)
        >>> {task: p.shape for task, p in clf.predict_proba_tasks(X).items()}
        {'emotion': (20, 3), 'language': (20, 2)}
        """
        return self._forward(X)

    def predict_proba(self, X) -> np.ndarray:
        """Main-task class probabilities, columns ordered as ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.RandomState(0)
        >>> X, y = rng.normal(size=(20, 6)), rng.choice(["angry", "happy"], size=20)
        >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, random_state=0).fit(X, y)
        >>> clf.predict_proba(X).sum(axis=1).round(6)[:3]
        array([1., 1., 1.])
        """
        return self._forward(X)[self.main_task_]

    def predict(self, X) -> np.ndarray:
        """Main-task labels (in the original label type).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        ndarray of shape (n_samples,)

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.RandomState(0)
        >>> X, y = rng.normal(size=(20, 6)), rng.choice(["angry", "happy"], size=20)
        >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, random_state=0).fit(X, y)
        >>> set(clf.predict(X)) <= {"angry", "happy"}
        True
        """
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)]

    def predict_tasks(self, X) -> pd.DataFrame:
        """Labels of every task, one column per task (index kept from a DataFrame ``X``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        DataFrame of shape (n_samples, n_tasks)

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(20, 6))
        >>> y = pd.DataFrame({"emotion": rng.choice(["angry", "sad"], 20),
        ...                   "language": rng.choice(["de", "en", "ur"], 20)})
        >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, random_state=0).fit(X, y)
        >>> clf.predict_tasks(X[:3]).shape
        (3, 2)
        """
        index = X.index if isinstance(X, pd.DataFrame) else None
        probabilities = self._forward(X)
        return pd.DataFrame(
            {
                task: self.classes_per_task_[task][np.argmax(probabilities[task], axis=1)]
                for task in self.task_names_
            },
            index=index,
        )

    def attention_weights(self, X) -> np.ndarray:
        """Attention weight of every input feature, per sample (rows sum to one).

        A feature's weight is its LSTM step's weight times its weight within the
        step. Where the network has no per-feature weights (``attention_level_``
        is "step" or None) the step's weight is spread evenly over its features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        ndarray of shape (n_samples, ``n_features_in_``)

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.RandomState(0)
        >>> X, y = rng.normal(size=(20, 6)), rng.randint(2, size=20)
        >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, patch_size=4,
        ...                              random_state=0).fit(X, y)
        >>> weights = clf.attention_weights(X)
        >>> weights.shape, bool(np.allclose(weights.sum(axis=1), 1))
        ((20, 6), True)
        """
        return self._forward(X, return_attention=True)[1]

    def score(self, X, y, sample_weight=None) -> float:
        """Main-task accuracy (WA) on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Main-task labels, or all task labels as in ``fit``.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        float
            Labels never seen in ``fit`` count as errors.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(30, 4))
        >>> y = np.column_stack([(X[:, 0] > 0).astype(int), (X[:, 1] > 0).astype(int)])
        >>> clf = MultitaskSERClassifier(max_epochs=2, hidden_size=4, random_state=0).fit(X, y)
        >>> clf.score(X, y) == clf.score(X, y[:, 0])
        True
        """
        y_pred = self.predict(X)
        return accuracy_score(main_task_labels(self, y), y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        # y may be 2-D: the main task's column followed by auxiliary task columns
        # (not multi-output: predictions are the main task's labels only).
        tags.target_tags.two_d_labels = True
        return tags

    def __setstate__(self, state):
        super().__setstate__(state)
        # skorch maps a CUDA net onto the CPU when CUDA is missing; follow it.
        if "net_" in self.__dict__:
            self.device_ = str(self.net_.device)


def _is_fitted_name(name: str) -> bool:
    return name.endswith("_") and not name.startswith("_")


def _standardise(scaler: StandardScaler, X: np.ndarray) -> np.ndarray:
    return np.clip(scaler.transform(X), -_CLIP_STD, _CLIP_STD)


def _where_not_finite(X) -> str | None:
    """Describe where numeric ``X`` holds NaN or infinity; None if nowhere (or not numeric)."""
    if np.iscomplexobj(X):  # validate_data's own message says complex data is unsupported
        return None
    try:
        values = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if values.ndim != 2 or np.isfinite(values).all():
        return None
    bad = ~np.isfinite(values)
    rows, features = np.flatnonzero(bad.any(axis=1)), np.flatnonzero(bad.any(axis=0))
    names = list(X.columns) if isinstance(X, pd.DataFrame) else list(range(values.shape[1]))
    has_nan = bool(np.isnan(values).any())
    kind = "NaN and infinity" if has_nan and np.isinf(values).any() else (
        "NaN" if has_nan else "infinity")
    hint = (
        " NaN rows usually come from audio that OpenSmileTransformer(on_error='nan') could "
        "not process: drop or impute them first." if has_nan else ""
    )
    return (
        f"X contains {kind} in {len(rows)} of {len(values)} rows (rows {rows[:10].tolist()}"
        f"{' ...' if len(rows) > 10 else ''}; features "
        f"{[names[i] for i in features[:10]]}{' ...' if len(features) > 10 else ''}).{hint}"
    )


def _with_auxiliary(y, auxiliary):
    """``y`` (the main task) and the ``auxiliary`` task columns as one DataFrame."""
    if auxiliary is None:
        return y
    main_names, main = _targets_by_task(y)
    if len(main) != 1:
        raise ValueError(
            f"auxiliary labels are given, so y must hold the main task only, got {len(main)} "
            "columns: pass either a 2-D y or a 1-D y with auxiliary="
        )
    if isinstance(auxiliary, (pd.DataFrame, pd.Series)):
        names, columns = _targets_by_task(auxiliary)
        if isinstance(auxiliary, pd.Series) and auxiliary.name is None:
            names = ["language"]
    else:
        array = np.asarray(auxiliary)
        array = array.reshape(-1, 1) if array.ndim == 1 else array
        if array.ndim != 2:
            raise ValueError(f"auxiliary must be 1-D or 2-D, got shape {array.shape}")
        names = default_task_names(1 + array.shape[1])[1:]
        columns = [array[:, i] for i in range(array.shape[1])]
    if main_names[0] in names:
        main_names = ["main"] if "main" not in names else [f"main_{main_names[0]}"]
    check_consistent_length(main[0], *columns)
    return pd.DataFrame(dict(zip(main_names + names, main + columns)))


def _targets_by_task(y) -> tuple[list[str], list[np.ndarray]]:
    """Split ``y`` into task names and one 1-D label array per task."""
    if isinstance(y, pd.DataFrame):
        names = [str(column) for column in y.columns]
        columns = [y.iloc[:, i].to_numpy() for i in range(y.shape[1])]
    elif isinstance(y, pd.Series):
        names = ["emotion" if y.name is None else str(y.name)]
        columns = [y.to_numpy()]
    else:
        array = np.asarray(y)
        if array.ndim == 2 and array.shape[1] == 1:
            array = column_or_1d(array, warn=True)
        if array.ndim == 1:
            names, columns = ["emotion"], [array]
        elif array.ndim == 2:
            names = default_task_names(array.shape[1])
            columns = [array[:, i] for i in range(array.shape[1])]
        else:
            raise ValueError(f"y must be 1-D or 2-D, got shape {array.shape}")
    if not columns:
        raise ValueError("y has no task columns")
    if len(set(names)) != len(names):
        raise ValueError(f"task names must be unique, got {names}")
    return names, columns


def _encode_targets(task_names, columns) -> tuple[list[np.ndarray], np.ndarray]:
    """Check every task's labels; return per-task classes and the encoded (n, n_tasks) array."""
    classes, codes = [], []
    for name, column in zip(task_names, columns):
        if column.dtype == object and len(column) and not isinstance(column[0], str):
            # e.g. integer labels in a mixed-type 2-D object array: recover their dtype
            inferred = pd.Series(column).infer_objects().to_numpy()
            column = inferred if inferred.dtype != object else column
        if pd.isna(pd.Series(column, dtype=object)).any():
            raise ValueError(f"labels of task {name!r} contain missing values (NaN/None)")
        if column.dtype.kind == "f":  # before scikit-learn casts the labels to int
            assert_all_finite(column, input_name="y")
        check_classification_targets(column)
        task_classes, encoded = np.unique(column, return_inverse=True)
        if len(task_classes) < 2:
            raise ValueError(
                f"task {name!r} needs at least 2 classes, but y has only 1 class: "
                f"{task_classes.tolist()}"
            )
        classes.append(task_classes)
        codes.append(encoded.reshape(-1))
    return classes, np.column_stack(codes).astype(np.int64)

