"""visionA Cloud: the cloud side of Kneron's edge-AI platform."""

__version__ = "0.1.0"
