"""Blueprint: one component's callbacks, kept until create_app registers them on its app.

``dash.callback`` puts every callback in one process-wide registry, which the first app to serve
takes and empties: a second app in the same process (each test's fresh app) would get none. A
blueprint holds its component's callbacks and registers them on whichever app it is given, with
dash-extensions' ``DashBlueprint`` method names (``callback``, ``clientside_callback``,
``register_callbacks``). That package itself is not used: importing it registers its component
bundle, which every page would then download, for a class this size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dash import Dash, Output


@dataclass(frozen=True)
class CallbackSpec:
    """One callback as declared: Dash's arguments and the function (or, clientside, its JS)."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    function: Any
    clientside: bool = False


@dataclass
class Blueprint:
    """A component's callbacks. ``@blueprint.callback(...)`` leaves the function as it is, so tests
    call it directly; ``register_callbacks(app)`` binds every one to ``app``."""

    specs: list[CallbackSpec] = field(default_factory=list)

    def callback(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def keep(function: Callable[..., Any]) -> Callable[..., Any]:
            self.specs.append(CallbackSpec(args, kwargs, function))
            return function

        return keep

    def clientside_callback(self, clientside_function: Any, *args: Any, **kwargs: Any) -> None:
        self.specs.append(CallbackSpec(args, kwargs, clientside_function, clientside=True))

    def outputs_of(self, function: Callable[..., Any]) -> list[Output]:
        """The Outputs the callback of ``function`` declares, in order (the first view fills them)."""
        for spec in self.specs:
            if spec.function is function and not spec.clientside:
                flat = [item for arg in spec.args for item in (arg if isinstance(arg, (list, tuple)) else [arg])]
                return [item for item in flat if type(item) is Output]
        raise LookupError(f"{function.__name__} is not a callback of this blueprint")

    def register_callbacks(self, app: Dash) -> None:
        for spec in self.specs:
            if spec.clientside:
                app.clientside_callback(spec.function, *spec.args, **spec.kwargs)
            else:
                app.callback(*spec.args, **spec.kwargs)(spec.function)
