"""The architecture as a test: every import of the project points down the layers of pyproject.toml.

The contract (``[tool.xdecimate.layers]``): packages in layers from the top down; a module may
import its own package and the packages of lower layers, never a higher layer nor a sibling of its
own layer; the golden model imports numpy and the standard library only.  Every import statement
counts, those inside functions too.  The checker is tested on planted violations so that it cannot
pass by seeing nothing.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


@dataclass(frozen=True)
class Contract:
    order: tuple[tuple[str, ...], ...]
    external: dict[str, frozenset[str]]

    @classmethod
    def from_pyproject(cls, doc: dict) -> Contract:
        table = doc["tool"]["xdecimate"]["layers"]
        return cls(tuple(tuple(layer) for layer in table["order"]),
                   {k: frozenset(v) for k, v in table.get("external", {}).items()})

    @property
    def packages(self) -> list[str]:
        return [p for layer in self.order for p in layer]

    def owner(self, module: str) -> str | None:
        """The contract package that claims ``module`` (longest prefix), or None."""
        best = None
        for pkg in self.packages:
            if (module == pkg or module.startswith(pkg + ".")) and \
                    (best is None or len(pkg) > len(best)):
                best = pkg
        return best

    def level(self, pkg: str) -> int:
        return next(i for i, layer in enumerate(self.order) if pkg in layer)


def project_sources(root: Path = ROOT) -> dict[str, Path]:
    """Module name -> file, for every .py of the packages mapped in pyproject's package-dir."""
    out = {}
    for pkg, folder in PYPROJECT["tool"]["setuptools"]["package-dir"].items():
        for path in sorted((root / folder).rglob("*.py")):
            rel = path.relative_to(root / folder).with_suffix("").parts
            if rel[-1] == "__init__":
                rel = rel[:-1]
            out[".".join((pkg, *rel))] = path
    return out


def imports_of(module: str, source: str, *, is_package: bool) -> list[tuple[int, str]]:
    """(line, imported module) for every import in ``source``, relative ones resolved."""
    base = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[:len(base) - node.level + 1]
                target = ".".join(anchor + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            found += [(node.lineno, f"{target}.{a.name}") for a in node.names if a.name != "*"]
    return found


def violations(sources: dict[str, str], contract: Contract,
               packages: frozenset[str] = frozenset()) -> list[str]:
    """Every import of ``sources`` (module -> text) that breaks ``contract``, as readable lines."""
    out: list[str] = []
    for module, text in sorted(sources.items()):
        mine = contract.owner(module)
        if mine is None:
            out.append(f"{module}: belongs to no layer of the contract")
            continue
        allowed_ext = contract.external.get(mine)
        for line, target in imports_of(module, text, is_package=module in packages):
            top = target.split(".")[0]
            if top != "xdecimate":
                if allowed_ext is not None and top not in sys.stdlib_module_names \
                        and top not in allowed_ext and top != "__future__":
                    msg = (f"{module}:{line} imports {top}: {mine} may import only the "
                           f"standard library and {sorted(allowed_ext)}")
                    if msg not in out:
                        out.append(msg)
                continue
            theirs = contract.owner(target)
            if theirs is None or theirs == mine:
                continue
            i, j = contract.level(mine), contract.level(theirs)
            if j < i:
                msg = f"{module}:{line} imports {theirs}: upwards ({mine} is below it)"
            elif j == i:
                msg = (f"{module}:{line} imports {theirs}: sideways ({mine} shares its layer "
                       f"and must stay independent of it)")
            else:
                continue
            if msg not in out:  # `from pkg import a, b` names pkg, pkg.a, pkg.b: one line each
                out.append(msg)
    return out


CONTRACT = Contract.from_pyproject(PYPROJECT)


def test_every_import_points_down():
    files = project_sources()
    packages = frozenset(m for m, p in files.items() if p.name == "__init__.py")
    found = violations({m: p.read_text() for m, p in files.items()}, CONTRACT, packages)
    assert found == [], "\n".join(found)


def test_every_contract_package_exists_and_has_modules():
    modules = project_sources()
    assert len(modules) > 50
    for pkg in CONTRACT.packages:
        assert pkg in modules, f"{pkg} is in the layer contract but not in the tree"
        assert any(m.startswith(pkg + ".") for m in modules), f"{pkg} has no modules"


def test_sw_is_split_into_its_eight_layers():
    """sw/ holds sub-packages only: every module lives in one of the eight layers."""
    stray = [m for m in project_sources() if m.startswith("xdecimate.sw.")
             and m.split(".")[2] not in ("model", "iss", "kernels", "bench", "net", "deploy",
                                         "train", "approx")]
    assert stray == []


PLANTED = {
    "upward": ("xdecimate.sw.iss.iss", "from ..kernels import toolchain\n", "upwards"),
    "upward, lazy": ("xdecimate.sw.model.quant",
                     "def f():\n    from xdecimate.sw.iss import isa\n", "upwards"),
    "upward, absolute": ("xdecimate.hw.csr", "import xdecimate.synth.area\n", "upwards"),
    "sideways": ("xdecimate.sim.cv32e40p", "from ..sw.kernels import harness\n", "sideways"),
    "net imports deploy": ("xdecimate.sw.net.golden", "from ..deploy import program\n",
                           "upwards"),
    "sideways, relative from a package": ("xdecimate.sw.iss", "from ...hw import configs\n",
                                          "sideways"),
    "model imports amaranth": ("xdecimate.sw.model.kernels", "from amaranth import Signal\n",
                               "standard library"),
    "model imports a project-external helper": ("xdecimate.sw.model.prune",
                                                "import scipy.sparse\n", "standard library"),
}


@pytest.mark.parametrize("case", PLANTED)
def test_checker_rejects_planted_violations(case):
    module, source, words = PLANTED[case]
    is_package = module == "xdecimate.sw.iss"
    sources = {"xdecimate.sw.kernels.toolchain": "", "xdecimate.sw.iss.isa": "",
               "xdecimate.synth.area": "", "xdecimate.sw.kernels.harness": "",
               "xdecimate.hw.configs": "", module: source}
    found = violations(sources, CONTRACT, frozenset({module}) if is_package else frozenset())
    assert len(found) == 1, found
    assert words in found[0], found


def test_checker_accepts_downward_and_own_package_imports():
    sources = {
        "xdecimate.sw.bench.suite": "from ..kernels import harness as ck\nfrom . import randprog\n",
        "xdecimate.sw.bench.randprog": "import random\n",
        "xdecimate.sw.kernels.harness": "from ..iss import isa\nfrom ..model import kernels\n",
        "xdecimate.sw.iss.isa": "from ..model import xdec_spec\n",
        "xdecimate.sw.model.kernels": "import numpy as np\nfrom .quant import Requant\n",
        "xdecimate.sw.model.quant": "from dataclasses import dataclass\n",
        "xdecimate.sw.model.xdec_spec": "", "xdecimate.hw.csr":
            "from amaranth.hdl import Module\nfrom xdecimate.sw.model import xdec_spec\n",
        "xdecimate.cli": "from xdecimate.sw.bench import suite\n",
    }
    assert violations(sources, CONTRACT) == []
