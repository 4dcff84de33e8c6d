"""Code and its `include_spec/` contracts stay in step.

For every `include_spec/<subsystem>/<module>.pyi`, the module `lightnvr.<subsystem>.<module>`
must define every public name the contract declares, with the same parameters (names, kinds,
which have defaults), the same annotations and return types (compared as written, module
prefixes dropped), the same literal defaults (a stub's `...` stands for any default) for
functions and methods, and every declared class attribute. The other way round, every public
function and class the module itself defines must be in its contract.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path
from types import ModuleType

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


_PREFIX = re.compile(r"\b(?:[A-Za-z_][A-Za-z0-9_]*\.)+([A-Za-z_][A-Za-z0-9_]*)")
# a @contextmanager generator is annotated Iterator[X] in code, AbstractContextManager[X] in
# its contract (what callers get): the same promise
_CONTEXT_MANAGER = re.compile(r"^(?:AbstractContextManager|ContextManager)\[(.*)\]$")


def _norm(annotation: object) -> str:
    """An annotation as comparable text: no spaces or quotes, no module prefixes."""
    if isinstance(annotation, str):
        text = annotation
    elif isinstance(annotation, type):
        text = annotation.__qualname__
    else:
        text = repr(annotation)
    text = _PREFIX.sub(r"\1", text.replace(" ", "").replace("'", "").replace('"', ""))
    return text.replace("Optional[", "Union[None,") if "Optional[" in text else text


def _same_annotation(stub: ast.expr, code: object, wrapped: bool) -> bool:
    want, have = _norm(ast.unparse(stub)), _norm(code)
    if want == have:
        return True
    cm = _CONTEXT_MANAGER.match(want)
    return bool(wrapped and cm and have in (f"Iterator[{cm.group(1)}]",
                                            f"Generator[{cm.group(1)},None,None]"))


def _stub_defaults(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, ast.expr]:
    a = fn.args
    positional = a.posonlyargs + a.args
    out = dict(zip([p.arg for p in positional[len(positional) - len(a.defaults):]],
                   a.defaults))
    out.update({arg.arg: d for arg, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None})
    return out


def _check_types(where: str, stub: ast.FunctionDef | ast.AsyncFunctionDef, obj: object,
                 errors: list[str]) -> None:
    """Annotations, return type and literal defaults of `obj` against its contract."""
    try:
        sig = inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return
    wrapped = hasattr(obj, "__wrapped__")
    a = stub.args
    annotated = {x.arg: x.annotation for x in a.posonlyargs + a.args + a.kwonlyargs
                 + [v for v in (a.vararg, a.kwarg) if v is not None]}
    defaults = _stub_defaults(stub)
    for p in sig.parameters.values():
        want = annotated.get(p.name)
        if want is not None:
            if p.annotation is inspect.Parameter.empty:
                errors.append(f"{where}({p.name}): annotated in the contract only")
            elif not _same_annotation(want, p.annotation, wrapped):
                errors.append(f"{where}({p.name}): contract {ast.unparse(want)} "
                              f"!= code {p.annotation}")
        default = defaults.get(p.name)
        if default is None or (isinstance(default, ast.Constant) and default.value is ...):
            continue
        try:
            value = ast.literal_eval(default)
        except ValueError:
            continue  # a name or a call: compared by presence only
        if p.default is not inspect.Parameter.empty and p.default != value:
            errors.append(f"{where}({p.name}): default {value!r} in the contract, "
                          f"{p.default!r} in code")
    if stub.returns is not None:
        if sig.return_annotation is inspect.Signature.empty:
            errors.append(f"{where}: return type in the contract only")
        elif not _same_annotation(stub.returns, sig.return_annotation, wrapped):
            errors.append(f"{where}: returns {ast.unparse(stub.returns)} in the contract, "
                          f"{sig.return_annotation} in code")


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
        return
    _check_types(where, stub, obj, errors)


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


def _declared(tree: ast.Module) -> set[str]:
    """Every name the contract declares at module level (imports count: a re-export)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _undeclared(tree: ast.Module, module: ModuleType) -> list[str]:
    """Public functions and classes `module` defines that its contract does not declare."""
    declared = _declared(tree)
    return sorted(name for name, value in vars(module).items()
                  if not name.startswith("_") and name not in declared
                  and (inspect.isfunction(value) or inspect.isclass(value))
                  and getattr(value, "__module__", None) == module.__name__)


@pytest.mark.parametrize("pyi", CONTRACTS, ids=lambda p: str(p.relative_to(SPEC)))
def test_every_public_name_is_in_the_contract(pyi: Path) -> None:
    """The reverse direction: a public function or class added to the code is added to its
    contract too (or made private with a leading underscore)."""
    module = importlib.import_module(_module_name(pyi))
    missing = _undeclared(ast.parse(pyi.read_text(), filename=str(pyi)), module)
    assert not missing, f"{pyi.relative_to(ROOT)} lacks public names of {module.__name__}: " \
                        f"{missing}"


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
    retyped = ast.parse(source)
    fn = _first_compared_function(retyped)
    assert fn is not None
    if fn.returns is not None:  # a different return type is noticed too
        fn.returns = ast.Name("ContractCanaryType")
        after = set(_contract_errors(retyped, module))
        assert any(fn.name in e and "ContractCanaryType" in e for e in after - before), (
            f"changing the return type of {fn.name} in {pyi.name} went unnoticed")


def test_contracts_exist_for_every_subsystem() -> None:
    """The glob finds the contract tree: one or more contracts for each subsystem."""
    subsystems = {p.relative_to(SPEC).parts[0] for p in CONTRACTS}
    assert {"core", "database", "storage", "video", "web"} <= subsystems, subsystems


# Imported across subsystems while its contract is being written with the module itself;
# remove the entry when the .pyi lands.
PENDING_CONTRACTS: set[str] = set()


def _imports_across_subsystems() -> dict[str, set[str]]:
    """`<subsystem>.<module>` -> the files outside that subsystem which import it."""
    package = ROOT / "lightnvr"
    used: dict[str, set[str]] = {}
    for f in package.rglob("*.py"):
        parts = f.relative_to(package).parts
        own = parts[0] if len(parts) > 1 else ""  # lightnvr/app.py, cli.py: the daemon itself
        for node in ast.walk(ast.parse(f.read_text(), filename=str(f))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                dotted = name.split(".")
                if dotted[0] != "lightnvr" or len(dotted) < 3 or dotted[1] == own:
                    continue
                if package.joinpath(*dotted[1:]).with_suffix(".py").exists():
                    used.setdefault(".".join(dotted[1:]), set()).add(str(f.relative_to(ROOT)))
    return used


def test_every_module_used_by_another_subsystem_has_a_contract() -> None:
    used = _imports_across_subsystems()
    assert "storage.manager" in used and "video.stream_manager" in used  # the scan works
    missing = {module: sorted(users) for module, users in used.items()
               if module not in PENDING_CONTRACTS
               and not SPEC.joinpath(*module.split(".")).with_suffix(".pyi").exists()}
    assert not missing, f"modules used across subsystems without include_spec contract: {missing}"
