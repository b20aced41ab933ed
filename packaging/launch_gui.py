"""Entry script of the frozen sensorproxy-gui."""

import sys

from gui.app import main

sys.exit(main())
