"""What a method returns: a network, its objective J, and an honest lower bound."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Solution", "STATUSES", "FINISHED_STATUSES", "ERROR_STATUSES", "BOUND_KINDS"]

#: Every run ends in exactly one of these.
STATUSES = ("optimal", "converged", "max_iter", "timeout", "failed", "unsupported")
#: The method ran to its own end and its network is meaningful.
FINISHED_STATUSES = ("optimal", "converged", "max_iter")
#: The run produced no usable result (``timeout`` may still carry a best-so-far network).
ERROR_STATUSES = ("failed", "unsupported")
#: ``global``: a lower bound on min J over all networks (certified). ``subsampled``: a lower bound
#: only for the program restricted to the sampled activation patterns (MATH.md) - NOT a bound on
#: min J.
BOUND_KINDS = ("global", "subsampled")


@dataclass
class Solution:
    """Result of one method on one problem.

    Attributes
    ----------
    network : ReLUNetwork, ParallelReLUNetwork3, or any object with ``predict(X) -> (n,)``
        The trained predictor; ``None`` only for failed/unsupported runs.
    objective : float or None
        J of ``network`` on the problem (``Problem.objective``); ``None`` for a predictor with no
        finite weights (kernel predictor).
    lower_bound : float or None
        A lower bound of the kind given by ``bound_kind``.
    bound_kind : {"global", "subsampled"} or None
        ``global``: ``lower_bound <= min J`` (certificate). ``subsampled``: valid only for the
        program over the sampled activation patterns.
    status : str
        One of :data:`STATUSES`.
    time_s : float
        Wall-clock seconds of the solve.
    n_iter : int
        Iterations (method-specific unit).
    history : list of (seconds, objective)
        Convergence trace of the objective of the method's current iterate.
    method, options : str, dict
        Which method and which (validated, complete) options produced this.
    message : str
        Human-readable note (why unsupported, what failed, what was approximated).
    info : dict
        Method-specific facts (number of patterns, program size, ...); JSON-serializable.
    """

    network: Any
    objective: float | None
    lower_bound: float | None = None
    bound_kind: str | None = None
    status: str = "converged"
    time_s: float = 0.0
    n_iter: int = 0
    history: list = field(default_factory=list)
    method: str = ""
    options: dict = field(default_factory=dict)
    message: str = ""
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.bound_kind not in (None,) + BOUND_KINDS:
            raise ValueError(f"bound_kind must be one of {BOUND_KINDS} or None, got {self.bound_kind!r}")
        if (self.lower_bound is None) != (self.bound_kind is None):
            raise ValueError("lower_bound and bound_kind go together: set both or neither")
        if self.objective is not None:
            self.objective = float(self.objective)
        if self.lower_bound is not None:
            self.lower_bound = float(self.lower_bound)

    @property
    def gap(self) -> float | None:
        """``objective - lower_bound`` (None when either is missing)."""
        if self.objective is None or self.lower_bound is None:
            return None
        return self.objective - self.lower_bound

    @property
    def n_neurons(self) -> int | None:
        return getattr(self.network, "n_neurons", None)
