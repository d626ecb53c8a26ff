"""visionA Cloud's agent: pair a machine with a Kneron chip, keep it online."""

__version__ = "0.1.0"
