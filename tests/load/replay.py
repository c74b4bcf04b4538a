"""Pure parts of the replay: cut captured callback requests into interval ticks and waves, and
keep each viewer's copy of the props it has been sent, as the browser's renderer does.

A captured record is ``{"start": ms, "end": ms, "status": int, "body": "<the JSON the page
POSTed to /_dash-update-component>"}``. Nothing here knows the app's ids: a tick is whatever
the page sent between two firings of its refresh interval.
"""

from __future__ import annotations

import copy
import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

INTERVAL_PROP = "n_intervals"


def stringify_id(component_id: Any) -> str:
    """The key Dash gives a component in requests and answers (dict ids: sorted keys, JSON)."""
    if isinstance(component_id, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{json.dumps(component_id[k])}" for k in sorted(component_id)) + "}"
    return str(component_id)


def _items(entries: Iterable[Any]) -> Iterable[dict[str, Any]]:
    """Input/state entries, wildcard lists flattened."""
    for entry in entries or ():
        if isinstance(entry, list):
            yield from (item for item in entry if isinstance(item, dict))
        elif isinstance(entry, dict):
            yield entry


def _copy_entry(entry: Any) -> Any:
    if isinstance(entry, list):
        return [_copy_entry(item) for item in entry]
    return dict(entry) if isinstance(entry, dict) else entry


def interval_firing(body: dict[str, Any]) -> tuple[str, int] | None:
    """(interval id, n_intervals) when an interval's tick triggered this request."""
    changed = body.get("changedPropIds") or []
    for item in _items(body.get("inputs")):
        key = f"{stringify_id(item.get('id'))}.{item.get('property')}"
        if item.get("property") == INTERVAL_PROP and key in changed and isinstance(item.get("value"), int):
            return stringify_id(item.get("id")), item["value"]
    return None


@dataclass
class Request:
    start: float
    end: float
    body: dict[str, Any]
    status: int = 200

    @property
    def output(self) -> str:
        return str(self.body.get("output", "?"))


@dataclass
class Tick:
    """The requests one tick of the page's main interval set off, in the order sent, in waves:
    a wave's requests were in flight together; a later wave waited for an earlier answer."""

    interval_id: str
    n: int
    waves: list[list[Request]] = field(default_factory=list)

    @property
    def requests(self) -> list[Request]:
        return [r for wave in self.waves for r in wave]


def parse_records(records: Iterable[dict[str, Any]]) -> list[Request]:
    parsed = []
    for record in records:
        try:
            body = json.loads(record["body"]) if isinstance(record.get("body"), str) else record.get("body")
        except ValueError:
            continue
        if isinstance(body, dict):
            start = float(record.get("start") or 0.0)
            end = record.get("end")
            parsed.append(Request(start, float(end) if end is not None else math.inf, body,
                                  int(record.get("status") or 0)))
    return sorted(parsed, key=lambda r: r.start)


def group_ticks(requests: Sequence[Request]) -> list[Tick]:
    """Complete ticks of the most frequent interval: from its firing n to its firing n+1.

    The last firing opens a tick nobody saw close, so it is left out; so are requests sent
    before the first firing (page load).
    """
    firings = [(r, interval_firing(r.body)) for r in requests]
    counts = Counter(f[0] for _, f in firings if f)
    if not counts:
        return []
    main = counts.most_common(1)[0][0]
    starts = [i for i, (_, f) in enumerate(firings) if f and f[0] == main
              and (i == 0 or not _same_firing(firings, i, main))]
    ticks = []
    for a, b in zip(starts, starts[1:], strict=False):
        ticks.append(Tick(main, firings[a][1][1], waves(requests[a:b])))
    return ticks


def _same_firing(firings, i: int, main: str) -> bool:
    """Another callback of the same firing (same n) came earlier in this tick."""
    n = firings[i][1][1]
    for j in range(i - 1, -1, -1):
        f = firings[j][1]
        if f and f[0] == main:
            return f[1] == n
    return False


def waves(requests: Sequence[Request]) -> list[list[Request]]:
    """Wave 1: sent before any answer of the tick came back; wave k+1: sent after an answer of
    wave k (the browser chains a callback on another's output)."""
    level: list[int] = []
    for i, request in enumerate(requests):
        before = [level[j] for j in range(i) if requests[j].end <= request.start]
        level.append(1 + max(before) if before else 1)
    grouped: dict[int, list[Request]] = {}
    for request, k in zip(requests, level, strict=True):
        grouped.setdefault(k, []).append(request)
    return [grouped[k] for k in sorted(grouped)]


def server_outputs(dependencies: Iterable[dict[str, Any]]) -> set[str]:
    """``"<id>.<prop>"`` of every output a server callback sets, from ``/_dash-dependencies``
    (a multi-output reads ``..a.x...b.y..``; ``@hash`` marks an allow_duplicate output)."""
    outputs: set[str] = set()
    for dependency in dependencies:
        if dependency.get("clientside_function"):
            continue
        raw = str(dependency.get("output") or "")
        parts = raw[2:-2].split("...") if raw.startswith("..") and raw.endswith("..") else [raw]
        for part in parts:
            component, _, prop = part.rpartition(".")
            outputs.add(f"{component}.{prop.split('@', 1)[0]}")
    return outputs


def should_send(request: Request, set_this_tick: set[str], server_set: set[str]) -> bool:
    """Would the browser send this request on a replayed tick? Yes when the interval triggered
    it; when an answer of this tick set a prop that triggers it; or when the browser itself
    changed that prop (no server callback sets it) in the captured tick. A request with no
    trigger (an initial call left over from page load) is not part of a tick."""
    if interval_firing(request.body):
        return True
    changed = [str(p) for p in request.body.get("changedPropIds") or []]
    return any(p in set_this_tick or p not in server_set for p in changed)


def apply_patch(value: Any, patch: dict[str, Any]) -> Any:
    """Dash's Patch operations on a copy of ``value`` (the ones a replay needs; others keep it)."""
    result = copy.deepcopy(value)
    for op in patch.get("operations") or []:
        location, params, name = op.get("location") or [], op.get("params") or {}, op.get("operation")
        if not location and name == "Assign":
            result = params.get("value")
            continue
        parent = result
        try:
            for key in location[:-1]:
                parent = parent[key]
            last = location[-1] if location else None
            target = parent[last] if location else parent
            if name == "Assign":
                parent[last] = params.get("value")
            elif name in ("Extend", "Append", "Prepend", "Insert"):
                items = params.get("value") if name == "Extend" else [params.get("value")]
                if name == "Prepend":
                    target[:0] = items
                elif name == "Insert":
                    target.insert(params.get("index", 0), params.get("value"))
                else:
                    target.extend(items)
            elif name == "Merge":
                target.update(params.get("value") or {})
            elif name == "Delete":
                del parent[last]
            elif name == "Clear":
                target.clear()
        except (KeyError, IndexError, TypeError, AttributeError):
            continue
    return result


class ViewerState:
    """One viewer's props as the server last sent them: a replayed request carries those,
    not the values captured from the browser (a signature store must hold what this viewer saw)."""

    def __init__(self) -> None:
        self.props: dict[tuple[str, str], Any] = {}
        self._texts: dict[tuple[str, str], str] = {}  # props' JSON, encoded once per change

    def body_for(self, request: Request, n_intervals: int) -> dict[str, Any]:
        """The captured request with this viewer's props and tick number."""
        return json.loads(self.body_text_for(request, n_intervals))

    def body_text_for(self, request: Request, n_intervals: int) -> str:
        """:meth:`body_for` as the JSON text to send. A prop learnt from the server is encoded
        once, not once per request: one store may travel in a dozen requests per tick."""
        # Entries are copied, values are not (they are replaced, never changed in place).
        body = dict(request.body)
        for section in ("inputs", "state"):
            if isinstance(body.get(section), list):
                body[section] = [_copy_entry(entry) for entry in body[section]]
        texts: dict[str, str] = {}
        for item in [*_items(body.get("inputs")), *_items(body.get("state"))]:
            key = (stringify_id(item.get("id")), str(item.get("property")))
            if item.get("property") == INTERVAL_PROP and isinstance(item.get("value"), int):
                item["value"] = n_intervals
            elif key in self.props:
                placeholder = f"__load_value_{len(texts)}__"
                texts[json.dumps(placeholder)] = self._text(key)
                item["value"] = placeholder
        text = json.dumps(body)
        for placeholder, value in texts.items():
            text = text.replace(placeholder, value, 1)
        return text

    def _text(self, key: tuple[str, str]) -> str:
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = json.dumps(self.props[key])
        return text

    def learn(self, answer: Any) -> set[str]:
        """Remember the props a callback answer set (``response`` and ``sideUpdate``); returns
        them as ``"<id>.<prop>"``, the way ``changedPropIds`` names them."""
        changed: set[str] = set()
        if not isinstance(answer, dict):
            return changed
        for section in ("response", "sideUpdate"):
            updates = answer.get(section)
            if not isinstance(updates, dict):
                continue
            for component, props in updates.items():
                if not isinstance(props, dict):
                    continue
                for prop, value in props.items():
                    key = (component, prop)
                    if isinstance(value, dict) and "__dash_patch_update" in value:
                        value = apply_patch(self.props.get(key), value)
                    self.props[key] = value
                    self._texts.pop(key, None)
                    changed.add(f"{component}.{prop}")
        return changed


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
