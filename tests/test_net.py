"""Tests for the skorch training machinery: batches, criterion, training modes."""

import numpy as np
import pytest
import torch
from skorch.dataset import Dataset
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, Subset

from sklearn_msfl.msfl import MSFLNetwork, MultitaskCrossEntropy
from sklearn_msfl.msfl._net import _ArrayBatches, _MultitaskNet


def make_net(**params):
    return _MultitaskNet(
        module=MSFLNetwork, module__n_features=6, module__n_classes=[3, 2],
        module__hidden_size=4, criterion=MultitaskCrossEntropy, batch_size=4,
        iterator_train__shuffle=True, **params,
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
