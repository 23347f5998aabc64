"""Start-up loads what a verb needs and no more, and loading lazily changes nothing a user sees:
`rebuildx --help` lists each verb with its own command's line, every verb still runs, and
`rebuildx.api` serves every name it lists."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click
import pytest

from rebuildx import api
from rebuildx.cli import VERBS, app, verb_command


def _modules_after(*args: str) -> set[str]:
    """The modules a real `rebuildx ARGS` process has loaded when the verb returns."""
    code = ("import sys, runpy\n"
            f"sys.argv = ['rebuildx', *{list(args)!r}]\n"
            "try:\n    runpy.run_module('rebuildx', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return set(done.stderr.split())


@pytest.mark.parametrize("name", sorted(VERBS))
def test_each_help_line_is_its_commands_own(name):
    assert VERBS[name][2] == verb_command(name).get_short_help_str(limit=10**6)


def test_help_lists_the_same_as_an_eager_group():
    """The listing VERBS draws equals click's own, drawn from every imported command."""
    eager = click.Group("rebuildx", commands={n: verb_command(n) for n in VERBS})
    for width in (60, 80, 200):
        lazy_fmt, eager_fmt = click.HelpFormatter(width=width), click.HelpFormatter(width=width)
        ctx = click.Context(app)
        app.format_commands(ctx, lazy_fmt)
        click.Group.format_commands(eager, click.Context(eager), eager_fmt)
        assert lazy_fmt.getvalue() == eager_fmt.getvalue() and "verify" in lazy_fmt.getvalue()


def test_help_loads_no_verb_and_no_library():
    loaded = _modules_after("--help")
    assert "rebuildx.cli" in loaded
    assert not {m for m in loaded if m.startswith(("rebuildx.cli.", "rebuildx.api", "rebuildx.stagex"))}


@pytest.mark.parametrize("history", [False, True])
def test_plan_loads_its_verb_alone(fixture_tree, history):
    """With a state DB (recorded build times weigh the order) as without one."""
    if history:
        from rebuildx.state.db import connect
        from rebuildx.workspace import Workspace

        connect(Workspace(fixture_tree.root)).close()
        assert (fixture_tree.root / ".rebuildx" / "state.sqlite").is_file()
    loaded = _modules_after("plan", "--json", "--tree", str(fixture_tree.root))
    assert {"rebuildx.cli.plan", "rebuildx.api.planning"} <= loaded
    assert ("rebuildx.state.history" in loaded) == history
    heavy = {"rebuildx.cli.verify", "rebuildx.api.verifying", "rebuildx.api.trusting", "httpx", "rich",
             "rebuildx.engine.buildx", "jinja2", "logging"}
    assert not heavy & loaded


def test_every_verb_is_reachable_by_name():
    for name in VERBS:
        done = subprocess.run([sys.executable, "-m", "rebuildx", name, "--help"], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0 and done.stdout.startswith(f"Usage: rebuildx {name}"), (name, done.stderr)


def test_plan_output_unchanged_by_lazy_loading(fixture_tree):
    done = subprocess.run([sys.executable, "-m", "rebuildx", "plan", "--json", "--tree", str(fixture_tree.root)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    eager = api.plan(api.open_tree(fixture_tree.root)).plan.to_json()
    assert json.loads(done.stdout) == eager


def test_api_serves_every_name_it_lists():
    assert sorted(api.__all__) == sorted(api._WHERE)
    for name in api.__all__:
        assert getattr(api, name) is not None
    assert set(api.__all__) <= set(dir(api))
    with pytest.raises(AttributeError, match="no_such_use_case"):
        api.no_such_use_case  # noqa: B018


def test_api_names_stay_functions_not_modules():
    """A submodule named like a use case would shadow it once imported (`api.build` the module)."""
    import importlib
    import types

    for module in set(api._WHERE.values()):
        importlib.import_module(f"rebuildx.api.{module}")
    for name in api.__all__:
        assert not isinstance(getattr(api, name), types.ModuleType), name


def test_api_still_serves_what_api_py_served():
    """Names api.py imported and a caller could take from it (`except api.RebuildxError`)."""
    import importlib

    for name, module in api._ALSO.items():
        assert getattr(api, name) is getattr(importlib.import_module(module), name), name
        assert name in dir(api) and name not in api.__all__
    from rebuildx.api import RebuildxError, Tree  # noqa: F401


def test_a_type_checker_sees_every_name_and_no_other(tmp_path):
    """mypy types `api.plan` as the function and flags a misspelt use case, as with api.py."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    user = tmp_path / "user.py"
    user.write_text("from rebuildx import api\nfrom rebuildx.api import PlanResult, RebuildxError, Tree\n\n"
                    "def plan_of(tree: Tree) -> PlanResult:\n    return api.plan(tree, only=1.5)\n\n"
                    "api.verfy\n")
    done = subprocess.run([str(Path(sys.executable).with_name("mypy")), "--strict", "--follow-imports=silent",
                           "--cache-dir", str(tmp_path / "cache"), "--no-error-summary", str(user)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "MYPYPATH": str(root / "src")})
    errors = sorted(line.split(": error: ")[1] for line in done.stdout.splitlines() if ": error: " in line)
    assert errors == ['Argument "only" to "plan" has incompatible type "float"; expected "bool"  [arg-type]',
                      'Module has no attribute "verfy"; maybe "verify"?  [attr-defined]'], done.stdout + done.stderr
