import pytest

from cvxlens import validators as V


@pytest.mark.parametrize("fn, good, bad", [
    (V.positive_int, [(3, 3), ("4", 4), (2.0, 2)], [0, -1, 1.5, True, "x", None]),
    (V.nonneg_int, [(0, 0), ("7", 7)], [-1, 0.5, False]),
    (V.positive_float, [(1e-3, 1e-3), ("2.5", 2.5)], [0, -1, float("nan"), float("inf"), True, "x"]),
    (V.nonneg_float, [(0, 0.0), (1, 1.0)], [-1e-9, float("nan"), None]),
    (V.unit_interval, [(0, 0.0), (0.9, 0.9)], [1.0, -0.1]),
    (V.bool_, [(True, True), ("false", False), ("1", True)], [2, "maybe", None]),
    (V.one_of("a", "b"), [("a", "a")], ["c", 1]),
    (V.optional(V.positive_int), [(None, None), (2, 2)], [0]),
])
def test_validators(fn, good, bad):
    for value, expected in good:
        assert fn(value) == expected
    for value in bad:
        with pytest.raises((ValueError, TypeError)):
            fn(value)
