"""Task loss weighting for multitask training: GradNorm and simple alternatives.

Every weighting combines per-task losses ``L_i`` into the network loss
``sum_i w_i L_i``. :class:`GradNorm` (Chen et al., ICML 2018) additionally
learns the weights ``w_i`` so that the tasks train at similar rates;
:class:`EqualWeighting` and :class:`FixedWeighting` keep them constant.
All three share one interface, so a training loop does not care which it has::

    loss = weighting.combine(task_losses, network.shared_parameters())
    loss.backward()
    ...
    weighting.end_epoch()  # after every epoch
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Mapping, Sequence

import torch

__all__ = [
    "EqualWeighting",
    "FixedWeighting",
    "GradNorm",
    "LossWeighting",
    "make_loss_weighting",
]


class LossWeighting:
    """Base class: a constant weight per task, ``loss = sum_i w_i L_i``.

    Subclasses that learn their weights override :meth:`combine`, :meth:`end_epoch`
    and :meth:`reset`.
    The weights live on the CPU whatever the network's device, which keeps a
    pickled weighting loadable anywhere.

    Parameters
    ----------
    task_names : sequence of str
        Task names, in the order in which losses are passed.

    Examples
    --------
    >>> import torch
    >>> from sklearn_msfl.msfl import LossWeighting
    >>> weighting = LossWeighting(["emotion", "language"])
    >>> weighting.n_tasks, weighting.get_weights()
    (2, {'emotion': 1.0, 'language': 1.0})
    >>> weighting.combine({"emotion": torch.tensor(1.0), "language": torch.tensor(0.5)})
    tensor(1.5000)
    """

    def __init__(self, task_names: Sequence[str]):
        self.task_names = tuple(str(name) for name in task_names)
        if not self.task_names:
            raise ValueError("task_names must name at least one task")
        if len(set(self.task_names)) != len(self.task_names):
            raise ValueError(f"task names must be unique, got {self.task_names}")
        self.weights = torch.ones(self.n_tasks)

    @property
    def n_tasks(self) -> int:
        """Number of tasks."""
        return len(self.task_names)

    def get_weights(self) -> dict[str, float]:
        """Current task weights as a dict task name -> float."""
        return dict(zip(self.task_names, self.weights.detach().tolist()))

    def reset(self) -> None:
        """Forget anything learnt during training (no-op for constant weights)."""

    def end_epoch(self) -> None:
        """Called by the training loop after every epoch (no-op for constant weights)."""

    def _stack(self, losses) -> torch.Tensor:
        """Stack per-task losses given as a sequence or a mapping task -> loss."""
        if isinstance(losses, Mapping):
            missing = set(self.task_names) - set(losses)
            if missing:
                raise ValueError(f"losses are missing for tasks {sorted(missing)}")
            losses = [losses[name] for name in self.task_names]
        if len(losses) != self.n_tasks:
            raise ValueError(f"expected {self.n_tasks} task losses, got {len(losses)}")
        return torch.stack(list(losses))

    def weighted_sum(self, losses) -> torch.Tensor:
        """Return ``sum_i w_i L_i`` with the weights held constant."""
        stacked = self._stack(losses)
        # A copy: GradNorm updates its weights in place before backward runs.
        weights = self.weights.detach().clone().to(device=stacked.device, dtype=stacked.dtype)
        return (weights * stacked).sum()

    def combine(self, losses, shared_parameters=None, update: bool = True) -> torch.Tensor:
        """Return the network loss ``sum_i w_i L_i`` (and, if learnt, update the weights).

        Parameters
        ----------
        losses : sequence or mapping of scalar tensors
            Per-task losses with their graphs attached, in ``task_names`` order.
        shared_parameters : list of tensors, optional
            Parameters of the last shared layer (used by :class:`GradNorm`).
        update : bool, default=True
            Whether a learnt weighting may update its weights (training steps).

        Returns
        -------
        loss : scalar tensor
            The weighted loss to call ``backward`` on.
        """
        return self.weighted_sum(losses)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_weights()})"


class EqualWeighting(LossWeighting):
    """All tasks count the same: ``loss = sum_i L_i``.

    Parameters
    ----------
    task_names : sequence of str
        Task names, in the order in which losses are passed.

    Examples
    --------
    >>> import torch
    >>> weighting = EqualWeighting(["emotion", "language"])
    >>> weighting.combine([torch.tensor(1.0), torch.tensor(2.0)])
    tensor(3.)
    """


class FixedWeighting(LossWeighting):
    """Constant, user-chosen task weights: ``loss = sum_i w_i L_i``.

    Parameters
    ----------
    task_names : sequence of str
        Task names, in the order in which losses are passed.
    weights : mapping str -> float
        Non-negative weight per task; tasks left out get weight 1.

    Examples
    --------
    >>> import torch
    >>> weighting = FixedWeighting(["emotion", "language"], {"language": 0.5})
    >>> weighting.get_weights()
    {'emotion': 1.0, 'language': 0.5}
    >>> weighting.combine([torch.tensor(1.0), torch.tensor(2.0)])
    tensor(2.)
    """

    def __init__(self, task_names: Sequence[str], weights: Mapping[str, float]):
        super().__init__(task_names)
        unknown = set(weights) - set(self.task_names)
        if unknown:
            raise ValueError(
                f"loss weights name unknown tasks {sorted(map(str, unknown))}; "
                f"tasks are {list(self.task_names)}"
            )
        values = [weights.get(name, 1.0) for name in self.task_names]
        if any(not isinstance(v, numbers.Real) or not v >= 0 for v in values):
            raise ValueError(f"loss weights must be non-negative numbers, got {dict(weights)}")
        if sum(values) <= 0:
            raise ValueError("at least one loss weight must be positive")
        self.weights = torch.tensor([float(v) for v in values])


class GradNorm(LossWeighting):
    """GradNorm: learn task weights that balance the tasks' training rates.

    Following Chen et al. (ICML 2018), with ``W`` the last shared layer's weights:

    * ``G_i = ||d(w_i L_i) / dW||``, the gradient norm each task puts on ``W``;
    * ``r_i = (L_i / L_i(0)) / mean_j(L_j / L_j(0))``, the task's relative
      inverse training rate (tasks that learn slowly have ``r_i > 1``), where
      ``L_i(0)`` is the task's mean loss over the first epoch;
    * the GradNorm loss ``sum_i |G_i - mean(G) * r_i ** alpha|``, whose target
      is held constant, is minimised with respect to the weights only, by its
      own optimizer; afterwards the weights are kept positive and rescaled to sum
      to the number of tasks.

    The network itself is trained on ``sum_i w_i L_i`` with the weights held
    constant, so the GradNorm loss never reaches the network's gradients.

    Chen et al. take ``L_i(0)`` from the first training step. On minibatches that
    is one batch's loss, a noisy reference that every later training rate is
    divided by, so ``L_i(0)`` here is the mean over the first epoch: during it,
    the running mean of the losses seen so far; :meth:`end_epoch` (which the
    training loop calls after every epoch, as
    :class:`~sklearn_msfl.msfl.MultitaskSERClassifier` does) fixes it. A loop
    that never calls :meth:`end_epoch` keeps the running mean over all steps.

    Because ``w_i`` is a scalar that does not depend on ``W``,
    ``G_i = w_i * ||dL_i/dW||`` exactly: the gradient norms are taken once,
    without a second-order graph, which gives the same weight gradients as the
    ``create_graph=True`` formulation at a fraction of the cost.

    Parameters
    ----------
    task_names : sequence of str
        Task names, in the order in which losses are passed.
    alpha : float, default=1.5
        Strength of the pull towards equal training rates (0 equalises the
        gradient norms only).
    lr : float, default=0.025
        Learning rate of the weights' optimizer.
    optimizer : {"adam", "sgd"} or torch optimizer class, default="adam"
        Optimizer for the task weights.
    min_weight : float, default=1e-3
        Floor that keeps every weight positive.

    Attributes
    ----------
    weights : tensor of shape (n_tasks,)
        Current task weights (a leaf tensor on the CPU).
    initial_losses : tensor of shape (n_tasks,) or None
        Task losses ``L_i(0)``: the mean over the steps of the first epoch (over
        the steps so far, during it), None before the first step.
    last_gradnorm_loss : float or None
        GradNorm loss of the latest update.

    Examples
    --------
    >>> import torch
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> shared = torch.nn.Linear(3, 4)
    >>> heads = [torch.nn.Linear(4, 1), torch.nn.Linear(4, 1)]
    >>> gradnorm = GradNorm(["emotion", "language"])
    >>> features = shared(torch.randn(8, 3))
    >>> losses = [head(features).pow(2).mean() for head in heads]
    >>> loss = gradnorm.combine(losses, [shared.weight])
    >>> loss.backward()
    >>> weights = gradnorm.get_weights()
    >>> round(sum(weights.values()), 6)
    2.0
    >>> weights["emotion"] != weights["language"]
    True
    """

    def __init__(
        self,
        task_names: Sequence[str],
        alpha: float = 1.5,
        lr: float = 0.025,
        optimizer="adam",
        min_weight: float = 1e-3,
    ):
        super().__init__(task_names)
        if not alpha >= 0:
            raise ValueError(f"alpha must be non-negative, got {alpha!r}")
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr!r}")
        if not 0 < min_weight < 1:
            raise ValueError(f"min_weight must be in (0, 1), got {min_weight!r}")
        self.alpha = float(alpha)
        self.lr = float(lr)
        self.optimizer = optimizer
        self.min_weight = float(min_weight)
        self._optimizer_class()  # validates ``optimizer``
        self.reset()

    def reset(self) -> None:
        """Start again: weights of one, no initial losses, a fresh optimizer."""
        self.weights = torch.ones(self.n_tasks, requires_grad=True)
        self.initial_losses = None
        self._n_initial_steps = 0  # steps averaged into initial_losses
        self._initial_losses_fixed = False
        self.last_gradnorm_loss = None
        # Built by the first update: a torch optimizer imports torch._dynamo when
        # it is created (over a second), which a model loaded to predict never needs.
        self.optimizer_ = None

    def end_epoch(self) -> None:
        """Fix ``L_i(0)`` at the mean task losses of the first epoch, once it has steps."""
        if self.initial_losses is not None:
            self._initial_losses_fixed = True

    def _optimizer_class(self) -> type:
        optimizers = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}
        if not isinstance(self.optimizer, str):
            return self.optimizer
        if self.optimizer not in optimizers:
            raise ValueError(
                f"optimizer must be one of {sorted(optimizers)}, got {self.optimizer!r}"
            )
        return optimizers[self.optimizer]

    def combine(self, losses, shared_parameters=None, update: bool = True) -> torch.Tensor:
        """Return ``sum_i w_i L_i`` and take one GradNorm step on the weights.

        The returned loss uses the weights from *before* the step. No update
        happens when ``update`` is False, when gradients are disabled (e.g.
        validation) or with a single task.

        Parameters
        ----------
        losses : sequence or mapping of scalar tensors
            Per-task losses with their graphs attached, in ``task_names`` order.
        shared_parameters : list of tensors
            Parameters of the last shared layer, ``W``; required for updates.
        update : bool, default=True
            Whether to update the weights.

        Returns
        -------
        loss : scalar tensor
            The weighted loss to call ``backward`` on.
        """
        loss = self.weighted_sum(losses)
        if update and torch.is_grad_enabled() and self.n_tasks > 1:
            if shared_parameters is None:
                raise ValueError("GradNorm needs the shared layer's parameters to update")
            self._update(self._stack(losses), list(shared_parameters))
        return loss

    def gradient_norms(self, losses: torch.Tensor, shared_parameters) -> torch.Tensor:
        """``||dL_i/dW||`` for every task (detached, on the CPU); the graph is kept."""
        norms = []
        for task_loss in losses:
            grads = torch.autograd.grad(
                task_loss, shared_parameters, retain_graph=True, allow_unused=True
            )
            squares = [g.pow(2).sum() for g in grads if g is not None]
            norms.append(torch.stack(squares).sum().sqrt() if squares else task_loss.new_zeros(()))
        return torch.stack(norms).detach().cpu()

    def _update(self, losses: torch.Tensor, shared_parameters) -> None:
        current = losses.detach().cpu().to(self.weights.dtype)
        if not self._initial_losses_fixed:
            self._n_initial_steps += 1
            if self.initial_losses is None:
                self.initial_losses = current.clone()
            else:
                self.initial_losses += (current - self.initial_losses) / self._n_initial_steps
        grad_norms = self.gradient_norms(losses, shared_parameters).to(self.weights.dtype)

        # Relative inverse training rates; the floor guards against a zero L_i(0).
        loss_ratios = current / self.initial_losses.clamp_min(1e-12)
        inverse_rates = loss_ratios / loss_ratios.mean().clamp_min(1e-12)
        with torch.no_grad():
            weighted_norms = self.weights * grad_norms
            target = weighted_norms.mean() * inverse_rates**self.alpha
            residuals = weighted_norms - target
            # The gradient of sum_i |w_i G_i - target_i| (target held constant) written
            # out: it spares an autograd pass on every batch.
            self.weights.grad = torch.sign(residuals) * grad_norms
        if self.optimizer_ is None:
            self.optimizer_ = self._optimizer_class()([self.weights], lr=self.lr)
        self.optimizer_.step()
        with torch.no_grad():
            self.weights.clamp_(min=self.min_weight)
            self.weights.mul_(self.n_tasks / self.weights.sum())
        self.last_gradnorm_loss = float(residuals.abs().sum())

    def __repr__(self) -> str:
        return (
            f"GradNorm(alpha={self.alpha}, lr={self.lr}, weights={self.get_weights()})"
        )


def make_loss_weighting(
    spec, task_names: Sequence[str], alpha: float = 1.5, lr: float = 0.025
) -> LossWeighting:
    """Build a task loss weighting from an estimator-style specification.

    Parameters
    ----------
    spec : {"gradnorm", "equal"}, mapping str -> float, LossWeighting or None
        ``"gradnorm"``: :class:`GradNorm`; ``"equal"`` or None:
        :class:`EqualWeighting`; a mapping: :class:`FixedWeighting`; a
        :class:`LossWeighting` instance is copied and reset (its task names must
        match).
    task_names : sequence of str
        Task names, main task first.
    alpha, lr : float
        GradNorm's ``alpha`` and learning rate.

    Returns
    -------
    LossWeighting

    Examples
    --------
    >>> make_loss_weighting("gradnorm", ["emotion", "language"], alpha=1.0)
    GradNorm(alpha=1.0, lr=0.025, weights={'emotion': 1.0, 'language': 1.0})
    >>> make_loss_weighting({"language": 0.3}, ["emotion", "language"])
    FixedWeighting({'emotion': 1.0, 'language': 0.30000001192092896})
    """
    if spec is None or (isinstance(spec, str) and spec == "equal"):
        return EqualWeighting(task_names)
    if isinstance(spec, str) and spec == "gradnorm":
        return GradNorm(task_names, alpha=alpha, lr=lr)
    if isinstance(spec, Mapping):
        return FixedWeighting(task_names, spec)
    if isinstance(spec, LossWeighting):
        if spec.task_names != tuple(task_names):
            raise ValueError(
                f"loss weighting was built for tasks {spec.task_names}, "
                f"but the tasks are {tuple(task_names)}"
            )
        weighting = copy.deepcopy(spec)
        weighting.reset()
        return weighting
    raise ValueError(
        "loss_weighting must be 'gradnorm', 'equal', a dict task -> weight or a "
        f"LossWeighting, got {spec!r}"
    )
