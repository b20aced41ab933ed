"""Entry script of the frozen sensorproxy command."""

import sys

from cli.main import main

sys.exit(main())
