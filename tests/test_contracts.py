"""Code and its `include_spec/` contracts stay in step.

For every `include_spec/<subsystem>/<module>.pyi`, the module `lightnvr.<subsystem>.<module>`
must define every public name the contract declares, with the same parameters (names, kinds,
which have defaults) for functions and methods, and every declared class attribute.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "include_spec"
CONTRACTS = sorted(SPEC.rglob("*.pyi"))


def _module_name(pyi: Path) -> str:
    rel = pyi.relative_to(SPEC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["lightnvr", *parts])


def _stub_params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[tuple[str, str, bool]]:
    a = fn.args
    out: list[tuple[str, str, bool]] = []
    positional = a.posonlyargs + a.args
    n_defaults = len(a.defaults)
    for i, arg in enumerate(positional):
        kind = "POSITIONAL_ONLY" if arg in a.posonlyargs else "POSITIONAL_OR_KEYWORD"
        out.append((arg.arg, kind, i >= len(positional) - n_defaults))
    if a.vararg:
        out.append((a.vararg.arg, "VAR_POSITIONAL", False))
    for arg, default in zip(a.kwonlyargs, a.kw_defaults):
        out.append((arg.arg, "KEYWORD_ONLY", default is not None))
    if a.kwarg:
        out.append((a.kwarg.arg, "VAR_KEYWORD", False))
    return out


def _runtime_params(obj: object) -> list[tuple[str, str, bool]]:
    sig = inspect.signature(obj)  # type: ignore[arg-type]
    return [
        (p.name, p.kind.name, p.default is not inspect.Parameter.empty)
        for p in sig.parameters.values()
    ]


def _is_property(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(
        (isinstance(d, ast.Name) and d.id in {"property", "cached_property"})
        or (isinstance(d, ast.Attribute) and d.attr in {"setter", "getter"})
        for d in fn.decorator_list
    )


def _check_function(where: str, stub: ast.FunctionDef | ast.AsyncFunctionDef, obj: object,
                    errors: list[str], drop_self: bool) -> None:
    if not callable(obj):
        errors.append(f"{where}: not callable")
        return
    expected = _stub_params(stub)
    if drop_self and expected:
        expected = expected[1:]  # classmethods: the bound method hides `cls`
    try:
        actual = _runtime_params(obj)
    except (TypeError, ValueError):
        return  # builtins without signatures cannot be compared
    if expected != actual:
        errors.append(f"{where}: contract {expected} != code {actual}")


def _check_class(where: str, stub: ast.ClassDef, cls: type, errors: list[str]) -> None:
    fields = getattr(cls, "__dataclass_fields__", {})
    annotations: dict[str, object] = {}
    for klass in reversed(cls.__mro__):
        annotations.update(getattr(klass, "__annotations__", {}))
    for node in stub.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = node.name
            if name.startswith("_") and name != "__init__":
                continue
            if not hasattr(cls, name):
                errors.append(f"{where}.{name}: missing in code")
                continue
            if _is_property(node):
                continue
            is_class = isinstance(inspect.getattr_static(cls, name), classmethod)
            _check_function(f"{where}.{name}", node, getattr(cls, name), errors,
                            drop_self=is_class)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name = node.target.id
            if name.startswith("_"):
                continue
            if name not in fields and name not in annotations and not hasattr(cls, name):
                errors.append(f"{where}.{name}: attribute missing in code")


def _contract_errors(tree: ast.Module, module: object) -> list[str]:
    """Every way `module` departs from the contract `tree` (empty: in step)."""
    errors: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name.startswith("_"):
                continue
            if not hasattr(module, node.name):
                errors.append(f"{node.name}: missing in code")
                continue
            _check_function(node.name, node, getattr(module, node.name), errors, drop_self=False)
        elif isinstance(node, ast.ClassDef):
            if node.name.startswith("_"):
                continue
            cls = getattr(module, node.name, None)
            if not isinstance(cls, type):
                errors.append(f"{node.name}: class missing in code")
                continue
            _check_class(node.name, node, cls, errors)
        elif isinstance(node, (ast.AnnAssign, ast.Assign)):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            for t in targets:
                if not isinstance(t, ast.Name) or t.id.startswith("_"):
                    continue
                if not hasattr(module, t.id):
                    errors.append(f"{t.id}: missing in code")
    return errors


@pytest.mark.parametrize("pyi", CONTRACTS, ids=lambda p: str(p.relative_to(SPEC)))
def test_code_matches_contract(pyi: Path) -> None:
    module = importlib.import_module(_module_name(pyi))
    tree = ast.parse(pyi.read_text(), filename=str(pyi))
    errors = _contract_errors(tree, module)
    assert not errors, f"{pyi.relative_to(ROOT)} vs {module.__name__}:\n" + "\n".join(errors)


def _first_compared_function(tree: ast.Module) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The first public function or method with a parameter the checker compares."""
    nodes: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            nodes.extend(node.body)
        else:
            nodes.append(node)
    for node in nodes:
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and not node.name.startswith("_") and not _is_property(node)
                and not any(isinstance(d, ast.Name) and d.id == "staticmethod"
                            for d in node.decorator_list)):
            args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            if len(args) > 1:
                return node
    return None


@pytest.mark.parametrize("pyi", CONTRACTS, ids=lambda p: str(p.relative_to(SPEC)))
def test_every_contract_is_checked(pyi: Path) -> None:
    """The checker really compares this contract: a name the code lacks and a renamed
    parameter are both reported (so a contract that silently checks nothing fails here)."""
    module = importlib.import_module(_module_name(pyi))
    source = pyi.read_text()
    tree = ast.parse(source, filename=str(pyi))
    missing = ast.parse(source + "\ndef contract_canary_not_in_code() -> None: ...\n")
    assert "contract_canary_not_in_code: missing in code" in _contract_errors(missing, module)
    renamed = ast.parse(source)
    fn = _first_compared_function(renamed)
    if fn is None:
        return  # only names and attributes: the canary above covers it
    args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
    args[-1].arg += "_renamed"
    before = set(_contract_errors(tree, module))
    after = set(_contract_errors(renamed, module))
    assert any(fn.name in e and "_renamed" in e for e in after - before), (
        f"renaming {fn.name}({args[-1].arg}) in {pyi.name} went unnoticed")


def test_contracts_exist_for_every_subsystem() -> None:
    """The glob finds the contract tree: one or more contracts for each subsystem."""
    subsystems = {p.relative_to(SPEC).parts[0] for p in CONTRACTS}
    assert {"core", "database", "storage", "video", "web"} <= subsystems, subsystems
