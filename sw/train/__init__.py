"""Real data: N:M-sparse training on Fashion-MNIST, int8 deployment, accuracy measured on the core.

What it is for (issue 16, ``docs/train.md``): two small models mirroring the paper's two -- a
ResNet-style CNN whose 3x3 convolutions are N:M-sparse and a small ViT whose MLP layers are --
trained in float with JAX + optax (:mod:`.train`; dense first, then SR-STE, :mod:`.srste`, per
pattern), exported to ONNX (:mod:`.export`), imported and quantized onto the project's int8
scheme (:mod:`xdecimate.sw.net`), evaluated bit-exactly on the 10,000 test images
(:mod:`.evaluate`), and run end to end on the ISS and the CV32E40P RTL through the deployment
flow (:mod:`.oncore`).  :mod:`.report` is the report section.

May import: numpy, onnx, jax, optax, matplotlib, rich, the standard library,
:mod:`xdecimate.sw.deploy` and every package below it.  JAX is imported only by the training
modules (:mod:`.models`, :mod:`.srste`, :mod:`.train`): evaluation and the report need numpy only.
"""
