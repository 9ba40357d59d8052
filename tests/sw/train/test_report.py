"""sw/train/report.py: the pieces of the report section that need no core run."""

from xdecimate.sw.train import report
from xdecimate.sw.train.config import PATTERNS


def test_accuracy_table_gives_every_pattern_and_its_drop():
    top1 = {"cnn": {None: 90.0, **{p: 90.0 - i for i, p in enumerate(PATTERNS)}}}
    md = report.accuracy_table(top1, {"cnn": 91.5}).splitlines()
    assert md[0] == "| model | float dense | int8 dense | 1:4 | 1:8 | 1:16 | 2:8 | 2:16 |"
    assert md[2] == ("| cnn | 91.50 % | 90.00 % | 90.00 % (+0.00) | 89.00 % (-1.00) | "
                     "88.00 % (-2.00) | 87.00 % (-3.00) | 86.00 % (-4.00) |")


def test_training_curves_are_plotted(tmp_path):
    hist = [{"epoch": e, "loss": 1.0 / e, "train_top1": 80.0, "test_top1": 80.0 + e}
            for e in (1, 2)]
    man = {"runs": {"cnn-dense.npz": {"arch": "cnn", "pattern": None, "history": hist},
                    "cnn-1-8.npz": {"arch": "cnn", "pattern": "1:8", "history": hist}}}
    path = report.plot_curves(man, tmp_path / "c.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
