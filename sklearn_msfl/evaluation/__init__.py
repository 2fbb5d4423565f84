"""Speaker-independent evaluation of estimators, its report and paired statistics.

:func:`evaluate` cross-validates one or several estimators on the same folds and
returns an :class:`EvaluationResult` (score tables, confusion matrices, plots);
:class:`PairedComparison` tests two estimators against each other. The subpackage
keeps one concern per private module: ``_evaluate`` (the runner: folds, fitting,
progress), ``_report`` (the result), ``_paired`` (paired t-tests and Wilcoxon),
``_bootstrap`` (the speaker bootstrap of a pooled score's difference) and ``_plotting`` (the heat-map helper the plots share); every public name is
imported here.

Examples
--------
>>> from sklearn_msfl.evaluation import EvaluationResult, evaluate
>>> callable(evaluate), EvaluationResult.__name__
(True, 'EvaluationResult')
"""

from ._bootstrap import BootstrapDifference, bootstrap_difference
from ._evaluate import SpeakerDependentFoldsWarning, evaluate
from ._paired import PairedComparison
from ._report import EvaluationResult

__all__ = ["evaluate", "EvaluationResult", "PairedComparison", "SpeakerDependentFoldsWarning",
           "BootstrapDifference", "bootstrap_difference"]
