"""lightnvr.core.memory subsystem."""
