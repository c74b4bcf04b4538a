"""The deploy lock (requirements.txt) and the pyproject.toml it was compiled from.

``make lock`` compiles requirements.txt with pip-compile, then runs ``python -m tools.lockfile
stamp requirements.txt``, which writes into the lock's header a digest of what it was compiled
from: pyproject.toml's requires-python, its dependencies and the extras the deploy installs
(demo, redis). tests/unit/test_lock.py recomputes the digest, so any change to those lists
(an added, removed or re-specified dependency) fails until the lock is regenerated.

Standard library only: it runs in the tool venv and in the tests alike.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The extras a deployment installs: Redis support, and FakeAI for a first deploy with no API.
DEPLOY_EXTRAS = ("demo", "redis")
STAMP = "# pyproject.toml digest (requires-python, dependencies, extras demo+redis): sha256:"


def deploy_requirements(pyproject: dict) -> list[str]:
    """The requirement strings of pyproject.toml that the lock must cover."""
    project = pyproject["project"]
    extras = project.get("optional-dependencies", {})
    return [*project.get("dependencies", []), *(req for extra in DEPLOY_EXTRAS for req in extras.get(extra, []))]


def digest(pyproject: dict) -> str:
    """sha256 of what the lock is compiled from, insensitive to spacing, case and order."""
    project = pyproject["project"]
    extras = project.get("optional-dependencies", {})

    def normal(requirements: list[str]) -> list[str]:
        return sorted(re.sub(r"\s+", "", req).lower() for req in requirements)

    source = {"requires-python": project.get("requires-python", ""),
              "dependencies": normal(project.get("dependencies", [])),
              **{extra: normal(extras.get(extra, [])) for extra in DEPLOY_EXTRAS}}
    return hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()


def load_pyproject(path: Path = ROOT / "pyproject.toml") -> dict:
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def stamped_digest(lock_text: str) -> str | None:
    for line in lock_text.splitlines():
        if line.startswith(STAMP):
            return line[len(STAMP):].strip()
    return None


def stamp(lock: Path, pyproject: Path) -> None:
    """Write (or replace) the digest line after pip-compile's header."""
    lines = [line for line in lock.read_text().splitlines() if not line.startswith(STAMP)]
    header_end = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    lines.insert(max(header_end - 1, 0), STAMP + digest(load_pyproject(pyproject)))
    lock.write_text("\n".join(lines) + "\n")


def pinned_python(path: Path = ROOT / ".python-version") -> str:
    """The platform's Python (major.minor) as .python-version pins it."""
    return path.read_text().strip()


def check_python() -> None:
    """The lock is resolved for the running Python: it must be the one the platform runs."""
    running, pinned = "%d.%d" % sys.version_info[:2], pinned_python()
    if running != pinned:
        sys.exit(f"make lock: this runs Python {running} but .python-version pins {pinned}, which the platform "
                 f"installs: make lock TOOLS=.venv-tools-{pinned} PYTHON=python{pinned}")


if __name__ == "__main__":
    if sys.argv[1:] == ["check-python"]:
        check_python()
    elif len(sys.argv) == 3 and sys.argv[1] == "stamp":
        stamp(Path(sys.argv[2]), ROOT / "pyproject.toml")
    else:
        sys.exit("usage: python -m tools.lockfile check-python | stamp requirements.txt")
