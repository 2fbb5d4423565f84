"""Tests for the MSFL network: shapes, attention, patches, embeddings, pooling."""

import math

import pytest
import torch

from sklearn_msfl.msfl import AttentionPooling, FeatureEmbedding, MSFLNetwork



@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def small_net(**params):
    defaults = dict(n_features=10, n_classes={"emotion": 4, "language": 3}, hidden_size=6,
                    shared_sizes=(5,))
    defaults.update(params)
    return MSFLNetwork(**defaults)


@pytest.mark.parametrize("patch_size, n_steps", [(1, 10), (3, 4), (4, 3), (10, 1), (16, 1)])
def test_output_shapes(patch_size, n_steps):
    net = small_net(patch_size=patch_size)
    assert net.n_steps == n_steps == math.ceil(10 / patch_size)
    logits, attention = net(torch.randn(7, 10), return_attention=True)
    assert [tuple(t.shape) for t in logits] == [(7, 4), (7, 3)]
    assert attention.shape == (7, 10)  # one weight per feature, whatever the steps
    assert isinstance(net(torch.randn(7, 10)), tuple)


def test_task_names_from_mapping_and_sequence():
    assert small_net().task_names == ("emotion", "language")
    net = small_net(n_classes=[2, 5, 3])
    assert net.task_names == ("task0", "task1", "task2")
    assert [t.shape[1] for t in net(torch.randn(2, 10))] == [2, 5, 3]


@pytest.mark.parametrize("bidirectional, num_layers", [(True, 1), (False, 2), (True, 2)])
def test_lstm_variants(bidirectional, num_layers):
    net = small_net(bidirectional=bidirectional, num_layers=num_layers, patch_size=3)
    logits, attention = net(torch.randn(3, 10), return_attention=True)
    assert logits[0].shape == (3, 4)
    assert torch.allclose(attention.sum(dim=1), torch.ones(3))
    expected = 6 * (2 if bidirectional else 1)
    assert net.last_shared_layer.in_features == expected


@pytest.mark.parametrize("embedding", ["shared", "per_feature"])
def test_attention_is_a_distribution_over_features(embedding):
    net = small_net(embedding=embedding, patch_size=3)
    _, attention = net(torch.randn(8, 10) * 3, return_attention=True)
    assert torch.all(attention > 0)
    assert torch.allclose(attention.sum(dim=1), torch.ones(8), atol=1e-6)
    # Different inputs get different explanations: the weights depend on the data.
    assert not torch.allclose(attention[0], attention[1])


def test_two_level_attention_gives_every_feature_its_own_weight():
    net = small_net(embedding="per_feature", patch_size=4)  # steps of 4, 4 and 2 features
    assert net.attention_level == "feature"
    X = torch.randn(5, 10)
    # Untrained, a step's features share its weight: the scorer starts at zero.
    _, within = net.step_inputs(X)
    assert torch.allclose(within[:, :2], torch.full((5, 2, 4), 0.25))
    torch.nn.init.normal_(net.feature_attention.score.weight)  # as training moves it
    _, attention = net(X, return_attention=True)
    for row in attention:
        assert len(torch.unique(row)) == 10
    # A feature's weight is its step's weight times its weight within the step.
    steps, within = net.step_inputs(torch.randn(5, 10))
    assert torch.allclose(within.sum(dim=2), torch.ones(5, 3))
    assert torch.all(within[:, 2, 2:] == 0)  # padding of the last step


@pytest.mark.parametrize("value_term", [True, False])
def test_feature_attention_depends_on_the_values_only_with_the_value_term(value_term):
    net = small_net(embedding="per_feature", patch_size=4)
    attend = net.feature_attention
    attend.value_term = value_term
    torch.nn.init.normal_(attend.score.weight)
    torch.nn.init.normal_(attend.prior)
    _, within = net.step_inputs(torch.randn(5, 10))
    assert torch.allclose(within.sum(dim=2), torch.ones(5, 3))
    same_for_every_utterance = torch.allclose(within, within[:1].expand_as(within))
    assert same_for_every_utterance != value_term
    assert len(torch.unique(within[0, :2])) == 8  # still one weight per feature


@pytest.mark.parametrize(
    "params, level",
    [(dict(embedding="shared", patch_size=3), "step"),
     (dict(embedding="shared", patch_size=1), "feature"),
     (dict(embedding="per_feature", patch_size=3, pooling="mean"), None)],
)
def test_attention_level_says_what_the_weights_tell_apart(params, level):
    net = small_net(**params)
    assert net.attention_level == level
    _, attention = net(torch.randn(2, 10), return_attention=True)
    if level == "step":  # features of a step share its weight
        assert torch.allclose(attention[:, :3], attention[:, :1].expand(2, 3))


def test_attention_pooling_masks_steps():
    pool = AttentionPooling(input_size=4)
    states = torch.randn(2, 5, 4)
    mask = torch.tensor([[True, True, True, False, False], [True, False, True, True, True]])
    pooled, weights = pool(states, mask=mask)
    assert torch.all(weights[~mask] == 0)
    assert torch.all(weights[mask] > 0)
    assert torch.allclose(weights.sum(dim=1), torch.ones(2))
    expected = (weights.unsqueeze(-1) * states).sum(dim=1)
    assert torch.allclose(pooled, expected, atol=1e-6)
    # Masked steps have no influence on the result at all.
    changed = states.clone()
    changed[0, 3:] = 100.0
    pooled_changed, _ = pool(changed, mask=mask)
    assert torch.allclose(pooled_changed[0], pooled[0])


def test_patches_are_zero_padded_in_order():
    net = small_net(n_features=7, patch_size=3)
    X = torch.arange(1.0, 15.0).reshape(2, 7)
    patches = net.to_patches(X)
    assert patches.shape == (2, 3, 3)
    assert patches[0].tolist() == [[1, 2, 3], [4, 5, 6], [7, 0, 0]]
    assert patches[1, 2].tolist() == [14, 0, 0]


def test_wrong_number_of_features_is_rejected():
    with pytest.raises(ValueError, match=r"\(batch, 10\)"):
        small_net()(torch.randn(2, 9))


def test_step_attention_is_spread_over_real_features_only():
    net = small_net(n_features=10, patch_size=4)  # raw patches of 4, 4 and 2 features
    _, attention = net(torch.randn(2, 10), return_attention=True)
    assert torch.allclose(attention.sum(dim=1), torch.ones(2))
    # The last step's weight is shared by its 2 real features, not 4.
    steps = torch.stack([attention[:, :4].sum(1), attention[:, 4:8].sum(1),
                         attention[:, 8:].sum(1)], dim=1)
    assert torch.allclose(attention[:, 8], steps[:, 2] / 2)
    assert torch.allclose(attention[:, 0], steps[:, 0] / 4)


def test_paper_form_weights_every_feature_by_its_state():
    net = small_net(patch_size=1)
    _, attention = net(torch.randn(3, 10), return_attention=True)
    assert attention.shape == (3, 10) and net.attention_level == "feature"
    assert len(torch.unique(attention[0])) == 10


def test_per_feature_embedding_is_value_times_weight_plus_bias():
    embed = FeatureEmbedding(n_steps=3, patch_size=1, embedding_dim=4)
    values = torch.tensor([[0.5, -1.0, 2.0]]).unsqueeze(-1)
    out = embed(values)
    for i, value in enumerate([0.5, -1.0, 2.0]):
        assert torch.allclose(out[0, i, 0], value * embed.weight[i, 0] + embed.bias[i, 0])
    # The same value at two positions is embedded differently: the position matters.
    same = embed(torch.ones(1, 3, 1))
    assert not torch.allclose(same[0, 0], same[0, 1])


def test_per_feature_embedding_keeps_every_feature_of_a_patch():
    embed = FeatureEmbedding(n_steps=2, patch_size=3, embedding_dim=4)
    patches = torch.randn(5, 2, 3)
    out = embed(patches)
    assert out.shape == (5, 2, 3, 4)
    assert torch.allclose(out[:, 1, 2], patches[:, 1, 2, None] * embed.weight[1, 2]
                          + embed.bias[1, 2])


def test_embedding_choices_change_the_lstm_input():
    shared = small_net(embedding="shared", patch_size=3)
    per_feature = small_net(embedding="per_feature", patch_size=3, embedding_dim=7)
    assert shared.embed is None and shared.lstm.input_size == 3
    assert per_feature.lstm.input_size == 7
    assert per_feature.embed.weight.shape == per_feature.embed.bias.shape == (4, 3, 7)
    with pytest.raises(ValueError, match="embedding"):
        small_net(embedding="bogus")


def test_mean_pooling_averages_lstm_states():
    net = small_net(pooling="mean", patch_size=2).eval()
    assert net.attention is None
    X = torch.randn(4, 10)
    logits, attention = net(X, return_attention=True)
    assert torch.allclose(attention, torch.full((4, 10), 0.1))
    states, _ = net.lstm(net.to_patches(X))
    expected = net.heads[0](net.shared(states.mean(dim=1)))
    assert torch.allclose(logits[0], expected, atol=1e-6)


def test_attention_pooling_is_used_in_forward():
    net = small_net(patch_size=2).eval()
    X = torch.randn(4, 10)
    logits, attention = net(X, return_attention=True)
    states, _ = net.lstm(net.to_patches(X))
    step_weights = attention.reshape(4, 5, 2).sum(dim=2)
    pooled = (step_weights.unsqueeze(-1) * states).sum(dim=1)
    assert torch.allclose(logits[1], net.heads[1](net.shared(pooled)), atol=1e-6)


def test_samples_are_independent_of_the_batch():
    net = small_net(patch_size=3, dropout=0.5).eval()
    X = torch.randn(6, 10)
    full = net(X)[0]
    single = torch.cat([net(X[i : i + 1])[0] for i in range(6)])
    assert torch.allclose(full, single, atol=1e-5)


def test_every_parameter_learns():
    net = small_net(embedding="per_feature", patch_size=3, num_layers=2)
    logits = net(torch.randn(8, 10))
    sum(t.logsumexp(dim=1).sum() - t[:, 0].sum() for t in logits).backward()
    for name, param in net.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_shared_parameters_are_the_last_shared_layer():
    net = small_net(shared_sizes=(8, 5))
    (weight,) = net.shared_parameters()
    assert weight is net.last_shared_layer.weight
    assert weight.shape == (5, 8)
    assert all(head.in_features == 5 for head in net.heads)


@pytest.mark.parametrize(
    "params",
    [dict(n_features=0), dict(patch_size=0), dict(hidden_size=2.5), dict(pooling="max"),
     dict(shared_sizes=()), dict(dropout=1.0), dict(n_classes=[]), dict(n_classes=3)],
)
def test_invalid_parameters_raise(params):
    with pytest.raises((ValueError, TypeError)):
        small_net(**params)


def test_input_valued_attention_pools_the_embeddings_with_state_scores():
    torch.manual_seed(0)
    net = MSFLNetwork(n_features=6, n_classes=[3, 2], patch_size=2, embedding="per_feature",
                      embedding_dim=5, attention_values="inputs", shared_sizes=(4,))
    X = torch.randn(3, 6)
    _, attention = net(X, return_attention=True)
    tokens = net.embed(net.to_patches(X)).reshape(3, 6, 5)
    # Two levels of weights, one product: the pooled vector weights every feature's
    # embedding, times the step size (2) so that uniform weights sum a step's embeddings.
    expected_pooled = 2 * (attention.unsqueeze(-1) * tokens).sum(dim=1)
    # The first shared layer reads the pooled embeddings, embedding_dim wide.
    assert net.last_shared_layer.in_features == 5
    expected = net.shared(expected_pooled)
    net.eval()
    logits = net(X)
    assert torch.allclose(net.heads[0](expected), logits[0], atol=1e-6)


def test_unknown_attention_values_is_an_error():
    with pytest.raises(ValueError, match="attention_values"):
        MSFLNetwork(n_features=4, n_classes=[2], attention_values="keys")


def test_adversarial_heads_reverse_the_gradient_into_the_shared_layers():
    X = torch.randn(8, 10)
    grads = {}
    for adversarial in ((), ("language",)):
        torch.manual_seed(0)
        net = small_net(patch_size=3, adversarial=adversarial, adversarial_strength=0.5)
        _, language = net(X)
        language.sum().backward()
        grads[adversarial] = (net.last_shared_layer.weight.grad.clone(),
                              net.heads[1].weight.grad.clone())
    plain, reversed_ = grads[()], grads[("language",)]
    torch.testing.assert_close(reversed_[0], -0.5 * plain[0])  # shared layers: reversed
    torch.testing.assert_close(reversed_[1], plain[1])  # the head itself learns its task
    with pytest.raises(ValueError, match="unknown tasks"):
        small_net(adversarial=("gender",))


def per_feature_net(**params):
    """The estimator's default form: embeddings, attention within steps, pooled inputs."""
    return small_net(**{"embedding": "per_feature", "patch_size": 4,
                        "attention_values": "inputs", **params})


def shared_input(net, X):
    """What the first shared layer reads (eval mode)."""
    seen = []
    handle = net.shared[0].register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    net.eval()(X)
    handle.remove()
    return seen[0]


def test_both_values_pool_inputs_and_states_with_the_same_weights():
    net = per_feature_net(attention_values="both")
    assert net.shared[0].in_features == 16 + 6  # embedding_dim + hidden_size
    X = torch.randn(5, 10)
    steps, _ = net.step_inputs(X)
    states, _ = net.lstm(steps)
    _, weights = net.attention(states)
    pooled = shared_input(net, X)
    torch.testing.assert_close(pooled[:, :16], torch.bmm(weights.unsqueeze(1), steps).squeeze(1))
    torch.testing.assert_close(pooled[:, 16:], torch.bmm(weights.unsqueeze(1), states).squeeze(1))


def test_feature_attention_scale_multiplies_the_within_step_scores():
    assert per_feature_net().feature_attention.logit_scale == 4  # the step's feature count
    assert per_feature_net(feature_attention_scale=1).feature_attention.logit_scale == 1.0
    X = torch.randn(5, 10)
    outputs = []
    for scale in (None, "learned"):
        torch.manual_seed(0)
        net = per_feature_net(feature_attention_scale=scale)
        torch.nn.init.normal_(net.feature_attention.score.weight)
        if scale == "learned":
            attend = net.feature_attention
            assert attend.log_scale.shape == (3, 1) and torch.all(attend.log_scale == 0)
            with torch.no_grad():  # a learnt temperature of 4 is the default's factor
                attend.log_scale.fill_(math.log(4))
        outputs.append(net.eval()(X, return_attention=True))
    (default_logits, default_attention), (learned_logits, learned_attention) = outputs
    torch.testing.assert_close(learned_attention, default_attention)
    torch.testing.assert_close(learned_logits, default_logits)


def test_a_learned_scale_learns_and_needs_within_step_attention():
    net = per_feature_net(feature_attention_scale="learned")
    torch.nn.init.normal_(net.feature_attention.score.weight)
    sum(t.logsumexp(dim=1).sum() - t[:, 0].sum() for t in net(torch.randn(8, 10))).backward()
    assert net.feature_attention.log_scale.grad.abs().sum() > 0
    for params in (dict(patch_size=4), dict(embedding="per_feature", patch_size=1),
                   dict(embedding="per_feature", patch_size=4, pooling="mean")):
        with pytest.raises(ValueError, match="feature_attention_scale needs"):
            small_net(feature_attention_scale=1.0, **params)
    with pytest.raises(ValueError, match="positive number or 'learned'"):
        per_feature_net(feature_attention_scale="fixed")


def test_wide_path_adds_a_linear_map_of_the_inputs_to_the_first_shared_layer():
    narrow, wide = per_feature_net(), per_feature_net(wide=True)
    assert narrow.wide is None and wide.wide.weight.shape == (5, 10)
    missing = wide.load_state_dict(narrow.state_dict(), strict=False).missing_keys
    assert missing == ["wide.weight"]
    X = torch.randn(5, 10)
    with torch.no_grad():
        wide.wide.weight.zero_()
    torch.testing.assert_close(wide.eval()(X)[0], narrow.eval()(X)[0])
    with torch.no_grad():
        wide.wide.weight.normal_()
    hidden = narrow.shared[0](shared_input(narrow, X)) + wide.wide(X)
    torch.testing.assert_close(wide(X)[0], wide.heads[0](wide.shared[1:](hidden)))
    # The attention still weights every feature on the LSTM's path.
    _, attention = wide(X, return_attention=True)
    torch.testing.assert_close(attention.sum(dim=1), torch.ones(5))


def test_members_share_the_lstm_and_attention_and_have_their_own_heads():
    import tabm

    net = per_feature_net(n_members=3, shared_sizes=(5, 4))
    assert all(isinstance(net.shared[i], tabm.LinearBatchEnsemble) for i in (0, 3))
    assert all(isinstance(head, tabm.LinearEnsemble) for head in net.heads)
    X = torch.randn(6, 10)
    (emotion, language), attention = net.eval()(X, return_attention=True)
    assert emotion.shape == (6, 3, 4) and language.shape == (6, 3, 3)
    assert not torch.allclose(emotion[:, 0], emotion[:, 1])  # TabM's random-sign start
    # One attention, from the shared LSTM: the same as the single network's.
    single = per_feature_net()
    single.load_state_dict({k: v for k, v in net.state_dict().items()
                            if k.startswith(("embed", "feature_attention", "lstm", "attention"))},
                           strict=False)
    torch.testing.assert_close(attention, single.eval()(X, return_attention=True)[1])
    # GradNorm's W: the weight matrix the members share.
    assert net.shared_parameters()[0] is net.shared[3].weight
    assert net.shared_parameters()[0].shape == (4, 5)


def test_feature_dropout_and_input_noise_act_in_training_only():
    X = torch.randn(400, 10)
    assert per_feature_net()._perturb(X) is X  # off: no random numbers drawn
    dropped = per_feature_net(feature_dropout=0.5)._perturb(X)
    kept = dropped != 0
    assert 0.4 < kept.float().mean() < 0.6
    torch.testing.assert_close(dropped[kept], 2 * X[kept])
    noisy = per_feature_net(input_noise=0.3)._perturb(X)
    assert 0.27 < (noisy - X).std() < 0.33
    for params in (dict(feature_dropout=0.5), dict(input_noise=0.3)):
        torch.manual_seed(0)
        regularised = per_feature_net(**params)
        torch.manual_seed(0)
        plain = per_feature_net()
        torch.testing.assert_close(regularised.eval()(X)[0], plain.eval()(X)[0])
        regularised.train()
        assert not torch.allclose(regularised(X)[0], plain.eval()(X)[0])
    with pytest.raises(ValueError, match="feature_dropout"):
        per_feature_net(feature_dropout=1.0)
    with pytest.raises(ValueError, match="input_noise"):
        per_feature_net(input_noise=-1.0)
