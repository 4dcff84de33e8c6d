"""Security and integrity tests (issue #10): real daemon, real HTTP over sockets, real camera."""
