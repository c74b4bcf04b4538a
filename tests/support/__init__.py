"""Helpers the tests share (histories to draw, reference implementations, waiting)."""
