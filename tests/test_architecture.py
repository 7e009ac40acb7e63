"""The import graph has one direction (design: data → kernels → theory | simulation → Dataset →
figure; CLI and sweeps only compose). Every import of a deeprg module, including the lazy ones
inside functions, is read from the source and checked against the rooms each room may use."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "deeprg"

# the foundation: configuration, errors, identity/provenance, schema, writers, seeds, plotting
FOUNDATION = {
    "deeprg",
    "config",
    "errors",
    "identity",
    "parallel",
    "plotting",
    "quadrature",
    "results",
    "schema",
    "seeds",
}
THEORY_AND_SIMULATION = {
    "data",
    "kernels",
    "networks",
    "bpkr",
    "sampling",
    "perceptron",
    "perceptron.replica",
    "perceptron.montecarlo",
    "perceptron.mp",
}
ALLOWED = {
    **{room: FOUNDATION for room in FOUNDATION},
    "data": FOUNDATION,
    "kernels": FOUNDATION,
    "networks": FOUNDATION | {"kernels"},
    "bpkr": FOUNDATION | {"data", "kernels"},
    "sampling": FOUNDATION | {"data", "kernels", "networks"},
    "perceptron": FOUNDATION,
    "perceptron.replica": FOUNDATION,
    "perceptron.montecarlo": FOUNDATION | {"data"},
    "perceptron.mp": FOUNDATION | {"data", "perceptron.montecarlo"},
    "experiments": FOUNDATION | THEORY_AND_SIMULATION,
    "sweep": FOUNDATION | THEORY_AND_SIMULATION | {"experiments"},
    "cli": FOUNDATION | THEORY_AND_SIMULATION | {"experiments", "sweep"},
    "__main__": {"cli"},
}


def _room(module: str) -> str:
    parts = module.split(".")[1:]
    if not parts or parts[0] == "__init__":
        return "deeprg"
    if parts[0] == "perceptron" and len(parts) > 1 and parts[1] != "__init__":
        return f"perceptron.{parts[1]}"
    return parts[0]


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m == "deeprg" or m.startswith("deeprg.")}


def test_every_room_imports_only_the_rooms_below_it():
    bad = []
    for path in SRC.rglob("*.py"):
        module = ".".join(path.with_suffix("").relative_to(SRC.parent).parts)
        room = _room(module)
        assert room in ALLOWED, f"new room {room!r} ({path}): add it to ALLOWED"
        for target in _imports(path):
            t = _room(target)
            if t != room and t not in ALLOWED[room]:
                bad.append(f"{path.relative_to(SRC.parent)}: {room} imports {target}")
    assert bad == [], bad


def test_the_checker_sees_lazy_imports(tmp_path):
    """Negative control: an import inside a function body counts."""
    p = tmp_path / "m.py"
    p.write_text("def f():\n    from deeprg.cli import main\n")
    assert _imports(p) == {"deeprg.cli"}
    assert "cli" not in ALLOWED["bpkr"]
