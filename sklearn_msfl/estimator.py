"""MultitaskSERClassifier: the MSFL network as a scikit-learn classifier, trained with skorch.

The estimator is a plain scikit-learn classifier: ``fit(X, y)`` with one row of
features per utterance and one label column per task (emotion first, then
auxiliary tasks such as language), ``predict`` returns the main task's labels.
Inside ``fit`` it standardises the features and trains an
:class:`~sklearn_msfl.network.MSFLNetwork` through a skorch ``NeuralNet``
subclass that computes one loss per task and combines them with GradNorm (or
a constant weighting).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score

# The fitting, prediction, label and skorch helpers lived here: re-exported, they still import.
from ._fitting import _CLIP_STD, _FLOAT_DTYPES, LR_SCHEDULES, _PARAMETER_CONSTRAINTS  # noqa: F401
from ._fitting import _is_fitted_name, _MultitaskFitting, _standardise  # noqa: F401
from ._inference import _INFERENCE_BATCH_SIZE, _MultitaskPredictions  # noqa: F401
from ._targets import _encode_targets, _targets_by_task, _where_not_finite  # noqa: F401
from ._targets import _with_auxiliary, default_task_names  # noqa: F401
from ._training import MultitaskCrossEntropy, _HoldoutSplit, _MultitaskNet  # noqa: F401
from ._training import _resolve_device, _SeededTorch, _silent, _TaskWeightsLogger  # noqa: F401
from .metrics import main_task_labels

__all__ = ["MultitaskSERClassifier", "MultitaskCrossEntropy", "default_task_names"]


class MultitaskSERClassifier(
    _MultitaskFitting, _MultitaskPredictions, ClassifierMixin, BaseEstimator
):
    """Multitask shared feature learning (MSFL) for speech emotion recognition.

    Learns emotion (the main task) together with auxiliary tasks such as the
    language from one global feature vector per utterance (e.g. openSMILE IS10
    functionals). An LSTM reads the standardised feature vector with the feature
    dimensions as time steps, attention pooling weights every feature, shared
    dense layers follow, and each task has its own classification head. The
    task losses are balanced by GradNorm (Chen et al., 2018). With a 1-D ``y``
    it is the single-task (STL) baseline.

    Parameters
    ----------
    architecture : {"msfl", "paper"}, default="msfl"
        The network's form; it sets every structural parameter left at None.
        ``"msfl"``: per-feature embeddings read in about ``AUTO_N_STEPS`` (16)
        steps by a one-way LSTM, with two-level attention (features within
        a step, then steps) that gives every feature its own weight, pooling the
        embeddings. ``"paper"``: Ma & Wang's network, one raw feature value per
        LSTM step (1582 steps on IS10, far slower), a one-way LSTM, attention
        over its states. See :class:`~sklearn_msfl.network.MSFLNetwork`.
    hidden_size : int, default=32
        LSTM state size.
    num_layers : int, default=1
        Number of stacked LSTM layers.
    bidirectional : bool, default=None
        Whether the LSTM also reads the features backwards (None: the
        architecture's, False for both: with two-level attention a
        bidirectional LSTM biased the step weights towards the first and last
        features).
    patch_size : int or "auto", default=None
        Consecutive features read per LSTM step (None: the architecture's,
        ``"auto"`` for "msfl", 1 for "paper"); the training time falls roughly
        in proportion. ``"auto"`` groups the features into about
        ``AUTO_N_STEPS`` (16) steps, ``ceil(d / 16)`` features each (99 for
        IS10, 6 for eGeMAPSv02).
    embedding : {"per_feature", "shared"}, default=None
        ``"per_feature"``: each feature gets its own linear embedding
        ``value * W_i + b_i`` and its own attention weight within its step;
        ``"shared"``: raw values into the LSTM (the paper; with
        ``patch_size > 1`` the attention then weights steps, not features).
        None: the architecture's.
    embedding_dim : int, default=16
        Size of the per-feature embeddings.
    pooling : {"attention", "mean"}, default="attention"
        Attention pooling (MSFL) or mean pooling (the no-attention ablation:
        features and LSTM states are averaged, the LSTM stays).
    attention_values : {"inputs", "states"}, default=None
        What the step attention pools: the LSTM's inputs (each step's
        attention-pooled feature embeddings), weighted by scores computed from
        the states; or the LSTM states (the paper). A state summarises all
        features read before it, so state weights mark positions rather than
        features: ``"inputs"`` makes the attention a faithful per-feature
        explanation. None: the architecture's ("inputs" for "msfl", "states"
        for "paper"); "inputs" needs ``embedding="per_feature"``.
    shared_size : int or tuple of int, default=64
        Size(s) of the shared dense layer(s) after pooling.
    dropout : float, default=0.3
        Dropout after pooling and after each shared layer.
    adversarial_tasks : tuple of str, default=()
        Auxiliary tasks learnt adversarially: their heads sit behind a gradient
        reversal, so that the shared features stop encoding them (e.g.
        ``("language",)`` for language-invariant features when the target
        language is unseen). The paper's language task is cooperative (the
        default).
    adversarial_strength : float, default=1.0
        Strength of the gradient reversal of ``adversarial_tasks``.
    lr : float, default=2e-3
        (Peak) learning rate of the AdamW optimizer.
    lr_schedule : {"onecycle", "cosine", "constant"}, default="onecycle"
        Learning-rate schedule over the ``max_epochs`` epochs, stepped every
        batch: one-cycle (warm-up then annealing to zero), cosine annealing,
        or a constant ``lr``.
    weight_decay : float, default=1e-3
        AdamW weight decay.
    max_epochs : int, default=60
        Number of training epochs (fewer with early stopping).
    batch_size : int, default=32
        Mini-batch size.
    loss_weighting : "gradnorm", "equal" or dict, default="gradnorm"
        How the task losses are combined: GradNorm, a plain sum, or constant
        weights ``{task: weight}`` (tasks left out get 1). A
        :class:`~sklearn_msfl.gradnorm.LossWeighting` instance also works.
    gradnorm_alpha : float, default=1.5
        GradNorm's asymmetry ``alpha``.
    gradnorm_lr : float, default=0.025
        Learning rate of GradNorm's task-weight optimizer.
    main_task : str or int, default=None
        The task whose labels ``predict`` returns (name or column position);
        None means the first column of ``y``.
    class_weight : None, "balanced" or dict, default=None
        Class weights of the losses: ``"balanced"`` for every task, a dict
        ``{label: weight}`` for the main task, or a dict ``{task: spec}`` with a
        spec per task.
    validation_fraction : float, default=0.0
        Fraction of the training data held out (stratified on the main task) to
        monitor ``valid_loss_<task>`` and stop early; 0 trains on everything for
        ``max_epochs`` epochs.
    patience : int, default=5
        Epochs without improvement of the main task's validation loss before
        stopping; the best epoch's weights are restored.
    n_ensemble : int, default=1
        Number of networks trained with different seeds; predictions, task
        probabilities and attention weights are their averages. Each network
        costs one more training run; averaging lowers the variance that a
        few hundred training utterances leave (5 networks of an earlier
        version of the network scored 66.7 UAR on one outer fold's inner
        validation, against 63.7 for the mean single seed,
        ``benchmarks/results/tuning_notes.md``; no benchmark reports it).
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where to train; "auto" takes CUDA when available.
    n_threads : int or None, default=None
        Torch CPU threads during ``fit`` and prediction (the caller's setting is
        restored afterwards). None: one thread, which is the fastest for
        networks of this size and never oversubscribes shared cores
        (``benchmarks/results/threads.md``); -1: as many as the caller allows.
        A limit the caller set (``torch.set_num_threads``, ``OMP_NUM_THREADS``,
        threadpoolctl, the per-worker limits of joblib and dask) is an upper bound.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation split
        (torch's global RNG state is restored afterwards). Two fits with the same
        integer give identical predictions on the CPU.
    verbose : int, default=0
        If positive, print one progress line per epoch (skorch's PrintLog).

    Attributes
    ----------
    classes_ : ndarray
        Labels of the main task.
    task_names_ : list of str
        Task names, in the column order of ``y``.
    main_task_ : str
        Name of the main task.
    classes_per_task_ : dict str -> ndarray
        Labels of every task.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Feature names, when ``X`` was a DataFrame with string column names.
    scaler_ : StandardScaler
        The feature standardisation fitted on the training data.
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the MSFLNetwork. With
        ``n_ensemble > 1``, the first network of ``nets_``.
    nets_ : list of skorch.NeuralNet
        All ``n_ensemble`` trained nets.
    history_ : skorch.History
        The first net's per-epoch ``train_loss`` / ``valid_loss`` (weighted sum), per-task
        ``train_loss_<task>`` / ``valid_loss_<task>`` and ``task_weights``.
    device_ : str
        The device the network lives on.
    n_iter_ : int
        Number of epochs trained.
    attention_level_ : {"feature", "step"} or None
        What :meth:`attention_weights` tells apart: every feature (the
        defaults and the paper's form), only LSTM steps (raw patches of several
        features, ``embedding="shared"`` with ``patch_size > 1``: a step's
        features share its weight), or nothing (``pooling="mean"``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> X, emotion = make_classification(n_samples=60, n_features=12, n_informative=6,
    ...                                  n_classes=3, random_state=0)
    >>> language = np.where(X[:, 0] > 0, "de", "en")
    >>> y = np.column_stack([emotion, language])
    >>> clf = MultitaskSERClassifier(hidden_size=8, shared_size=8, patch_size=4,
    ...                              max_epochs=3, random_state=0).fit(X, y)
    >>> clf.task_names_, clf.main_task_
    (['emotion', 'language'], 'emotion')
    >>> clf.predict(X[:4]).shape, clf.predict_proba(X[:4]).shape
    ((4,), (4, 3))
    >>> list(clf.predict_tasks(X[:2]).columns)
    ['emotion', 'language']
    >>> clf.attention_weights(X[:2]).sum(axis=1).round(6)
    array([1., 1.])
    """
    _parameter_constraints: dict = _PARAMETER_CONSTRAINTS

    def __init__(
        self,
        *,
        architecture="msfl",
        hidden_size=32,
        num_layers=1,
        bidirectional=None,
        patch_size=None,
        embedding=None,
        embedding_dim=16,
        pooling="attention",
        attention_values=None,
        shared_size=64,
        dropout=0.3,
        adversarial_tasks=(),
        adversarial_strength=1.0,
        lr=2e-3,
        lr_schedule="onecycle",
        weight_decay=1e-3,
        max_epochs=60,
        batch_size=32,
        loss_weighting="gradnorm",
        gradnorm_alpha=1.5,
        gradnorm_lr=0.025,
        main_task=None,
        class_weight=None,
        validation_fraction=0.0,
        patience=5,
        n_ensemble=1,
        device="auto",
        n_threads=None,
        random_state=None,
        verbose=0,
    ):
        self.architecture = architecture
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.patch_size = patch_size
        self.embedding = embedding
        self.embedding_dim = embedding_dim
        self.pooling = pooling
        self.attention_values = attention_values
        self.shared_size = shared_size
        self.dropout = dropout
        self.adversarial_tasks = adversarial_tasks
        self.adversarial_strength = adversarial_strength
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.loss_weighting = loss_weighting
        self.gradnorm_alpha = gradnorm_alpha
        self.gradnorm_lr = gradnorm_lr
        self.main_task = main_task
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.n_ensemble = n_ensemble
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit

    def fit(self, X, y, sample_weight=None, groups=None, auxiliary=None):
        """Train the network on features ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One feature vector per utterance (not yet standardised).
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Labels. 1-D: a single task (the STL baseline), named after the
            Series or ``"emotion"``. 2-D: one column per task; a DataFrame's
            column names are the task names, an array's columns are called
            ``emotion``, ``language``, ``task2``... Labels may be strings.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of every utterance in every task's loss (e.g. to weight
            corpora); each task's loss is the weighted mean over a batch.
        groups : array-like of shape (n_samples,), default=None
            Speaker of every utterance. With ``validation_fraction > 0`` the
            early-stopping hold-out then takes whole speakers, so that early
            stopping watches unseen speakers. In a pipeline or a search with
            metadata routing enabled, request it with
            ``set_fit_request(groups=True)``.
        auxiliary : array-like of shape (n_samples,) or (n_samples, n_aux), default=None
            Labels of the auxiliary tasks (e.g. the language) when ``y`` holds
            only the main task: the tasks are then ``y`` followed by these
            columns (a DataFrame's or Series' names, else ``language``,
            ``task2``...). With a 1-D ``y`` every scikit-learn tool treats the
            estimator as a plain classifier: string scorers such as
            ``"balanced_accuracy"``, ``cross_val_predict(method="predict_proba")``
            and stratified folds work unchanged, and the auxiliary labels are
            split with the rows as fit metadata (``set_fit_request(auxiliary=True)``
            with metadata routing, ``msfl__auxiliary=`` in a pipeline without).

        Returns
        -------
        self : MultitaskSERClassifier
            The fitted estimator.
        """
        self._validate_params()
        # A failed refit leaves a fitted estimator as it was (validate_data resets
        # n_features_in_ and feature_names_in_ before training starts).
        fitted = {name: value for name, value in vars(self).items() if _is_fitted_name(name)}
        try:
            return self._fit(X, _with_auxiliary(y, auxiliary), sample_weight, groups)
        except BaseException:
            for name in [name for name in vars(self) if _is_fitted_name(name)]:
                delattr(self, name)
            vars(self).update(fitted)
            raise

    def predict_proba_tasks(self, X) -> dict:
        """Class probabilities of every task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        dict str -> ndarray of shape (n_samples, n_classes_of_task)
            Columns ordered as ``classes_per_task_[task]``.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.RandomState(0)
        >>> X, y = rng.normal(size=(20, 6)), np.column_stack([rng.randint(3, size=20),
        ...                                                   rng.randint(2, size=20)])
        >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, random_state=0).fit(X, y)
        >>> {task: p.shape for task, p in clf.predict_proba_tasks(X).items()}
        {'emotion': (20, 3), 'language': (20, 2)}
        """
        return self._forward(X)

    def predict_proba(self, X) -> np.ndarray:
        """Main-task class probabilities, columns ordered as ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.RandomState(0)
        >>> X, y = rng.normal(size=(20, 6)), rng.choice(["angry", "happy"], size=20)
        >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, random_state=0).fit(X, y)
        >>> clf.predict_proba(X).sum(axis=1).round(6)[:3]
        array([1., 1., 1.])
        """
        return self._forward(X)[self.main_task_]

    def predict(self, X) -> np.ndarray:
        """Main-task labels (in the original label type).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        ndarray of shape (n_samples,)

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.RandomState(0)
        >>> X, y = rng.normal(size=(20, 6)), rng.choice(["angry", "happy"], size=20)
        >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, random_state=0).fit(X, y)
        >>> set(clf.predict(X)) <= {"angry", "happy"}
        True
        """
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)]

    def predict_tasks(self, X) -> pd.DataFrame:
        """Labels of every task, one column per task (index kept from a DataFrame ``X``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        DataFrame of shape (n_samples, n_tasks)

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(20, 6))
        >>> y = pd.DataFrame({"emotion": rng.choice(["angry", "sad"], 20),
        ...                   "language": rng.choice(["de", "en", "ur"], 20)})
        >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, random_state=0).fit(X, y)
        >>> clf.predict_tasks(X[:3]).shape
        (3, 2)
        """
        index = X.index if isinstance(X, pd.DataFrame) else None
        probabilities = self._forward(X)
        return pd.DataFrame(
            {
                task: self.classes_per_task_[task][np.argmax(probabilities[task], axis=1)]
                for task in self.task_names_
            },
            index=index,
        )

    def attention_weights(self, X) -> np.ndarray:
        """Attention weight of every input feature, per sample (rows sum to one).

        A feature's weight is its LSTM step's weight times its weight within the
        step. Where the network has no per-feature weights (``attention_level_``
        is "step" or None) the step's weight is spread evenly over its features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        ndarray of shape (n_samples, ``n_features_in_``)

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.RandomState(0)
        >>> X, y = rng.normal(size=(20, 6)), rng.randint(2, size=20)
        >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, patch_size=4,
        ...                              random_state=0).fit(X, y)
        >>> weights = clf.attention_weights(X)
        >>> weights.shape, bool(np.allclose(weights.sum(axis=1), 1))
        ((20, 6), True)
        """
        return self._forward(X, return_attention=True)[1]

    def score(self, X, y, sample_weight=None) -> float:
        """Main-task accuracy (WA) on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Main-task labels, or all task labels as in ``fit``.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        float
            Labels never seen in ``fit`` count as errors.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(30, 4))
        >>> y = np.column_stack([(X[:, 0] > 0).astype(int), (X[:, 1] > 0).astype(int)])
        >>> clf = MultitaskSERClassifier(max_epochs=2, hidden_size=4, random_state=0).fit(X, y)
        >>> clf.score(X, y) == clf.score(X, y[:, 0])
        True
        """
        y_pred = self.predict(X)
        return accuracy_score(main_task_labels(self, y), y_pred, sample_weight=sample_weight)

    def __setstate__(self, state):
        super().__setstate__(state)
        # skorch maps a CUDA net onto the CPU when CUDA is missing; follow it.
        if "net_" in self.__dict__:
            self.device_ = str(self.net_.device)
