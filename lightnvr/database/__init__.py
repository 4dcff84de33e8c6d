"""lightnvr.database subsystem."""
