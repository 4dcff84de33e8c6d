"""lightnvr.core subsystem."""
