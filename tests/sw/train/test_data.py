"""sw/train/data.py: the Fashion-MNIST IDX loader."""

import gzip

import numpy as np
import pytest
from xdecimate.sw.train import data


@pytest.fixture(scope="module")
def splits():
    return data.load("train"), data.load("test")


def test_counts_shapes_dtypes(splits):
    train, test = splits
    assert train.images.shape == (60000, 28, 28)
    assert test.images.shape == (10000, 28, 28)
    for s in splits:
        assert s.images.dtype == np.uint8
        assert s.labels.dtype == np.uint8
        assert len(s) == len(s.labels)


def test_labels_cover_ten_balanced_classes(splits):
    # Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class
    train, test = splits
    assert np.bincount(train.labels, minlength=10).tolist() == [6000] * 10
    assert np.bincount(test.labels, minlength=10).tolist() == [1000] * 10
    assert len(data.CLASSES) == 10


def test_images_use_the_pixel_range(splits):
    train, _ = splits
    assert train.images.min() == 0
    assert train.images.max() == 255


def test_missing_files_name_the_apt_package(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        data.load("test", tmp_path)


def test_unknown_split_is_named():
    with pytest.raises(ValueError, match="'val'"):
        data.load("val")


def test_bad_magic_and_truncated_payload(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + (2).to_bytes(4, "big") + b"\x01\x02"))
    with pytest.raises(ValueError, match="magic number 0x00000801, expected 0x00000803"):
        data.read_idx(p, 3)
    assert data.read_idx(p, 1).tolist() == [1, 2]
    p.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + b"\x01\x02"))
    with pytest.raises(ValueError, match="header says \\[3\\] = 3 bytes, the file holds 2"):
        data.read_idx(p, 1)
