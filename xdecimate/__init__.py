"""xdecimate: N:M-sparse DNN inference on RISC-V with the xDecimate ISA extension."""

__version__ = "0.1.0"
