"""Reading the ELF files the targets run: loadable segments and symbols.

Part of the ISS layer (``xdecimate.sw.iss``): the ISS loads programs with it and the C-kernel
harness above finds its buffers by symbol.  Imports only pyelftools and the standard library.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["load_elf", "symbols"]


def load_elf(path: str | Path) -> tuple[int, list[tuple[int, bytes]]]:
    """Entry point and loadable segments ``(address, bytes)`` of an ELF (bss zero-filled)."""
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as f:
        elf = ELFFile(f)
        if elf.elfclass != 32 or elf["e_machine"] != "EM_RISCV":
            raise ValueError(f"{path}: not a 32-bit RISC-V ELF")
        segments = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            data = seg.data()
            data += bytes(seg["p_memsz"] - len(data))
            segments.append((seg["p_paddr"], data))
        return elf["e_entry"], segments


def symbols(path: str | Path) -> dict[str, int]:
    """Symbol name -> address of an ELF (functions and objects)."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    out = {}
    with open(path, "rb") as f:
        for sec in ELFFile(f).iter_sections():
            if isinstance(sec, SymbolTableSection):
                for sym in sec.iter_symbols():
                    if sym.name and sym["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT",
                                                               "STT_NOTYPE"):
                        out[sym.name] = sym["st_value"]
    return out
