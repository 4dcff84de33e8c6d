"""lightnvr.web subsystem."""
