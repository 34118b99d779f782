"""The curated public surface: ``__all__`` is complete, importable and documented."""

from __future__ import annotations

import importlib
import inspect

import pytest

import earthscope_sdk_async

MODULES = [
    "earthscope_sdk_async",
    "earthscope_sdk_async.testing",
    "earthscope_sdk_async.compat",
    "earthscope_sdk_async.compat.auth",
    "earthscope_sdk_async.compat.auth.auth_flow",
    "earthscope_sdk_async.compat.auth.device_code_flow",
    "earthscope_sdk_async.compat.auth.client_credentials_flow",
    "earthscope_sdk_async.compat.user",
    "earthscope_sdk_async.compat.user.user",
]


@pytest.mark.parametrize("module_name", MODULES)
def test_all_names_exist_and_are_documented(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert module.__doc__
    for name in module.__all__:
        obj = getattr(module, name)
        if name.startswith("__") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        assert inspect.getdoc(obj), f"{module_name}.{name} has no docstring"


@pytest.mark.parametrize("module_name", MODULES)
def test_all_is_complete(module_name: str) -> None:
    module = importlib.import_module(module_name)
    public = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_") and not inspect.ismodule(v) and n != "annotations"
    }
    assert public <= set(module.__all__), public - set(module.__all__)


def test_private_modules_are_private() -> None:
    import pkgutil

    for info in pkgutil.iter_modules(earthscope_sdk_async.__path__):
        assert info.name.startswith("_") or info.name in {"testing", "compat"}, info.name


def test_type_checking_imports_match_the_lazy_table() -> None:
    """``__init__``'s one table (``_HOMES``) and the literal imports static type checkers
    read under ``TYPE_CHECKING`` name the same names from the same modules."""
    import ast

    source = inspect.getsource(earthscope_sdk_async)
    literal: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "typing.TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom)
                for alias in stmt.names:
                    assert alias.asname == alias.name  # the explicit re-export form
                    literal[alias.name] = "." * stmt.level + (stmt.module or "")
    assert literal == earthscope_sdk_async._HOMES
    assert sorted(earthscope_sdk_async.__all__) == sorted([*literal, "__version__"])
