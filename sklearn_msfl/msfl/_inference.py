"""How a fitted MultitaskSERClassifier runs its networks: float64 batches, ensemble averages.

:class:`_MultitaskPredictions` is a mixin of
:class:`~sklearn_msfl.msfl.MultitaskSERClassifier` with the private methods
behind ``predict``, ``predict_proba`` and ``attention_weights``.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._fitting import _standardise
from ._threads import torch_threads

_INFERENCE_BATCH_SIZE = 512


class _MultitaskPredictions:
    """The private prediction methods of MultitaskSERClassifier (a mixin)."""

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
