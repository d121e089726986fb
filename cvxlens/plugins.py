"""Plugin registry: every method, built-in or third-party, comes through the ``cvxlens``
entry-point group and the pluggy hook ``cvxlens_register_methods``.

Entry points are loaded one at a time; a plugin that fails to import, or whose hook raises, or
that registers something invalid, is recorded with its error and never stops the others.
"""

from __future__ import annotations

import importlib.metadata
import traceback
from dataclasses import dataclass, field

import pluggy

from . import hookspecs
from .method import Capabilities, Method, UnknownMethodError

__all__ = ["MethodInfo", "list_methods", "get_method", "register_plugin", "reload_plugins",
           "plugin_errors"]

ENTRY_POINT_GROUP = "cvxlens"


@dataclass
class MethodInfo:
    """One registered method (or one broken plugin).

    Attributes
    ----------
    name : str
        Method name (for a broken plugin: the entry-point name).
    summary : str
    plugin : str
        Name of the plugin (entry point) that registered it.
    capabilities : Capabilities or None
    error : str or None
        Why the plugin could not be loaded; None for a working method.
    cls : type or None
        The Method subclass.
    """

    name: str
    summary: str = ""
    plugin: str = ""
    capabilities: Capabilities | None = None
    error: str | None = None
    cls: type | None = field(default=None, repr=False)


class _Registry:
    def __init__(self):
        self.loaded = False
        self.methods: dict[str, MethodInfo] = {}
        self.errors: list[MethodInfo] = []
        self.pm = None
        self.extra: list[tuple[str, object]] = []

    def _register_from(self, plugin_name: str, caller) -> None:
        """Run one plugin's hook; collect what it registers."""
        registered: list = []
        try:
            caller(register=registered.append)
        except Exception as exc:  # the plugin's own fault: record, continue
            self.errors.append(MethodInfo(plugin_name, plugin=plugin_name,
                                          error=f"hook raised {type(exc).__name__}: {exc}"))
            return
        for cls in registered:
            problem = _check_method_class(cls)
            label = getattr(cls, "name", None) or repr(cls)
            if problem:
                self.errors.append(MethodInfo(str(label), plugin=plugin_name, error=problem))
            elif cls.name in self.methods:
                other = self.methods[cls.name].plugin
                self.errors.append(MethodInfo(cls.name, plugin=plugin_name, error=(
                    f"method name {cls.name!r} is already registered by plugin {other!r}")))
            else:
                self.methods[cls.name] = MethodInfo(cls.name, cls.summary, plugin_name,
                                                    cls.capabilities, None, cls)

    def load(self) -> None:
        self.methods, self.errors = {}, []
        pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        pm.add_hookspecs(hookspecs)
        self.pm = pm
        plugins: list[tuple[str, object]] = []
        seen = set()
        for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP),
                         key=lambda e: e.name):
            if ep.name in seen:  # the same distribution seen twice on sys.path
                continue
            seen.add(ep.name)
            try:
                module = ep.load()
                pm.register(module, name=ep.name)
            except Exception as exc:
                tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
                self.errors.append(MethodInfo(ep.name, plugin=ep.name,
                                              error=f"failed to load {ep.value!r}: {tb}"))
                continue
            plugins.append((ep.name, module))
        for name, obj in self.extra:
            try:
                pm.register(obj, name=name)
            except Exception as exc:
                self.errors.append(MethodInfo(name, plugin=name, error=f"failed to register: {exc}"))
                continue
            plugins.append((name, obj))
        for name, obj in plugins:
            others = [p for n, p in plugins if n != name]
            caller = pm.subset_hook_caller("cvxlens_register_methods", remove_plugins=others)
            self._register_from(name, caller)
        self.loaded = True

    def ensure(self) -> None:
        if not self.loaded:
            self.load()


_REGISTRY = _Registry()


def _check_method_class(cls) -> str | None:
    if not (isinstance(cls, type) and issubclass(cls, Method)):
        return f"registered object {cls!r} is not a cvxlens.Method subclass"
    if not isinstance(cls.name, str) or not cls.name:
        return f"{cls.__name__} has no name"
    if not isinstance(cls.capabilities, Capabilities):
        return f"{cls.__name__}.capabilities must be a cvxlens.Capabilities"
    if cls.solve is Method.solve:
        return f"{cls.__name__} does not implement solve()"
    return None


def reload_plugins() -> None:
    """Forget what was loaded and load the entry points (and registered objects) again."""
    _REGISTRY.load()


def register_plugin(obj, name: str | None = None) -> None:
    """Register an in-process plugin object (module or instance with a ``cvxlens_register_methods``
    hookimpl), e.g. from a notebook or a test. Entry points remain the normal way."""
    _REGISTRY.extra.append((name or getattr(obj, "__name__", repr(obj)), obj))
    _REGISTRY.load()


def unregister_plugin(name: str) -> None:
    """Remove an in-process plugin registered with :func:`register_plugin`."""
    _REGISTRY.extra = [(n, o) for n, o in _REGISTRY.extra if n != name]
    _REGISTRY.load()


def list_methods(include_errors: bool = True) -> list[MethodInfo]:
    """Every registered method, sorted by name, followed by broken plugins (``error`` set)."""
    _REGISTRY.ensure()
    out = [_REGISTRY.methods[k] for k in sorted(_REGISTRY.methods)]
    if include_errors:
        out += list(_REGISTRY.errors)
    return out


def plugin_errors() -> list[MethodInfo]:
    """Plugins that could not be loaded, with their errors."""
    _REGISTRY.ensure()
    return list(_REGISTRY.errors)


def get_method(name: str) -> type:
    """The Method subclass registered under ``name``.

    Raises
    ------
    UnknownMethodError
        If no method has that name; the message lists the available ones (and says when a
        plugin of that name failed to load).
    """
    _REGISTRY.ensure()
    if name in _REGISTRY.methods:
        return _REGISTRY.methods[name].cls
    broken = [e for e in _REGISTRY.errors if e.name == name or e.plugin == name]
    hint = f"; plugin {name!r} failed to load: {broken[0].error}" if broken else ""
    avail = ", ".join(sorted(_REGISTRY.methods)) or "(none)"
    raise UnknownMethodError(f"unknown method {name!r}; available methods: {avail}{hint}")
