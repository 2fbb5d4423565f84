"""Every documented network configuration is coherent: all its parameters learn."""

import pytest
import torch

from sklearn_msfl import MultitaskSERClassifier
from sklearn_msfl.msfl import MSFLNetwork
from sklearn_msfl.msfl._architecture import ARCHITECTURES, resolve_architecture

N_FEATURES = 23

# The estimator's documented switches, alone and with the paper's architecture.
CONFIGURATIONS = [
    {},
    {"architecture": "paper"},
    {"pooling": "mean"},
    {"architecture": "paper", "pooling": "mean"},
    {"attention_values": "states"},
    {"embedding": "shared", "attention_values": "states"},
    {"architecture": "paper", "embedding": "per_feature"},
    {"architecture": "paper", "embedding": "per_feature", "attention_values": "inputs"},
    {"architecture": "paper", "patch_size": 4},
    {"patch_size": 1},
    {"bidirectional": False},
    {"num_layers": 2},
    {"adversarial_tasks": ("task1",)},
]


def network(params, n_classes=(3, 2)):
    """The network the estimator builds with ``params`` (small sizes for speed)."""
    clf = MultitaskSERClassifier(**{"embedding_dim": 4, "hidden_size": 5, "shared_size": 6,
                                    **params})
    task_names = [f"task{i}" for i in range(len(n_classes))]
    return MSFLNetwork(**clf._network_params(N_FEATURES, task_names,
                                             [range(n) for n in n_classes]))


@pytest.mark.parametrize("params", CONFIGURATIONS, ids=str)
def test_every_parameter_of_every_configuration_gets_a_gradient(params):
    torch.manual_seed(0)
    net = network(params)
    logits = net(torch.randn(16, N_FEATURES))
    loss = sum(torch.nn.functional.cross_entropy(t, torch.randint(t.shape[1], (16,)))
               for t in logits)
    loss.backward()
    silent = [name for name, p in net.named_parameters()
              if p.grad is None or not p.grad.abs().sum() > 0]
    assert silent == [], f"{params}: no gradient for {silent}"


def test_the_paper_architecture_reads_one_raw_feature_per_state_attended_step():
    structure = resolve_architecture("paper", 1582, pooling="attention")
    assert structure == {**ARCHITECTURES["paper"], "pooling": "attention"}
    net = network({"architecture": "paper"})
    assert net.n_steps == N_FEATURES and net.embed is None
    assert net.attention_values == "states" and not net.lstm.bidirectional


@pytest.mark.parametrize(
    "params, names",
    [({"embedding": "shared"}, ["embedding='shared'", "attention_values"]),
     ({"architecture": "paper", "attention_values": "inputs"},
      ["architecture='paper'", "embedding='per_feature'"]),
     ({"pooling": "mean", "attention_values": "states"}, ["pooling='mean'", "attention_values"])],
)
def test_incoherent_combinations_are_rejected_naming_the_parameters(params, names):
    with pytest.raises(ValueError) as error:
        MultitaskSERClassifier(**params)._structure(N_FEATURES)
    for name in names:
        assert name in str(error.value)
