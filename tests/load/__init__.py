"""Load tests: replay real browser ticks against the dashboard as many viewers (HTTP only)."""
