"""Registry through real entry points: a broken third-party plugin is listed with its error and
never stops the others (built-ins and a working third-party plugin)."""

import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cvxlens
from cvxlens import cli

import _toy_methods as toy

TESTS = Path(__file__).resolve().parent

BROKEN_IMPORT = "import numpy\nraise ImportError('cvxlens_broken_demo needs [libfoo] >= 9')\n"
BROKEN_HOOK = (
    "import cvxlens\n\n"
    "@cvxlens.hookimpl\n"
    "def cvxlens_register_methods(register):\n"
    "    raise RuntimeError('hook exploded')\n"
)
NOT_A_METHOD = (
    "import cvxlens\n\n"
    "@cvxlens.hookimpl\n"
    "def cvxlens_register_methods(register):\n"
    "    register(dict)\n"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A site dir with 4 throwaway distributions: working toy methods, a plugin whose import
    fails, one whose hook raises, one that registers a non-Method."""
    root = tmp_path_factory.mktemp("site")
    toy.write_dist_info(root, "cvxlens_toy_ok", {"toyok": "_toy_methods"})
    toy.write_dist_info(root, "cvxlens_broken_demo", {"broken_demo": "cvxlens_broken_demo"},
                        {"cvxlens_broken_demo": BROKEN_IMPORT})
    toy.write_dist_info(root, "cvxlens_badhook_demo", {"badhook_demo": "cvxlens_badhook_demo"},
                        {"cvxlens_badhook_demo": BROKEN_HOOK})
    toy.write_dist_info(root, "cvxlens_notmethod_demo",
                        {"notmethod_demo": "cvxlens_notmethod_demo"},
                        {"cvxlens_notmethod_demo": NOT_A_METHOD})
    return root


@pytest.fixture
def on_path(site):
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    cvxlens.reload_plugins()
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        for mod in ("cvxlens_broken_demo", "cvxlens_badhook_demo", "cvxlens_notmethod_demo"):
            sys.modules.pop(mod, None)
        importlib.invalidate_caches()
        cvxlens.reload_plugins()


def test_broken_plugins_are_listed_and_others_work(on_path):
    infos = cvxlens.list_methods()
    errors = {m.plugin: m.error for m in infos if m.error}
    assert "[libfoo] >= 9" in errors["broken_demo"]
    assert "hook exploded" in errors["badhook_demo"]
    assert "not a cvxlens.Method subclass" in errors["notmethod_demo"]
    names = {m.name for m in infos if m.error is None}
    assert {"toy_ridge", "toy_raise"} <= names
    # the built-ins are still there (whatever has landed) and still solve
    builtins = {m.name for m in cvxlens.list_methods(include_errors=False) if m.plugin != "toyok"}
    assert builtins
    p = cvxlens.Problem([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [1.0, 0.0, 2.0], beta=0.1)
    sol = cvxlens.solve(p, "toy_ridge")
    assert sol.objective == pytest.approx(p.objective(sol.network))
    with pytest.raises(cvxlens.UnknownMethodError, match="failed to load.*libfoo"):
        cvxlens.get_method("broken_demo")


def test_cli_methods_shows_broken_plugin(on_path, capsys):
    assert cli.main(["methods", "--json"]) == 0
    out = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    assert "libfoo" in out["broken_demo"]["error"]
    assert out["toy_ridge"]["error"] is None
    assert cli.main(["methods"]) == 0
    err = capsys.readouterr().err
    assert "broken plugin" in err and "[libfoo] >= 9" in err and "toy_ridge" in err


@pytest.mark.slow
def test_cli_methods_subprocess_with_broken_plugin(site):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(TESTS), env.get("PYTHONPATH", "")])
    p = subprocess.run([sys.executable, "-m", "cvxlens", "methods", "--json"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    out = {m["name"]: m for m in json.loads(p.stdout)}
    assert "libfoo" in out["broken_demo"]["error"]
    assert out["toy_ridge"]["error"] is None


def test_compare_is_unaffected_by_broken_plugins(on_path):
    p = cvxlens.Problem([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [1.0, 0.0, 2.0], beta=0.1)
    res = cvxlens.compare(p, methods=["toy_ridge"])
    assert res[0]["status"] == "converged"
    with pytest.raises(cvxlens.UnknownMethodError, match="broken_demo"):
        cvxlens.compare(p, methods=["broken_demo"])


# ------------------------------------------------------------------ the plugin template
TEMPLATE = TESTS.parent / "examples" / "plugin_template"


def test_plugin_template_keeps_the_contract():
    sys.path.insert(0, str(TEMPLATE / "src"))
    try:
        import cvxlens_example_plugin as mod
        cvxlens.register_plugin(mod, "example-template")
        from cvxlens.testing import check_method
        report = check_method("example_rf", width=6)
        assert report["status"] == "optimal"
    finally:
        from cvxlens.plugins import unregister_plugin
        unregister_plugin("example-template")
        sys.path.remove(str(TEMPLATE / "src"))
        sys.modules.pop("cvxlens_example_plugin", None)


@pytest.mark.slow
def test_plugin_template_installs_and_its_tests_pass(tmp_path):
    """pip-install the template (no deps) into a directory, then run the template's own tests
    in a subprocess that sees it only through its entry point."""
    target = tmp_path / "site"
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
           str(target), str(TEMPLATE)]
    if all(importlib.util.find_spec(m) is not None for m in ("setuptools", "wheel")):
        cmd.insert(4, "--no-build-isolation")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(target), env.get("PYTHONPATH", "")])
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        str(TEMPLATE / "tests")], capture_output=True, text=True, timeout=300,
                       cwd=TEMPLATE, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    p = subprocess.run([sys.executable, "-m", "cvxlens", "methods", "--json"], env=env,
                       capture_output=True, text=True, timeout=120)
    names = {m["name"]: m for m in json.loads(p.stdout)}
    assert names["example_rf"]["plugin"] == "example"
