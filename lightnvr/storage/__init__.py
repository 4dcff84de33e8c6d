"""lightnvr.storage subsystem."""
