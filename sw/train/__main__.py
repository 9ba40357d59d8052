"""``python -m xdecimate.sw.train``: the same as ``make train`` (:func:`.train.main`)."""

from .train import main

raise SystemExit(main())
