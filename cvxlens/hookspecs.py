"""The plugin hook: one function, ``cvxlens_register_methods(register)``.

A plugin module (found through the ``cvxlens`` entry-point group) implements::

    import cvxlens

    @cvxlens.hookimpl
    def cvxlens_register_methods(register):
        register(MyMethod)       # a cvxlens.Method subclass
"""

import pluggy

hookspec = pluggy.HookspecMarker("cvxlens")
hookimpl = pluggy.HookimplMarker("cvxlens")


@hookspec
def cvxlens_register_methods(register):
    """Register Method subclasses by calling ``register(MethodClass)`` once for each."""
