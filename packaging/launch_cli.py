"""Entry script of the frozen sensorproxy command."""

import sys

from core.cli import main

sys.exit(main())
