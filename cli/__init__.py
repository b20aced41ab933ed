"""The `sensorproxy` command: a front end over core, beside the window (gui/)."""
