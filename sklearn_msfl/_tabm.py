"""TabM as a scikit-learn classifier: a parameter-efficient ensemble of MLPs for tabular data.

TabM (Gorishniy et al., ICLR 2025; the ``tabm`` package) trains ``k`` MLPs that share most
of their weights, all on the same batches: the training loss is the mean of the members'
losses and a prediction the mean of their probabilities. The defaults are the published
configuration used by the benchmark's baseline row (not tuned on its folds): ``k=16``,
two blocks of 128 units, dropout 0.1, AdamW (lr 2e-3, weight decay 3e-4), batches of 64,
40 epochs, on inputs standardised over the training rows and clipped to +-5.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.preprocessing import LabelEncoder, StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .msfl._threads import torch_threads
from .msfl._net import _SeededTorch

__all__ = ["TabMClassifier"]

# Rows per forward pass at prediction time (memory only: the result does not depend on it).
_PREDICT_BATCH = 1024


class TabMClassifier(ClassifierMixin, BaseEstimator):
    """TabM classifier: ``k`` weight-sharing MLPs trained together, probabilities averaged.

    The features are standardised over the training rows and clipped to ``+-clip``
    standard deviations, then fed to ``tabm.TabM.make(k, d_block, n_blocks, dropout)``.
    Every epoch visits the shuffled training rows in batches; each member predicts every
    row of a batch and the loss is the mean of the members' cross-entropies. ``predict_proba``
    averages the members' softmax probabilities.

    Parameters
    ----------
    k : int, default=16
        Ensemble members.
    d_block : int, default=128
        Units per hidden layer.
    n_blocks : int, default=2
        Hidden layers.
    dropout : float, default=0.1
        Dropout rate of the hidden layers.
    lr : float, default=2e-3
        AdamW learning rate.
    weight_decay : float, default=3e-4
        AdamW weight decay.
    batch_size : int, default=64
        Training rows per step.
    max_epochs : int, default=40
        Passes over the training rows (no early stopping).
    clip : float, default=5.0
        Standardised features are clipped to ``[-clip, clip]``.
    n_threads : int or None, default=None
        Torch threads for fit and predict: None one thread (small networks gain nothing
        from more, see ``sklearn_msfl.msfl._threads``), -1 as many as the caller allows.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, dropout and the order of the batches.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    scaler_ : sklearn.preprocessing.StandardScaler
        The standardisation fitted on the training rows.
    module_ : tabm.TabM
        The trained network (in evaluation mode).
    loss_curve_ : list of float
        Mean training loss of every epoch.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_msfl import TabMClassifier
    >>> rng = np.random.RandomState(0)
    >>> y = np.tile(["anger", "neutral"], 50)
    >>> X = rng.normal(size=(100, 5)) + 2 * (y == "anger")[:, None]
    >>> model = TabMClassifier(k=4, max_epochs=5, random_state=0).fit(X, y)
    >>> model.predict_proba(X[:2]).shape
    (2, 2)
    >>> float(model.score(X, y)) > 0.9
    True
    """

    _parameter_constraints: dict = {
        "k": [Interval(Integral, 1, None, closed="left")],
        "d_block": [Interval(Integral, 1, None, closed="left")],
        "n_blocks": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "clip": [Interval(Real, 0, None, closed="neither")],
        "n_threads": [Interval(Integral, 1, None, closed="left"), Options(Integral, {-1}), None],
        "random_state": ["random_state"],
    }

    def __init__(self, k=16, d_block=128, n_blocks=2, dropout=0.1, lr=2e-3, weight_decay=3e-4,
                 batch_size=64, max_epochs=40, clip=5.0, n_threads=None, random_state=None):
        self.k = k
        self.d_block = d_block
        self.n_blocks = n_blocks
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.clip = clip
        self.n_threads = n_threads
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the ensemble on ``X`` and the class labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : TabMClassifier
            The fitted classifier.
        """
        from tabm import TabM  # the optional dependency is needed only to fit

        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32))
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        self.scaler_ = StandardScaler().fit(X)
        inputs = torch.from_numpy(self._scaled(X))
        targets = torch.from_numpy(encoder.transform(y)).long()
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        with torch_threads(self.n_threads), _SeededTorch(seed, "cpu"):
            self.module_ = TabM.make(n_num_features=X.shape[1], d_out=len(self.classes_),
                                     k=self.k, d_block=self.d_block, n_blocks=self.n_blocks,
                                     dropout=self.dropout)
            self.loss_curve_ = self._train(inputs, targets)
        return self

    def _train(self, inputs: torch.Tensor, targets: torch.Tensor) -> list[float]:
        optimizer = torch.optim.AdamW(self.module_.parameters(), lr=self.lr,
                                      weight_decay=self.weight_decay)
        self.module_.train()
        curve = []
        for _ in range(self.max_epochs):
            total = 0.0
            for batch in torch.randperm(len(inputs)).split(self.batch_size):
                logits = self.module_(inputs[batch])  # (batch, k, n_classes)
                # Mean over members and rows: the mean of the members' losses.
                loss = F.cross_entropy(logits.flatten(0, 1),
                                       targets[batch].repeat_interleave(self.k))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
            curve.append(total / len(inputs))
        self.module_.eval()
        return curve

    def _scaled(self, X) -> np.ndarray:
        scaled = np.clip(self.scaler_.transform(X), -self.clip, self.clip)
        return np.ascontiguousarray(scaled, dtype=np.float32)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities: the mean of the members' softmax outputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of :attr:`classes_`.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        inputs = torch.from_numpy(self._scaled(X))
        with torch_threads(self.n_threads), torch.no_grad():
            parts = [self.module_(chunk).softmax(-1).mean(1)
                     for chunk in inputs.split(_PREDICT_BATCH)]
        return torch.cat(parts).double().numpy()

    def predict(self, X) -> np.ndarray:
        """The most probable class of every row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from :attr:`classes_`.
        """
        proba = self.predict_proba(X)  # checks that the model is fitted
        return self.classes_[proba.argmax(axis=1)]
