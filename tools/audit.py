"""`make audit`: pip-audit over the deploy lock, honest about a database it cannot reach.

Runs ``pip-audit -r requirements.txt --require-hashes --disable-pip`` (the lock pins every
package with its hashes, so nothing is resolved or installed) against PyPI's advisory data, or
the service named by ``-s``/``--vulnerability-service`` among the extra arguments.

Exit codes: 1 when a locked package has a known vulnerability; 0 when none has; and 0, with one
line saying so, when the vulnerability database could not be reached (a network error, or
every package skipped because the service answered "not found" for all of them, which is what a
registry mirror without PyPI's JSON API does). A partial skip is listed and does not fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

UNREACHABLE_HINTS = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "timed out",
                     "Temporary failure in name resolution", "Connection refused", "ServiceError")


def main(argv: list[str]) -> int:
    lock = argv[0] if argv else "requirements.txt"
    extra = argv[1:]
    command = [str(Path(sys.executable).with_name("pip-audit")), "--requirement", lock, "--require-hashes",
               "--disable-pip", "--progress-spinner", "off", "--format", "json", *extra]
    print("$ pip-audit", " ".join(command[1:]), flush=True)
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    try:
        report = json.loads(result.stdout)
    except ValueError:
        report = None
    if report is None:
        if any(hint in result.stderr for hint in UNREACHABLE_HINTS):
            last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
            print(f"make audit: the vulnerability database is unreachable from here; nothing was audited ({last[:300]})")
            return 0
        sys.stderr.write(result.stderr)
        print(f"make audit: pip-audit failed (exit {result.returncode})", file=sys.stderr)
        return result.returncode or 1
    dependencies = report.get("dependencies", [])
    skipped = [dep for dep in dependencies if dep.get("skip_reason")]
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    if dependencies and len(skipped) == len(dependencies):
        print(f"make audit: the vulnerability database is unreachable from here: all {len(dependencies)} locked "
              f"packages were skipped ({skipped[0]['skip_reason']}); nothing was audited")
        return 0
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            print(f"VULNERABLE {dep['name']} {dep.get('version', '')}: {vuln.get('id')} "
                  f"({', '.join(vuln.get('aliases') or [])}) fixed in: {fixes}")
    for dep in skipped:
        print(f"not audited: {dep['name']}: {dep['skip_reason']}")
    audited = len(dependencies) - len(skipped)
    if vulnerable:
        print(f"make audit: {len(vulnerable)} of {audited} audited packages have known vulnerabilities")
        return 1
    print(f"make audit: no known vulnerabilities in {audited} locked packages"
          + (f" ({len(skipped)} could not be audited)" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
