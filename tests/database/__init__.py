"""Tests of lightnvr.database."""
