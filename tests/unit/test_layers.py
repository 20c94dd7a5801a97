"""The house's import rules (docs/architecture.md): the pure core imports no process code,
no entrance imports another entrance, and the shared intake imports none of them."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTRANCES = ("tracker.api", "tracker.jt808", "tracker.jt809")
# Pure codec modules one protocol borrows from another: JT/T 809-2019 carries JT/T 808
# location bodies, and both frame a byte stream alike. No server, session or handler.
SHARED_CODEC = {"tracker.jt808.location", "tracker.jt808.errors", "tracker.jt808.framing"}


def imports_of(package: str) -> dict[str, set[str]]:
    """Every module of `package` and the modules it imports (absolute names)."""
    out = {}
    for path in (ROOT / package.replace(".", "/")).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        out[str(path.relative_to(ROOT))] = names
    return out


def offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(f"{module} imports {name}" for module, names in imports_of(package).items() for name in names
                  if name not in SHARED_CODEC and any(name == f or name.startswith(f + ".") for f in forbidden))


@pytest.mark.parametrize("entrance", ENTRANCES)
def test_no_entrance_imports_another(entrance):
    if not (ROOT / entrance.replace(".", "/")).exists():
        pytest.skip(f"{entrance} is not in this tree")
    assert offending(entrance, tuple(e for e in ENTRANCES if e != entrance)) == []


def test_the_intake_imports_no_entrance():
    assert offending("tracker.intake", ENTRANCES) == []


@pytest.mark.parametrize("core", ["geofence", "streams", "filling_stations", "incidents", "checkpoints"])
def test_the_pure_core_imports_no_process_code(core):
    assert offending(core, ("tracker", "aiohttp", "asyncpg")) == []


def test_the_worker_loop_calls_only_its_handlers_protocol():
    """The loop is given a handler (docs/architecture.md): it may use the `Handler` methods
    and names, nothing else of it, and handlers reach the member only through `Partitions`."""
    from tracker.workers.loop import Handler

    protocol = {name for name in vars(Handler) if not name.startswith("_")} | {"topic", "group"}
    tree = ast.parse((ROOT / "tracker/workers/loop.py").read_text())
    used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute) and node.value.attr == "handler"}
    assert used and used <= protocol, used - protocol
    handlers = Path(ROOT / "tracker/workers").glob("*.py")
    reaching = sorted(f"{p.name}: {node.attr}" for p in handlers if p.name != "loop.py"
                      for node in ast.walk(ast.parse(p.read_text()))
                      if isinstance(node, ast.Attribute) and node.attr.startswith("_")
                      and isinstance(node.value, ast.Name) and node.value.id == "partitions")
    assert reaching == []


def test_every_package_of_the_product_is_installed():
    """`make run` runs the installed `hazmat`, not the checkout: a top-level package left out
    of pyproject's list works in the tests (the repository is on their path) and fails at
    the first import in a fresh clone (checkpoints/ did)."""
    import fnmatch
    import tomllib

    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name not in ("tests", "bench"))
    assert "tracker" in packages
    assert [p for p in packages if not any(fnmatch.fnmatch(p, pattern) for pattern in include)] == []
