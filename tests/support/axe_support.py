"""axe-core in the browser under test: inject the vendored axe.min.js and list the serious and
critical violations of the page as it is now (tests/browser/vendor, axe-core 4.14).

The script goes in through WebDriver (DevTools' Runtime.evaluate), which the page's
Content-Security-Policy does not govern: the app never serves axe, and the policy stays as strict.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

AXE_SCRIPT = Path(__file__).resolve().parent.parent / "browser" / "vendor" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
# axe walks the whole DOM (the grid's rows, the charts' SVG): a details page takes a few seconds.
AXE_TIMEOUT_S = 60

_RUN = """
const [impacts, done] = [arguments[0], arguments[arguments.length - 1]];
axe.run(document, {resultTypes: ["violations"]}).then(
  (result) => done(result.violations.filter((v) => impacts.includes(v.impact)).map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target, summary: n.failureSummary, html: n.html.slice(0, 200)})),
  }))),
  (error) => done({error: String(error)}));
"""


@cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


def axe_violations(driver, impacts: tuple[str, ...] = BLOCKING_IMPACTS) -> list[dict]:
    """The page's axe violations of the given impacts: ``[{id, impact, help, nodes: [{target, summary}]}]``."""
    if not driver.execute_script("return !!window.axe"):  # a navigation drops it: inject once per page
        driver.execute_script(_axe_source())
    driver.set_script_timeout(AXE_TIMEOUT_S)
    found = driver.execute_async_script(_RUN, list(impacts))
    if isinstance(found, dict) and "error" in found:
        raise RuntimeError(f"axe.run failed: {found['error']}")
    return found


def describe(violations: list[dict], limit: int = 6) -> str:
    """One line per rule, with the first nodes' CSS targets: what a failing assertion prints."""
    lines = []
    for violation in violations:
        targets = "; ".join(" ".join(node["target"]) if isinstance(node["target"], list) else str(node["target"])
                            for node in violation["nodes"][:limit])
        more = len(violation["nodes"]) - limit
        lines.append(f"{violation['impact']} {violation['id']} ({len(violation['nodes'])} nodes: {violation['help']}): "
                     f"{targets}{f' … and {more} more' if more > 0 else ''}")
        if violation["nodes"]:
            lines.append(f"    first: {violation['nodes'][0]['summary']!r} in {violation['nodes'][0]['html']!r}")
    return "\n".join(lines)
