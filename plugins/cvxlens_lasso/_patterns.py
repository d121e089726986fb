"""Design matrix and activation-pattern set of the Pilanci–Ergen program (options ``patterns`` and
``init_network``)."""

from __future__ import annotations

import numbers

import numpy as np

from cvxlens import ProblemTooLargeError, ReLUNetwork, enumerate_patterns, sample_patterns
from cvxlens.method import OptionError

#: ``patterns="auto"`` enumerates when the arrangement has at most this many cells.
AUTO_EXACT_LIMIT = 512


def design(problem):
    """``(Xa, pen, free_offset)``: the group-Lasso design (n, dd), the number of penalized leading
    entries per group, and whether an unpenalized output offset c is present (MATH.md bias
    conventions). ``free`` uses ``[X, 1]`` with only the first d entries penalized."""
    if problem.bias == "free":
        Xa = np.hstack([problem.X, np.ones((problem.n, 1))])
        return Xa, problem.d, True
    Xa = problem.design()
    return Xa, Xa.shape[1], False


def default_n_gates(n: int) -> int:
    """Default number of sampled gates: grows like n/2, clipped to [100, 2000]."""
    return int(min(2000, max(100, n // 2)))


def validate_patterns(value):
    if value is None:
        return "auto"
    if isinstance(value, str):
        if value not in ("auto", "exact"):
            raise ValueError(f"patterns must be 'auto', 'exact', a positive int or an (n, P) bool "
                             f"array, got {value!r}")
        return value
    if isinstance(value, bool):
        raise ValueError("patterns must be 'auto', 'exact', a positive int or an (n, P) bool array, "
                         f"got {value!r}")
    if isinstance(value, numbers.Integral):
        if value < 1:
            raise ValueError(f"patterns (number of sampled gates) must be >= 1, got {value}")
        return int(value)
    arr = np.asarray(value)
    if arr.ndim != 2 or arr.dtype != bool:
        raise ValueError("a patterns array must be boolean with shape (n, P), got "
                         f"dtype {arr.dtype} and shape {arr.shape}")
    return arr


def validate_network(value):
    if value is None or isinstance(value, ReLUNetwork):
        return value
    raise TypeError(f"init_network must be a cvxlens.ReLUNetwork (two-layer) or None, got "
                    f"{type(value).__name__}")


def build_patterns(problem, Xa, spec, seed, max_patterns, init_network=None):
    """Pattern mask and how it was obtained.

    Returns
    -------
    Dm : bool (n, P)
    gates : float (dd, P) or None (one interior direction per pattern when known)
    kind : "exact" | "sampled" | "given"
    """
    n = Xa.shape[0]
    gates = None
    if isinstance(spec, np.ndarray):
        if spec.shape[0] != n:
            raise OptionError(f"the patterns array has {spec.shape[0]} rows, the data has n = {n}; "
                              "pass an (n, P) boolean array")
        Dm = spec[:, spec.any(axis=0)]
        kind = "given"
    elif spec == "exact":
        Dm = enumerate_patterns(Xa, max_patterns=max_patterns)
        kind = "exact"
    elif spec == "auto":
        try:
            Dm = enumerate_patterns(Xa, max_patterns=min(AUTO_EXACT_LIMIT, max_patterns))
            kind = "exact"
        except ProblemTooLargeError:
            Dm, gates = sample_patterns(Xa, default_n_gates(n), seed=seed or 0, return_gates=True)
            kind = "sampled"
    else:
        Dm, gates = sample_patterns(Xa, int(spec), seed=seed or 0, return_gates=True)
        kind = "sampled"
    if init_network is not None:
        if init_network.d != problem.d:
            raise OptionError(f"init_network has input dimension {init_network.d}, the problem "
                              f"has d = {problem.d}")
        from ._recover import groups_from_network
        _, _, Dn, _ = groups_from_network(problem, Xa, init_network)
        if Dn.shape[1]:
            Dm, gates = merge_patterns(Dm, gates, Dn)
    if Dm.shape[1] == 0:
        Dm = np.ones((n, 1), dtype=bool)
        gates = None
    return Dm, gates, kind


def merge_patterns(Dm, gates, Dnew):
    """Append the columns of Dnew not already in Dm (gates become None for the new ones)."""
    packed_old = {bytes(c) for c in np.packbits(Dm, axis=0).T}
    add = []
    seen = set()
    for j, col in enumerate(np.packbits(Dnew, axis=0).T):
        key = bytes(col)
        if key not in packed_old and key not in seen and Dnew[:, j].any():
            add.append(j)
            seen.add(key)
    if not add:
        return Dm, gates
    Dm = np.hstack([Dm, Dnew[:, add]])
    if gates is not None:
        gates = np.hstack([gates, np.full((gates.shape[0], len(add)), np.nan)])
    return Dm, gates


def pattern_index(Dm, Dq):
    """Index in Dm of each column of Dq (-1 when absent)."""
    lookup = {bytes(c): i for i, c in enumerate(np.packbits(Dm, axis=0).T)}
    return np.array([lookup.get(bytes(c), -1) for c in np.packbits(Dq, axis=0).T], dtype=int)
