"""Fashion-MNIST from its IDX files (Debian package ``dataset-fashion-mnist``).

What it is for: the real data of the accuracy measurements.  :func:`load` reads the four
gzip IDX files (Y. LeCun's format: big-endian magic ``0x00000803`` for images, ``0x00000801``
for labels, then the dimensions) into uint8 arrays: 60,000 training and 10,000 test images of
28x28 pixels, labels 0..9 (:data:`CLASSES`).  Nothing is downloaded: a missing file is an error
naming the apt package.

May import: numpy and the standard library.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["APT_PACKAGE", "CLASSES", "DEFAULT_DIR", "FILES", "Split", "load", "read_idx"]

#: Where ``apt-get install dataset-fashion-mnist`` puts the files; ``XDEC_FASHION_MNIST``
#: overrides it.
DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
#: The Debian package that ships the data set.
APT_PACKAGE = "dataset-fashion-mnist"
#: File names per split: (images, labels).
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
#: Class names, by label.
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot")
_MAGIC = {3: 0x00000803, 1: 0x00000801}


@dataclass(frozen=True)
class Split:
    """One split: ``images`` uint8 (n, 28, 28), ``labels`` uint8 (n,) in 0..9."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """The uint8 array of one gzip IDX file with ``ndim`` dimensions.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist (the message names the apt package).
    ValueError
        The magic number, the dimension count or the payload size is not what the header says.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Fashion-MNIST file {path} not found: install it with "
                                f"`apt-get install {APT_PACKAGE}` (scripts/bootstrap.sh does) "
                                f"or set XDEC_FASHION_MNIST to the folder holding {path.name}")
    raw = gzip.decompress(path.read_bytes())
    magic = int.from_bytes(raw[:4], "big")
    if magic != _MAGIC[ndim]:
        raise ValueError(f"{path}: magic number {magic:#010x}, expected {_MAGIC[ndim]:#010x} "
                         f"(uint8 IDX with {ndim} dimension(s))")
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    body = raw[4 + 4 * ndim:]
    if len(body) != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims} = {int(np.prod(dims))} bytes, the file "
                         f"holds {len(body)}")
    return np.frombuffer(body, np.uint8).reshape(dims)


def load(split: str, root: Path | str | None = None) -> Split:
    """The ``"train"`` or ``"test"`` split from ``root`` (default: ``$XDEC_FASHION_MNIST`` or
    :data:`DEFAULT_DIR`).

    Raises
    ------
    ValueError
        An unknown split, a malformed file, image and label counts that differ, or a label
        outside 0..9.
    FileNotFoundError
        A file is missing (see :func:`read_idx`).
    """
    if split not in FILES:
        raise ValueError(f"split must be one of {sorted(FILES)}, not {split!r}")
    root = Path(root if root is not None else os.environ.get("XDEC_FASHION_MNIST", DEFAULT_DIR))
    img_f, lab_f = FILES[split]
    images = read_idx(root / img_f, 3)
    labels = read_idx(root / lab_f, 1)
    if len(images) != len(labels):
        raise ValueError(f"{root}: {len(images)} {split} images but {len(labels)} labels")
    if labels.size and labels.max() >= len(CLASSES):
        raise ValueError(f"{root / lab_f}: label {int(labels.max())} outside 0..9")
    return Split(images, labels)
