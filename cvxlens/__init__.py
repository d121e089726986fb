"""cvxlens: train ReLU networks through convex formulations and compare them on one objective.

Public API (see docs/ and DESIGN): ``Problem``, ``ReLUNetwork``, ``ParallelReLUNetwork3``,
``Solution``, ``Method``, ``Option``, ``Capabilities``, ``hookimpl``, ``solve``, ``list_methods``,
``get_method``, ``enumerate_patterns``, ``sample_patterns``, datasets and the comparison runner.
"""

from .api import solve
from .datasets import Dataset, DatasetError, DatasetInfo, list_datasets, load_dataset
from .hookspecs import hookimpl
from .method import (
    COMMON_OPTIONS, Capabilities, CvxlensError, Deadline, Method, Option, OptionError,
    ProblemTooLargeError, UnknownMethodError, UnknownOptionError, UnsupportedProblemError,
)
from .network import ParallelReLUNetwork3, ReLUNetwork, relu
from .patterns import enumerate_patterns, pattern_count_bound, sample_patterns
from .polar import PolarOracle, PolarResult, polar
from .plugins import MethodInfo, get_method, list_methods, register_plugin, reload_plugins
from .problem import Problem
from .results import Results
from .runner import compare
from .solution import BOUND_KINDS, FINISHED_STATUSES, STATUSES, Solution

__version__ = "0.1.0"

__all__ = [
    "Problem", "ReLUNetwork", "ParallelReLUNetwork3", "relu", "Solution", "STATUSES",
    "FINISHED_STATUSES", "BOUND_KINDS", "Method", "Option", "Capabilities", "COMMON_OPTIONS",
    "Deadline", "hookimpl", "solve", "list_methods", "get_method", "MethodInfo",
    "register_plugin", "reload_plugins", "enumerate_patterns", "sample_patterns",
    "pattern_count_bound", "CvxlensError", "UnknownMethodError", "UnknownOptionError",
    "OptionError", "UnsupportedProblemError", "ProblemTooLargeError", "compare", "Results",
    "Dataset", "DatasetError", "DatasetInfo", "load_dataset", "list_datasets",
    "polar", "PolarResult", "PolarOracle",
]
