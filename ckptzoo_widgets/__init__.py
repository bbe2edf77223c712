"""ckptzoo_widgets: a checkpoint zoo that lives inside Jupyter."""

__version__ = "0.1.0"
