"""Reading the ELF files the targets run: loadable segments and symbols.

Part of the ISS layer (``xdecimate.sw.iss``): the ISS loads programs with it and the C-kernel
harness above finds its buffers by symbol.  Imports only pyelftools and the standard library.

Every function takes a path (``str`` or ``os.PathLike``) and names the file in its errors: a
missing file raises ``FileNotFoundError``, a file that is not a complete 32-bit little-endian
RISC-V executable (empty, text, another architecture or class, truncated) raises ``ValueError``.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["load_elf", "symbols"]

_MAGIC = b"\x7fELF"


def _check_path(path: object) -> None:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"ELF path must be a str or os.PathLike, not {type(path).__name__} "
                        f"{path!r}")


@contextmanager
def _open_elf(path: str | os.PathLike[str]) -> Iterator[Any]:
    """An ``ELFFile`` of a 32-bit little-endian RISC-V executable; pyelftools' parse errors
    (a truncated or corrupted file) become ``ValueError`` naming the file."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    _check_path(path)
    with open(path, "rb") as f:
        head = f.read(len(_MAGIC))
        if not head:
            raise ValueError(f"{path}: not an ELF file (the file is empty)")
        if head != _MAGIC:
            raise ValueError(f"{path}: not an ELF file (starts with {head!r}, not {_MAGIC!r})")
        f.seek(0)
        try:
            elf = ELFFile(f)
            if (elf.elfclass != 32 or not elf.little_endian
                    or elf["e_machine"] != "EM_RISCV"):
                raise ValueError(
                    f"{path}: not a 32-bit little-endian RISC-V ELF ({elf.elfclass}-bit "
                    f"{'little' if elf.little_endian else 'big'}-endian {elf['e_machine']})")
            if elf["e_type"] != "ET_EXEC":
                raise ValueError(f"{path}: not an executable ELF (e_type {elf['e_type']}, "
                                 f"not ET_EXEC): link it first")
            yield elf
        except (ELFError, struct.error, EOFError) as exc:
            raise ValueError(f"{path}: corrupted or truncated ELF ({exc})") from None


def load_elf(path: str | os.PathLike[str]) -> tuple[int, list[tuple[int, bytes]]]:
    """Entry point and loadable segments ``(address, bytes)`` of an ELF (bss zero-filled).

    Raises
    ------
    TypeError
        ``path`` is not a ``str`` or ``os.PathLike``.
    FileNotFoundError
        No such file.
    ValueError
        The file is empty, not an ELF, not a 32-bit little-endian RISC-V executable, or
        truncated (a segment's bytes lie past the end of the file); the message names the file.
    """
    with _open_elf(path) as elf:
        size = elf.stream.seek(0, os.SEEK_END)
        segments = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            off, filesz, memsz = seg["p_offset"], seg["p_filesz"], seg["p_memsz"]
            if filesz > memsz:
                raise ValueError(f"{path}: corrupted ELF: segment at 0x{seg['p_paddr']:x} has "
                                 f"p_filesz {filesz} > p_memsz {memsz}")
            if filesz and off + filesz > size:
                raise ValueError(f"{path}: truncated ELF: segment at 0x{seg['p_paddr']:x} needs "
                                 f"file bytes {off}..{off + filesz - 1}, the file has {size}")
            data = seg.data()
            data += bytes(memsz - len(data))
            segments.append((seg["p_paddr"], data))
        return elf["e_entry"], segments


def symbols(path: str | os.PathLike[str]) -> dict[str, int]:
    """Symbol name -> address of an ELF (functions and objects).

    Raises
    ------
    TypeError, FileNotFoundError, ValueError
        As :func:`load_elf` (a truncated symbol table is a ``ValueError``).
    """
    from elftools.elf.sections import SymbolTableSection

    out = {}
    with _open_elf(path) as elf:
        for sec in elf.iter_sections():
            if isinstance(sec, SymbolTableSection):
                for sym in sec.iter_symbols():
                    if sym.name and sym["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT",
                                                               "STT_NOTYPE"):
                        out[sym.name] = sym["st_value"]
    return out
