"""Tests for the skorch training machinery: batches, criterion, training modes."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from skorch.dataset import Dataset
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, Subset

from sklearn_msfl.msfl import MSFLNetwork, MultitaskCrossEntropy
from sklearn_msfl.msfl._net import EMA_DECAY, _ArrayBatches, _MultitaskNet, _WeightAveraging


def make_net(**params):
    return _MultitaskNet(
        module=MSFLNetwork, module__n_features=6, module__n_classes=[3, 2],
        module__hidden_size=4, criterion=MultitaskCrossEntropy, batch_size=4,
        iterator_train__shuffle=True, task_names=("emotion", "language"), **params,
    )


def dataloader_batches(dataset, seed):
    """The batches skorch's DataLoader path gives, for comparison."""
    order = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    sampler = BatchSampler(order, batch_size=4, drop_last=False)
    return list(DataLoader(dataset, sampler=sampler, batch_size=None))


@pytest.mark.parametrize("subset", [False, True])
def test_array_batches_are_the_dataloaders_batches_and_draw_the_same_random_numbers(subset):
    rng = np.random.RandomState(0)
    dataset = Dataset(rng.normal(size=(11, 6)).astype(np.float32),
                      np.column_stack([rng.randint(3, size=11), rng.randint(2, size=11)]))
    if subset:
        dataset = Subset(dataset, [9, 2, 4, 7, 0, 10, 5])
    net = make_net(iterator_train__generator=torch.Generator().manual_seed(3))
    iterator = net.get_iterator(dataset, training=True)
    assert isinstance(iterator, _ArrayBatches)
    torch.manual_seed(1)
    ours = list(iterator)
    after_ours = torch.get_rng_state()
    torch.manual_seed(1)
    expected = dataloader_batches(dataset, seed=3)
    assert torch.equal(after_ours, torch.get_rng_state())
    assert len(ours) == len(expected) == len(iterator)
    for (X, y), (X_expected, y_expected) in zip(ours, expected):
        assert torch.equal(X, X_expected) and torch.equal(y, y_expected)
        assert X.dtype == X_expected.dtype and y.dtype == y_expected.dtype


def test_other_datasets_go_through_a_dataloader():
    dataset = Dataset(np.zeros((5, 6), dtype=np.float32), None)
    assert isinstance(make_net().get_iterator(dataset), DataLoader)


def test_training_mode_switches_every_module():
    net = make_net().initialize()
    for training in (False, False, True, True):
        net._set_training(training)
        assert all(module.training == training
                   for module in [*net.module_.modules(), net.criterion_])


@pytest.mark.parametrize("with_weights", [False, True])
def test_member_logits_give_the_mean_of_the_members_losses(with_weights):
    torch.manual_seed(0)
    logits = (torch.randn(5, 3, 4), torch.randn(5, 3, 2))
    y = torch.tensor([[0, 1], [3, 0], [2, 1], [1, 1], [0, 0]])
    weights = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0]) if with_weights else None
    criterion = MultitaskCrossEntropy(class_weights=[[1.0, 2.0, 1.0, 0.5], None])
    members = torch.stack([
        criterion(tuple(task[:, m] for task in logits), y, sample_weight=weights)
        for m in range(3)
    ])
    torch.testing.assert_close(criterion(logits, y, sample_weight=weights), members.mean(dim=0))


def test_label_smoothing_is_pytorchs():
    torch.manual_seed(0)
    logits, y = (torch.randn(6, 4),), torch.randint(4, size=(6, 1))
    smoothed = MultitaskCrossEntropy(label_smoothing=0.2)(logits, y)
    expected = torch.nn.functional.cross_entropy(logits[0], y[:, 0], label_smoothing=0.2)
    torch.testing.assert_close(smoothed[0], expected)
    assert not torch.allclose(smoothed, MultitaskCrossEntropy()(logits, y))
    weighted = MultitaskCrossEntropy(label_smoothing=0.2)(logits, y, sample_weight=torch.ones(6))
    torch.testing.assert_close(weighted, smoothed)


class _EpochWeights(Callback):
    """Record the first shared layer's weights at every epoch's end."""

    def initialize(self):
        self.weights_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.weights_.append(net.module_.shared[0].weight.detach().clone())


@pytest.mark.parametrize("method", ["swa", "ema"])
def test_weight_averaging_replaces_the_weights_by_their_average(method):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(24, 6)).astype(np.float32)
    y = np.column_stack([rng.randint(3, size=24), rng.randint(2, size=24)])
    net = make_net(max_epochs=8, lr=0.05, optimizer=torch.optim.AdamW, train_split=None,
                   verbose=0, callbacks=[("weights", _EpochWeights()),
                                         ("weight_averaging", _WeightAveraging(method, 8))])
    torch.manual_seed(0)
    net.fit(X, y)
    callbacks = dict(net.callbacks_)
    epochs = callbacks["weights"].weights_
    if method == "swa":  # the last quarter: epochs 7 and 8
        expected = (epochs[6] + epochs[7]) / 2
    else:
        expected = epochs[0]
        for weights in epochs[1:]:
            expected = EMA_DECAY * expected + (1 - EMA_DECAY) * weights
    torch.testing.assert_close(net.module_.shared[0].weight, expected)
    assert not torch.allclose(expected, epochs[-1])
    assert callbacks["weight_averaging"].averaged_ is None  # no second copy of the network kept
