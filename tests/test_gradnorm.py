"""Tests for GradNorm and the constant task weightings."""

import pickle

import pytest
import torch
from torch import nn

from sklearn_msfl.msfl import (
    EqualWeighting,
    FixedWeighting,
    GradNorm,
    LossWeighting,
    make_loss_weighting,
)

TASKS = ("fast", "slow")



class TwoTaskNet(nn.Module):
    """Shared layer + two heads: the smallest network GradNorm makes sense for."""

    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(5, 16), nn.Tanh())
        self.shared = nn.Linear(16, 8)
        self.heads = nn.ModuleList([nn.Linear(8, 2), nn.Linear(8, 2)])

    def forward(self, X):
        hidden = torch.relu(self.shared(self.trunk(X)))
        return [head(hidden) for head in self.heads]


def two_task_problem(n=128):
    """Task 'fast' is linearly separable; task 'slow' has random labels."""
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(n, 5, generator=generator)
    y_fast = (X[:, 0] > 0).long()
    y_slow = torch.randint(0, 2, (n,), generator=generator)
    return X, [y_fast, y_slow]


def task_losses(net, X, ys):
    return [nn.functional.cross_entropy(logits, y) for logits, y in zip(net(X), ys)]


def test_slower_task_gains_weight_and_weights_stay_normalised():
    torch.manual_seed(0)
    net = TwoTaskNet()
    X, ys = two_task_problem()
    gradnorm = GradNorm(TASKS, alpha=1.5, lr=0.02)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(60):  # full batches: every step is an epoch
        losses = task_losses(net, X, ys)
        loss = gradnorm.combine(losses, [net.shared.weight])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        gradnorm.end_epoch()
        weights = gradnorm.weights.detach()
        assert torch.all(weights > 0)
        assert weights.sum().item() == pytest.approx(2.0, abs=1e-5)
    final = [loss.item() for loss in task_losses(net, X, ys)]
    ratios = [f / i for f, i in zip(final, gradnorm.initial_losses.tolist())]
    assert ratios[0] < 0.5 * ratios[1]  # the set-up works: 'fast' really learns faster
    weights = gradnorm.get_weights()
    assert weights["slow"] > 1.2 > 0.8 > weights["fast"]
    assert gradnorm.last_gradnorm_loss >= 0


def test_network_gradients_are_exactly_those_of_the_weighted_loss():
    torch.manual_seed(1)
    net = TwoTaskNet()
    X, ys = two_task_problem(32)
    gradnorm = GradNorm(TASKS, lr=0.1)
    with torch.no_grad():
        gradnorm.weights.copy_(torch.tensor([0.4, 1.6]))
    weights_before = gradnorm.weights.detach().clone()

    net.zero_grad()
    gradnorm.combine(task_losses(net, X, ys), [net.shared.weight]).backward()
    got = {name: p.grad.clone() for name, p in net.named_parameters()}
    assert not torch.equal(gradnorm.weights.detach(), weights_before)  # it did update

    losses = task_losses(net, X, ys)
    manual = weights_before[0] * losses[0] + weights_before[1] * losses[1]
    expected = torch.autograd.grad(manual, list(net.parameters()))
    for (name, _), grad in zip(net.named_parameters(), expected):
        torch.testing.assert_close(got[name], grad, rtol=1e-6, atol=1e-8, msg=name)


def reference_gradnorm_step(weights, losses, initial, shared, alpha, lr):
    """Chen et al. written out literally: G_i from d(w_i L_i)/dW with create_graph."""
    w = weights.clone().requires_grad_(True)
    norms = []
    for i, loss in enumerate(losses):
        (grad,) = torch.autograd.grad(w[i] * loss, [shared], retain_graph=True,
                                      create_graph=True)
        norms.append(grad.norm())
    norms = torch.stack(norms)
    ratios = torch.stack([loss.detach() for loss in losses]) / initial
    rates = ratios / ratios.mean()
    target = (norms.mean() * rates**alpha).detach()
    (grad_w,) = torch.autograd.grad((norms - target).abs().sum(), [w])
    new = (weights - lr * grad_w).clamp_min(1e-3)
    return new * len(losses) / new.sum()


def test_weight_update_matches_the_create_graph_formulation():
    torch.manual_seed(2)
    net = TwoTaskNet()
    X, ys = two_task_problem(32)
    gradnorm = GradNorm(TASKS, alpha=1.5, lr=0.05, optimizer="sgd")
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    for _ in range(3):  # move away from L(0) so that the training rates differ
        optimizer.zero_grad()
        gradnorm.combine(task_losses(net, X, ys), [net.shared.weight]).backward()
        optimizer.step()
        gradnorm.end_epoch()  # full batches: every step is an epoch
    losses = task_losses(net, X, ys)
    expected = reference_gradnorm_step(gradnorm.weights.detach(), losses,
                                       gradnorm.initial_losses, net.shared.weight, 1.5, 0.05)
    gradnorm.combine(losses, [net.shared.weight])
    torch.testing.assert_close(gradnorm.weights.detach(), expected, rtol=1e-5, atol=1e-6)


def test_initial_losses_and_no_update_outside_training():
    net = TwoTaskNet()
    X, ys = two_task_problem(16)
    gradnorm = GradNorm(TASKS)
    with torch.no_grad():
        gradnorm.combine(task_losses(net, X, ys), [net.shared.weight])
    gradnorm.combine(task_losses(net, X, ys), [net.shared.weight], update=False)
    assert gradnorm.initial_losses is None
    assert gradnorm.get_weights() == {"fast": 1.0, "slow": 1.0}

    losses = task_losses(net, X, ys)
    gradnorm.combine(losses, [net.shared.weight])
    torch.testing.assert_close(gradnorm.initial_losses, torch.stack(losses).detach())
    gradnorm.reset()
    assert gradnorm.initial_losses is None and gradnorm.get_weights()["fast"] == 1.0


def test_initial_losses_are_the_mean_of_the_first_epoch():
    torch.manual_seed(3)
    net = TwoTaskNet()
    X, ys = two_task_problem(96)
    gradnorm = GradNorm(TASKS, lr=0.05)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)

    def epoch(first):
        seen = []
        for batch in torch.arange(96).split(32):
            losses = task_losses(net, X[batch], [y[batch] for y in ys])
            seen.append(torch.stack(losses).detach())
            optimizer.zero_grad()
            gradnorm.combine(losses, [net.shared.weight]).backward()
            optimizer.step()
            if first:  # L(0) is the mean of the first epoch's batches so far
                torch.testing.assert_close(gradnorm.initial_losses, torch.stack(seen).mean(0))
        gradnorm.end_epoch()
        return torch.stack(seen)

    first = epoch(first=True)
    assert not torch.allclose(first[0], first.mean(0))  # one batch is not the epoch
    epoch(first=False)
    torch.testing.assert_close(gradnorm.initial_losses, first.mean(0))  # fixed after it
    gradnorm.reset()
    assert gradnorm.initial_losses is None
    epoch(first=True)  # a reset starts a new first epoch


def test_losses_may_be_a_mapping_and_must_match_the_tasks():
    weighting = FixedWeighting(TASKS, {"fast": 2.0, "slow": 0.5})
    loss = weighting.combine({"slow": torch.tensor(4.0), "fast": torch.tensor(1.0)})
    assert loss.item() == pytest.approx(4.0)
    with pytest.raises(ValueError, match="missing"):
        weighting.combine({"fast": torch.tensor(1.0)})
    with pytest.raises(ValueError, match="expected 2"):
        weighting.combine([torch.tensor(1.0)])


def test_gradnorm_requires_the_shared_parameters():
    with pytest.raises(ValueError, match="shared layer"):
        GradNorm(TASKS).combine([torch.tensor(1.0, requires_grad=True)] * 2)


def test_single_task_gradnorm_is_plain_loss():
    gradnorm = GradNorm(["emotion"])
    loss = torch.tensor(0.7, requires_grad=True)
    assert gradnorm.combine([loss], None).item() == pytest.approx(0.7)
    assert gradnorm.get_weights() == {"emotion": 1.0}


def test_equal_and_fixed_weighting():
    losses = [torch.tensor(1.0), torch.tensor(3.0)]
    assert EqualWeighting(TASKS).combine(losses).item() == 4.0
    fixed = FixedWeighting(TASKS, {"slow": 0.25})
    assert fixed.get_weights() == {"fast": 1.0, "slow": 0.25}
    assert fixed.combine(losses).item() == pytest.approx(1.75)
    with pytest.raises(ValueError, match="unknown tasks"):
        FixedWeighting(TASKS, {"gender": 1.0})
    with pytest.raises(ValueError, match="non-negative"):
        FixedWeighting(TASKS, {"slow": -1.0})
    with pytest.raises(ValueError, match="positive"):
        FixedWeighting(TASKS, {"slow": 0.0, "fast": 0.0})


def test_make_loss_weighting():
    assert type(make_loss_weighting("equal", TASKS)) is EqualWeighting
    assert type(make_loss_weighting(None, TASKS)) is EqualWeighting
    assert isinstance(make_loss_weighting({"slow": 2}, TASKS), FixedWeighting)
    gradnorm = make_loss_weighting("gradnorm", TASKS, alpha=0.5, lr=0.1)
    assert isinstance(gradnorm, GradNorm) and (gradnorm.alpha, gradnorm.lr) == (0.5, 0.1)

    template = GradNorm(TASKS, alpha=2.0)
    with torch.no_grad():
        template.weights.copy_(torch.tensor([0.5, 1.5]))
    built = make_loss_weighting(template, TASKS)
    assert built is not template and built.alpha == 2.0
    assert built.get_weights() == {"fast": 1.0, "slow": 1.0}
    with pytest.raises(ValueError, match="built for tasks"):
        make_loss_weighting(template, ["a", "b"])
    with pytest.raises(ValueError, match="loss_weighting"):
        make_loss_weighting("uncertainty", TASKS)
    with pytest.raises(ValueError, match="optimizer"):
        GradNorm(TASKS, optimizer="lbfgs")


def test_gradnorm_pickles_and_keeps_training():
    net = TwoTaskNet()
    X, ys = two_task_problem(16)
    gradnorm = GradNorm(TASKS)
    gradnorm.combine(task_losses(net, X, ys), [net.shared.weight])
    restored = pickle.loads(pickle.dumps(gradnorm))
    assert restored.get_weights() == gradnorm.get_weights()
    torch.testing.assert_close(restored.initial_losses, gradnorm.initial_losses)
    for weighting in (gradnorm, restored):
        weighting.combine(task_losses(net, X, ys), [net.shared.weight])
    assert restored.get_weights() == gradnorm.get_weights()  # optimizer state came along
    assert isinstance(restored, LossWeighting)
