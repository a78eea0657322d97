"""One result type per analysis; derived figures are computed here once, and renderers
only show them.  Every analysis result carries a :class:`RunInfo` (what ran, how it
ended, provenance) and, without an optimum, a diagnosis."""

from .common import SHARE, Outcome, RunInfo, clean, clean_array, figure
from .compare import CompareResult, Dynamics, PathEnd, StatusQuoRange
from .design import DesignResult
from .diff import DiffResult
from .frontier import FrontierResult
from .prices import ProfitCentre, Quantity, RowChange, TransferPrices
from .sensitivity import SensitivityResult
from .summary import ModelSummary
from .sweep import SweepResult
from .system import SystemResult
from .verification import Path, Verification

__all__ = [
    "SHARE",
    "CompareResult",
    "DesignResult",
    "DiffResult",
    "Dynamics",
    "FrontierResult",
    "ModelSummary",
    "Outcome",
    "Path",
    "PathEnd",
    "ProfitCentre",
    "Quantity",
    "RowChange",
    "RunInfo",
    "SensitivityResult",
    "StatusQuoRange",
    "SweepResult",
    "SystemResult",
    "TransferPrices",
    "Verification",
    "clean",
    "clean_array",
    "figure",
]
