"""lightnvr.video subsystem."""
