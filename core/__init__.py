"""sensorproxy core: the whole domain, pure Python (never Qt)."""

__version__ = "0.1.0"
