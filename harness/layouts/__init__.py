"""Weight layout conversions: one table per framework, written once.

The canonical layout is PyTorch's (see harness.cells). Each module here converts
between it and one framework, and checks every copied shape.
"""
