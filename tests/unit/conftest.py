"""Fixtures for calling callbacks as plain functions (Dash's documented context trick), and a
clean environment for the settings tests."""

from __future__ import annotations

import os

import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict


@pytest.fixture
def no_callback_context_left_behind():
    """The test must leave Dash's callback context as it found it (modules opt in with usefixtures)."""
    before = context_value.get(None)
    yield
    assert context_value.get(None) is before, "a test left its callback context set for later tests"


@pytest.fixture
def trigger():
    """Set the trigger a callback sees when called as a function; reset when the test ends, so
    no later test runs under this one's trigger."""
    tokens = []

    def set_trigger(prop_id: str) -> None:
        tokens.append(context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": 1}])))

    yield set_trigger
    for token in reversed(tokens):
        context_value.reset(token)


@pytest.fixture
def clean_settings_env(monkeypatch, tmp_path):
    """No FAKEAI_DASH_* from the outside, and a cwd without a .env of the developer's (settings
    modules opt in with usefixtures)."""
    for name in list(os.environ):
        if name.startswith("FAKEAI_DASH_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
