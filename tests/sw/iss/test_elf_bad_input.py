"""``sw/iss/elf.py`` (and the ISS's ``run_elf``, which loads through it) on bad files.

Every error names the file; a truncated ELF is an error, never a program with zeros where its
missing bytes were.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from xdecimate.sw.iss import elf as elf_file
from xdecimate.sw.iss.iss import run_elf
from xdecimate.sw.kernels import toolchain

SRC = "int main(void) { return 3; }\n"
FUNCS = {"load_elf": elf_file.load_elf, "symbols": elf_file.symbols, "iss.run_elf": run_elf}


@pytest.fixture(scope="module")
def good() -> Path:
    return toolchain.build_elf([("m.c", SRC)])


@pytest.fixture(scope="module")
def good_bytes(good) -> bytes:
    return good.read_bytes()


def _write(tmp_path: Path, data: bytes, name: str = "bad.elf") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _gcc(tmp_path: Path, *args: str) -> Path:
    src = tmp_path / "s.S"
    src.write_text("  .text\n  .globl _start\n_start:\n  j _start\n")
    out = tmp_path / "out.elf"
    subprocess.run([toolchain.GCC, *args, "-nostdlib", str(src), "-o", str(out)], check=True)
    return out


@pytest.mark.parametrize("func", FUNCS.values(), ids=FUNCS)
@pytest.mark.parametrize("path", [123, None, b"x.elf", ["x.elf"], 1.5])
def test_path_type(func, path):
    with pytest.raises(TypeError, match=r"path must be a str or (os.PathLike|a path), not"):
        func(path)


@pytest.mark.parametrize("func", FUNCS.values(), ids=FUNCS)
def test_missing_file(func, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothere.elf"):
        func(tmp_path / "nothere.elf")


@pytest.mark.parametrize("func", FUNCS.values(), ids=FUNCS)
def test_folder(func, tmp_path):
    with pytest.raises(IsADirectoryError, match=str(tmp_path)):
        func(tmp_path)


@pytest.mark.parametrize("func", FUNCS.values(), ids=FUNCS)
@pytest.mark.parametrize(("data", "fragment"), [
    (b"", r"not an ELF file \(the file is empty\)"),
    (b"hello world\n", r"not an ELF file \(starts with b'hell', not b'\\x7fELF'\)"),
    (b"\x7fEL", r"not an ELF file \(starts with b'\\x7fEL'"),
    (b"\x7fELF", r"corrupted or truncated ELF"),
    (b"\x7fELF\x01\x01\x01" + bytes(20), r"corrupted or truncated ELF"),
])
def test_not_an_elf(func, tmp_path, data, fragment):
    p = _write(tmp_path, data)
    with pytest.raises(ValueError, match=rf"^{p}: {fragment}"):
        func(p)


@pytest.mark.parametrize("func", FUNCS.values(), ids=FUNCS)
def test_other_architecture(func, tmp_path):
    host = Path(sys.executable).resolve()
    if host.read_bytes()[:4] != b"\x7fELF":
        pytest.skip("the Python interpreter is not an ELF file here")
    with pytest.raises(ValueError, match=r"not a 32-bit little-endian RISC-V ELF \(64-bit"):
        func(host)


@pytest.mark.parametrize("func", FUNCS.values(), ids=FUNCS)
def test_rv64(func, tmp_path):
    p = _gcc(tmp_path, "-march=rv64i", "-mabi=lp64")
    with pytest.raises(ValueError, match=r"\(64-bit little-endian EM_RISCV\)"):
        func(p)


@pytest.mark.parametrize("func", FUNCS.values(), ids=FUNCS)
def test_big_endian(func, tmp_path, good_bytes):
    data = bytearray(good_bytes)
    data[5] = 2  # EI_DATA = ELFDATA2MSB
    with pytest.raises(ValueError, match=r"\(32-bit big-endian"):
        func(_write(tmp_path, bytes(data)))


@pytest.mark.parametrize("func", FUNCS.values(), ids=FUNCS)
def test_relocatable(func, tmp_path):
    p = _gcc(tmp_path, "-march=rv32i", "-mabi=ilp32", "-c")
    with pytest.raises(ValueError, match=r"not an executable ELF \(e_type ET_REL, not ET_EXEC\)"):
        func(p)


def _load_end(good: Path) -> int:
    from elftools.elf.elffile import ELFFile

    with open(good, "rb") as f:
        return max(s["p_offset"] + s["p_filesz"] for s in ELFFile(f).iter_segments()
                   if s["p_type"] == "PT_LOAD" and s["p_filesz"])


@pytest.mark.parametrize("func", FUNCS.values(), ids=FUNCS)
def test_truncated_in_a_segment(func, tmp_path, good, good_bytes):
    cut = _load_end(good) - 1
    p = _write(tmp_path, good_bytes[:cut])
    with pytest.raises(ValueError, match=rf"^{p}: (truncated|corrupted or truncated) ELF"):
        func(p)


def test_segments_past_a_cut_are_intact(tmp_path, good, good_bytes):
    # cut after the last loadable byte: the segments are complete, the symbols are not
    p = _write(tmp_path, good_bytes[:_load_end(good)])
    assert elf_file.load_elf(p) == elf_file.load_elf(good)
    with pytest.raises(ValueError, match="corrupted or truncated ELF"):
        elf_file.symbols(p)


def test_filesz_above_memsz(tmp_path, good, good_bytes):
    from elftools.elf.elffile import ELFFile

    with open(good, "rb") as f:
        ef = ELFFile(f)
        phoff, phentsize = ef["e_phoff"], ef["e_phentsize"]
        idx = next(i for i, s in enumerate(ef.iter_segments())
                   if s["p_type"] == "PT_LOAD" and s["p_filesz"])
    data = bytearray(good_bytes)
    ent = phoff + idx * phentsize
    memsz = int.from_bytes(data[ent + 16:ent + 20], "little")  # Elf32_Phdr.p_filesz at 16
    data[ent + 20:ent + 24] = (memsz - 4).to_bytes(4, "little")  # p_memsz at 20
    with pytest.raises(ValueError, match=r"corrupted ELF: segment at 0x.* has p_filesz"):
        elf_file.load_elf(_write(tmp_path, bytes(data)))


@given(cut=st.integers(min_value=0))
def test_any_truncation_is_an_error_or_harmless(tmp_path_factory, cut):
    """Property: a prefix of a good ELF either raises ValueError or loads exactly as the whole
    file; ``load_elf`` raises whenever the cut lies inside the loadable bytes."""
    good = toolchain.build_elf([("m.c", SRC)])
    data = good.read_bytes()
    cut %= len(data)
    p = _write(tmp_path_factory.mktemp("cut"), data[:cut])
    if cut < _load_end(good):
        with pytest.raises(ValueError, match=f"^{p}: "):
            elf_file.load_elf(p)
    else:
        assert elf_file.load_elf(p) == elf_file.load_elf(good)
    # the section headers sit at the end of the file: any cut loses some of them
    with pytest.raises(ValueError, match=f"^{p}: (corrupted or truncated ELF|not an ELF file)"):
        elf_file.symbols(p)


def test_good_elf_unchanged(good):
    entry, segments = elf_file.load_elf(good)
    assert entry == 0x80
    assert segments
    assert "main" in elf_file.symbols(good)
    assert run_elf(good).exit_code == 3
