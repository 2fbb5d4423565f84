"""The MSFL method: the scikit-learn classifier, its PyTorch network and task loss weighting.

:class:`MultitaskSERClassifier` is the estimator users fit; it trains an
:class:`MSFLNetwork` through a skorch net whose task losses a :class:`GradNorm`
(or a constant weighting) combines. The subpackage keeps one concern per private
module: ``_estimator`` (the classifier), ``_net`` (the skorch net, its loss,
callbacks and early-stopping hold-out), ``_network`` and ``_layers`` (the PyTorch
network and its building blocks), ``_architecture`` (the ``"msfl"`` and
``"paper"`` forms), ``_gradnorm`` (task loss weighting), ``_targets`` (task labels)
and ``_threads`` (torch threads during fit and predict); every public name is
imported here.

Examples
--------
>>> from sklearn_msfl.msfl import default_task_names
>>> default_task_names(3)
['emotion', 'language', 'task2']
"""

from ._estimator import MultitaskSERClassifier
from ._gradnorm import EqualWeighting, FixedWeighting, GradNorm, LossWeighting, make_loss_weighting
from ._layers import AttentionPooling, FeatureAttention, FeatureEmbedding, GradientReversal
from ._net import MultitaskCrossEntropy
from ._network import MSFLNetwork
from ._targets import default_task_names

__all__ = [
    "MultitaskSERClassifier",
    "MultitaskCrossEntropy",
    "default_task_names",
    "MSFLNetwork",
    "FeatureEmbedding",
    "FeatureAttention",
    "AttentionPooling",
    "GradientReversal",
    "GradNorm",
    "EqualWeighting",
    "FixedWeighting",
    "LossWeighting",
    "make_loss_weighting",
]
