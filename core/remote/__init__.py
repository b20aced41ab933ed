"""The proxy server over SSH: the session, its host-key trust, and the setup as a plan of steps."""

import sys

# paramiko imports invoke (and with it unittest.mock and a YAML parser: 40 ms of every server command's
# start) only to run the `Match exec` lines of an ssh_config file, which sensorproxy never reads.
if "invoke" not in sys.modules:
    sys.modules["invoke"] = None  # type: ignore[assignment]  # `import invoke` then raises ImportError
