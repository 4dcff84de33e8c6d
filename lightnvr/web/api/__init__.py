"""lightnvr.web.api subsystem."""
