"""The architecture: each layer of nnviz imports only the layers below it.

core < teaching < plots < files < ui, with the command line beside ui: it may use the core, the
teaching and the files, but never Plotly's figures or Streamlit.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "nnviz"
ORDER = ["core", "teaching", "plots", "files", "ui"]
MAY_IMPORT = {layer: set(ORDER[: k + 1]) for k, layer in enumerate(ORDER)}
MAY_IMPORT["cli"] = {"core", "teaching", "files"}
MAY_IMPORT["webapp"] = {"ui"}


def imported_layers(path: Path) -> set[str]:
    """The layers of nnviz that a module imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "nnviz" and len(parts) > 1 and parts[1] in MAY_IMPORT:
                found.add(parts[1])
    return found


def layer_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


MODULES = sorted(
    p for p in PACKAGE.rglob("*.py") if layer_of(p) in MAY_IMPORT and p.name != "__init__.py"
)


def test_every_module_has_a_layer():
    loose = [p.name for p in PACKAGE.glob("*.py") if p.stem not in {"__init__", "__main__", "cli"}]
    assert loose == []
    assert {layer_of(p) for p in MODULES} == set(MAY_IMPORT)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_the_layers_below_it(path):
    layer = layer_of(path)
    assert imported_layers(path) <= MAY_IMPORT[layer]


def test_the_core_needs_neither_plotly_nor_streamlit():
    for path in PACKAGE.joinpath("core").glob("*.py"):
        tree = ast.parse(path.read_text())
        roots = {
            a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import)
            for a in n.names
        } | {
            n.module.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module
        }
        assert not roots & {"plotly", "streamlit", "pandas", "kaleido"}, path.name
