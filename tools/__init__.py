"""Repository tools run by the Makefile (`make lock`, `make audit`); not part of the app."""
