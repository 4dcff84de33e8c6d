"""Tests of lightnvr.storage."""
