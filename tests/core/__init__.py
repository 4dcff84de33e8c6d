"""Tests of lightnvr.core."""
