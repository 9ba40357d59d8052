"""The shipped trained models (``sw/train/trained/``): files, manifest, hashes, int8 graphs.

What it is for: everything after training reads the models through here, with numpy only.
``trained/manifest.json`` (written by :mod:`.train`) records, per file, its sha256 and size,
and per training run its pattern, epochs, time, curves and the float top-1 of the stored
weights; :func:`verify` checks the files against it.  :func:`int8_graph` is the deployment
input: the stored float parameters → ONNX → import → N:M marking → quantization
(:func:`.export.quantized_graph`) with the calibration set :func:`calibration_images` (a
fixed, seeded sample of the *training* split).

May import: numpy, the standard library, :mod:`xdecimate.sw.net`, :mod:`xdecimate.sw.model`,
:mod:`.data` and :mod:`.export` (no JAX).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from ..net.ir import Graph
from . import data
from .export import quantized_graph

__all__ = ["CALIB_IMAGES", "CALIB_SEED", "TRAINED_DIR", "artifact_name", "calibration_images",
           "int8_graph", "load_manifest", "load_npz", "save_npz", "sha256", "verify"]

#: The shipped models and their manifest.
TRAINED_DIR = Path(__file__).resolve().parent / "trained"
#: Size and seed of the calibration sample of the training split.
CALIB_IMAGES, CALIB_SEED = 500, 1616


def artifact_name(arch: str, pattern: str | None) -> str:
    """``cnn-dense.npz``, ``vit-1-8.npz``, ..."""
    return f"{arch}-{'dense' if pattern is None else pattern.replace(':', '-')}.npz"


def sha256(path: Path) -> str:
    """The sha256 hex digest of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_npz(path: Path, params: dict[str, np.ndarray]) -> None:
    """Write ``params`` as a compressed npz of **float16** arrays, byte-reproducibly (fixed zip
    dates).  Half precision halves the shipped size (a relative rounding of 2^-11, far below the
    int8 step of 1/127 of a tensor's range); the stored weights *are* the model: its float
    top-1 is measured on them after the round trip, and :func:`load_npz` gives float32."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for k in sorted(params):
            arr = io.BytesIO()
            np.lib.format.write_array(arr, np.ascontiguousarray(params[k], np.float16),
                                      allow_pickle=False)
            info = zipfile.ZipInfo(k + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, arr.getvalue())
    Path(path).write_bytes(buf.getvalue())


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """The parameters stored by :func:`save_npz`, as float32 arrays."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k].astype(np.float32) for k in z.files}


def load_manifest(root: Path = TRAINED_DIR) -> dict:
    """``manifest.json`` of ``root``; ``FileNotFoundError`` naming ``make train`` if absent."""
    path = Path(root) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `make train` to train the models")
    return json.loads(path.read_text())


def verify(root: Path = TRAINED_DIR) -> list[str]:
    """Problems of the shipped files against the manifest (empty: every hash matches)."""
    man = load_manifest(root)
    bad = []
    for name, rec in sorted(man["files"].items()):
        f = Path(root) / name
        if not f.is_file():
            bad.append(f"{name}: missing")
        elif sha256(f) != rec["sha256"]:
            bad.append(f"{name}: sha256 {sha256(f)[:16]}… != manifest {rec['sha256'][:16]}…")
    return bad


def calibration_images(split: data.Split | None = None) -> np.ndarray:
    """:data:`CALIB_IMAGES` training images drawn with seed :data:`CALIB_SEED` (uint8)."""
    split = split if split is not None else data.load("train")
    idx = np.random.default_rng(CALIB_SEED).choice(len(split), CALIB_IMAGES, replace=False)
    return split.images[np.sort(idx)]


def int8_graph(arch: str, pattern: str | None, calib: np.ndarray | None = None, *,
               root: Path = TRAINED_DIR) -> Graph:
    """The quantized graph of the shipped ``arch`` model at ``pattern`` (None: dense)."""
    params = load_npz(Path(root) / artifact_name(arch, pattern))
    calib = calib if calib is not None else calibration_images()
    return quantized_graph(params, arch, pattern, calib)
