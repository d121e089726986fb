"""The ``Method`` contract every formulation implements.

A method is a class with class attributes ``name``, ``summary``, ``capabilities`` and ``options``
and a ``solve(problem, **options) -> Solution`` method. The framework (``cvxlens.solve``)
checks capabilities, fills and validates options, hands the method the ``sum``-scaled problem,
and re-evaluates J of the returned network on the caller's problem.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, ClassVar

from .problem import BIASES

__all__ = [
    "Method", "Option", "Capabilities", "Deadline",
    "CvxlensError", "UnknownMethodError", "UnknownOptionError", "OptionError",
    "UnsupportedProblemError", "ProblemTooLargeError",
    "COMMON_OPTIONS",
]


class CvxlensError(Exception):
    """Base class of cvxlens errors."""


class UnknownMethodError(CvxlensError, KeyError):
    """No registered method has that name."""

    def __str__(self):  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class UnknownOptionError(CvxlensError, TypeError):
    """An option the method does not declare."""


class OptionError(CvxlensError, ValueError):
    """An option value that fails the method's validation."""


class UnsupportedProblemError(CvxlensError, ValueError):
    """The method cannot solve this kind of problem (loss, bias convention, dimension...)."""


class ProblemTooLargeError(CvxlensError, ValueError):
    """The requested computation would be too large (enumeration, program size)."""


@dataclass(frozen=True)
class Option:
    """One declared option of a method.

    Parameters
    ----------
    default : any
        Value used when the caller does not give one.
    doc : str
        One-line description (shown by ``cvxlens methods``).
    validate : callable, optional
        ``validate(value) -> value``: returns the normalized value or raises ValueError/TypeError
        with a message that says what is allowed.
    """

    default: Any
    doc: str = ""
    validate: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Capabilities:
    """What a method can do (cvxpy-style capability flags).

    Attributes
    ----------
    losses : tuple of str
        Supported losses (subset of ``cvxlens.problem.LOSSES``).
    biases : tuple of str
        Supported bias conventions.
    depth : int
        Depth of the network returned (2 or 3).
    finite_weights : bool
        Whether the returned predictor is a finite network whose J can be evaluated.
    lower_bound : bool
        Whether the method can give a lower bound.
    input_dim : int or None
        Required input dimension d (e.g. 1 for the 1-D reflection Lasso), None for any.
    """

    losses: tuple = ("squared",)
    biases: tuple = BIASES
    depth: int = 2
    finite_weights: bool = True
    lower_bound: bool = False
    input_dim: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _validate_seed(v):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {v!r}")
    return v


def _validate_time_limit(v):
    if v is None:
        return None
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"time_limit must be a number of seconds > 0 or None, got {v!r}") from None
    if not v > 0:
        raise ValueError(f"time_limit must be > 0 seconds or None, got {v}")
    return v


#: Options every method accepts.
COMMON_OPTIONS = {
    "seed": Option(0, "random seed (same seed -> same result)", _validate_seed),
    "time_limit": Option(None, "soft time budget in seconds: stop and return the best network "
                               "found so far with status 'timeout'", _validate_time_limit),
}


class Deadline:
    """Soft time budget: ``Deadline(seconds or None).expired()``."""

    def __init__(self, seconds: float | None):
        self.start = time.perf_counter()
        self.seconds = seconds

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def expired(self) -> bool:
        return self.seconds is not None and self.elapsed() >= self.seconds

    def remaining(self) -> float | None:
        return None if self.seconds is None else max(0.0, self.seconds - self.elapsed())


class Method:
    """Base class of every formulation.

    Subclasses set the class attributes and implement :meth:`solve`. ``solve`` receives the
    ``sum``-scaled problem (``problem.scale == "sum"``) and every declared option (defaults
    filled, values validated), including the common ``seed`` and ``time_limit``.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()
    options: ClassVar[dict] = {}

    # -- options ---------------------------------------------------------------
    @classmethod
    def option_specs(cls) -> dict:
        """All options, common ones included: name -> Option."""
        return {**COMMON_OPTIONS, **cls.options}

    @classmethod
    def validate_options(cls, **options) -> dict:
        """Fill defaults and validate.

        Raises
        ------
        UnknownOptionError
            For an option the method does not declare (message lists the valid ones).
        OptionError
            For a value its validator rejects.
        """
        specs = cls.option_specs()
        unknown = sorted(set(options) - set(specs))
        if unknown:
            raise UnknownOptionError(
                f"unknown option(s) {', '.join(map(repr, unknown))} for method {cls.name!r}; "
                f"valid options: {', '.join(sorted(specs))}"
            )
        out = {}
        for key, spec in specs.items():
            value = options.get(key, spec.default)
            if spec.validate is not None and key in options:
                try:
                    value = spec.validate(value)
                except (ValueError, TypeError) as exc:
                    raise OptionError(f"option {key!r} of method {cls.name!r}: {exc}") from None
            out[key] = value
        return out

    # -- capabilities -------------------------------------------------------------
    @classmethod
    def unsupported_reason(cls, problem) -> str | None:
        """Why this method cannot solve ``problem`` (None if it can).

        The default checks ``capabilities``; override to add method-specific limits
        (and call ``super()``).
        """
        caps = cls.capabilities
        if problem.loss not in caps.losses:
            return (f"{cls.name} supports the loss(es) {', '.join(caps.losses)}, "
                    f"not {problem.loss!r}")
        if problem.bias not in caps.biases:
            return (f"{cls.name} supports the bias convention(s) {', '.join(caps.biases)}, "
                    f"not {problem.bias!r}")
        if caps.input_dim is not None and problem.d != caps.input_dim:
            return f"{cls.name} needs input dimension d = {caps.input_dim}, the data has d = {problem.d}"
        return None

    # -- the work -------------------------------------------------------------------
    def solve(self, problem, **options):  # pragma: no cover - abstract
        """Solve ``problem`` (sum-scaled) with validated options; return a Solution."""
        raise NotImplementedError(f"{type(self).__name__} must implement solve()")


def method_info_dict(cls) -> dict:
    """Plain description of a method class (for ``cvxlens methods --json``)."""
    return {
        "name": cls.name,
        "summary": cls.summary,
        "capabilities": cls.capabilities.to_dict(),
        "options": {k: {"default": _jsonable(v.default), "doc": v.doc}
                    for k, v in cls.option_specs().items()},
    }


def _jsonable(v):
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return repr(v)

