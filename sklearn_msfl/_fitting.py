"""How MultitaskSERClassifier fits: parameter constraints, training loop, the skorch nets.

:class:`_MultitaskFitting` is a mixin of
:class:`~sklearn_msfl.estimator.MultitaskSERClassifier` with the private methods
behind ``fit``: checking the features and tasks, resolving the architecture, and
building and training one :class:`~sklearn_msfl._training._MultitaskNet` per
ensemble member.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    column_or_1d,
    validate_data,
)
from skorch.callbacks import EarlyStopping, LRScheduler

from .gradnorm import make_loss_weighting
from ._architecture import ARCHITECTURES, resolve_architecture
from ._targets import _encode_targets, _targets_by_task, _where_not_finite
from ._threads import torch_threads
from ._training import (
    MultitaskCrossEntropy,
    _HoldoutSplit,
    _MultitaskNet,
    _resolve_device,
    _SeededTorch,
    _silent,
)
from .network import MSFLNetwork

# Standardised features are clipped to this many standard deviations, so that an
# outlier at prediction time cannot saturate the LSTM gates.
_CLIP_STD = 10.0
_FLOAT_DTYPES = (np.float64, np.float32)
LR_SCHEDULES = ("onecycle", "cosine", "constant")

_PARAMETER_CONSTRAINTS: dict = {
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


class _MultitaskFitting:
    """The private fitting methods of MultitaskSERClassifier (a mixin)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        # y may be 2-D: the main task's column followed by auxiliary task columns
        # (not multi-output: predictions are the main task's labels only).
        tags.target_tags.two_d_labels = True
        return tags

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
        if isinstance(self.n_threads, bool):  # an Integral to scikit-learn's constraints
            raise InvalidParameterError(
                f"The 'n_threads' parameter of {type(self).__name__} must be a positive int, "
                f"-1 or None. Got {self.n_threads!r} instead."
            )
        network = self._network_params(X.shape[1], task_names, classes)
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
                net = self._build_net(task_names, classes, network, Y, int(seed), device,
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

    def _network_params(self, n_features: int, task_names, classes) -> dict:
        """Keyword arguments of the :class:`MSFLNetwork` this estimator builds.

        The one mapping from the estimator's parameters to the network's, used by
        ``fit``, by :func:`~sklearn_msfl.persistence.load_model` and by the
        training-speed benchmark; it rejects incoherent structures.
        """
        structure = self._structure(n_features)
        return dict(
            n_features=n_features,
            n_classes={task: len(c) for task, c in zip(task_names, classes)},
            patch_size=structure["patch_size"],
            embedding=structure["embedding"],
            embedding_dim=self.embedding_dim,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=bool(structure["bidirectional"]),
            pooling=self.pooling,
            attention_values=structure["attention_values"],
            shared_sizes=self._shared_sizes(),
            dropout=float(self.dropout),
            adversarial=self._adversarial_tasks(task_names),
            adversarial_strength=float(self.adversarial_strength),
        )

    def _build_net(self, task_names, classes, network, Y, seed, device, *, groups=None,
                   sample_weighted=False, predict_only=False) -> _MultitaskNet:
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
            **{f"module__{name}": value for name, value in network.items()},
            criterion=MultitaskCrossEntropy,
            criterion__class_weights=self._class_weights(task_names, classes, Y),
            # predict_only (a loaded model): no optimizer, see _MultitaskNet.initialize_optimizer.
            **({"optimizer": None} if predict_only else {
                "optimizer": torch.optim.AdamW,
                "optimizer__weight_decay": float(self.weight_decay)}),
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


def _is_fitted_name(name: str) -> bool:
    return name.endswith("_") and not name.startswith("_")


def _standardise(scaler: StandardScaler, X: np.ndarray) -> np.ndarray:
    return np.clip(scaler.transform(X), -_CLIP_STD, _CLIP_STD)
