"""The PySide6 desktop window: thin over core."""
