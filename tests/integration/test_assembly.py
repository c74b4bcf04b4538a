"""The assembly: every component's callbacks reach every app, and none goes through Dash's
process-wide registry (issue #21)."""

from __future__ import annotations

import importlib
import pkgutil

from dash import _callback as dash_registry

from fakeai_dash import app as app_module
from fakeai_dash import components
from fakeai_dash.server.blueprint import Blueprint


def _component_blueprints():
    found = {}
    for info in pkgutil.iter_modules(components.__path__):
        module = importlib.import_module(f"{components.__name__}.{info.name}")
        if isinstance(getattr(module, "blueprint", None), Blueprint):
            found[info.name] = module
    return found


def test_assembly001_every_component_with_callbacks_is_registered_by_create_app():
    listed = {module.__name__.rsplit(".", 1)[-1] for module in app_module.COMPONENTS}
    assert set(_component_blueprints()) == listed


def test_assembly002_no_callback_lands_in_dashs_global_registry():
    _component_blueprints()  # every component imported
    assert dash_registry.GLOBAL_CALLBACK_LIST == [] and dash_registry.GLOBAL_CALLBACK_MAP == {}


def test_assembly003_two_apps_in_one_process_each_get_every_callback(fakeai, make_app):
    first, second = make_app(fakeai.url), make_app(fakeai.url)
    declared = sum(len(module.blueprint.specs) for module in app_module.COMPONENTS)
    assert len(first.callback_map) == len(second.callback_map) == declared
    assert set(first.callback_map) == set(second.callback_map)


def test_assembly004_the_first_views_table_names_every_panel_drawn_from_the_stores_alone():
    # A callback whose only Inputs are the job's stores runs on page load only if they change,
    # and on a first view they do not: a panel missing from the table would stay empty.
    from dash.dependencies import Input, State

    from fakeai_dash import ids
    from fakeai_dash.server.first_view import PANELS_FROM_STORES

    stores = {f"{ids.JobDetails.STORE}.data": "store", f"{ids.JobDetails.SUMMARY}.data": "summary"}
    found = set()
    for module in app_module.COMPONENTS:
        for spec in module.blueprint.specs:
            deps = [d for arg in spec.args for d in (arg if isinstance(arg, (list, tuple)) else [arg])]
            inputs = [f"{d.component_id}.{d.component_property}" for d in deps if type(d) is Input]
            if spec.clientside or any(type(d) is State for d in deps) or not inputs or not set(inputs) <= set(stores):
                continue
            assert len(inputs) == 1, spec.function.__name__
            found.add((module, spec.function, stores[inputs[0]]))
    assert found == set(PANELS_FROM_STORES)
