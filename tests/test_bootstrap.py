"""Every external tool that scripts/bootstrap.sh installs is present.

Some tests skip when a tool is missing (so that a partial checkout still runs); this test makes
a broken bootstrap fail loudly instead of turning into silent skips.
"""

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Commands the test suite runs, and the apt package (in scripts/bootstrap.sh) providing each.
TOOLS = {
    "riscv64-unknown-elf-gcc": "gcc-riscv64-unknown-elf",
    "qemu-riscv32": "qemu-user",
    "llvm-mc-19": "llvm-19",
    "iverilog": "iverilog",
    "vvp": "iverilog",
    "sta": "opensta",
    "g++": "build-essential",
    "make": "build-essential",
}


@pytest.mark.parametrize(("tool", "package"), TOOLS.items())
def test_tool_installed_by_bootstrap(tool, package):
    script = re.sub(r"#.*", "", (ROOT / "scripts/bootstrap.sh").read_text())
    packages = re.search(r"APT_PACKAGES=\((.*?)\)", script, re.S).group(1).split()
    assert package in packages, f"{package} not in APT_PACKAGES of scripts/bootstrap.sh"
    assert shutil.which(tool), f"{tool} (apt package {package}) missing: run make bootstrap"
