"""Design-based estimation for complex samples: pure numpy/scipy, no web framework.

The functions reproduce R's ``survey`` package (Lumley 2010): :class:`Design` for the sampling
design and variances, :mod:`.estimates` for totals, means, proportions and domains.
"""

from .design import LONELY_PSU_RULES, Calibration, Categorical, Design
from .types import DesignError, Estimate, EstimationError, LonelyPSUError

__all__ = [
    "LONELY_PSU_RULES",
    "Calibration",
    "Categorical",
    "Design",
    "DesignError",
    "Estimate",
    "EstimationError",
    "LonelyPSUError",
]
