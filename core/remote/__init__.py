"""The proxy server over SSH: the session, its host-key trust, and the setup as a plan of steps."""
