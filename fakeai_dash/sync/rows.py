"""The jobs list's rows and signatures: what the store carries, not whole API payloads."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fakeai_dash.api.models import Job

# The fields the jobs list shows.
JOB_ROW_FIELDS = ("id", "model", "status", "created_at", "finished_at", "fine_tuned_model",
                  "trained_tokens", "suffix", "estimated_finish", "method_type")


def job_row(job: Job) -> dict[str, Any]:
    row = job.model_dump(include=set(JOB_ROW_FIELDS))
    row["has_error"] = job.error is not None
    return row


# Fields an active job's row changes on every poll (the API's estimate moves with each step).
# They reach the browser as small live updates, not as a reason to resend 10,000 rows.
VOLATILE_FIELDS = ("estimated_finish", "trained_tokens")


def rows_signature(rows: list[dict[str, Any]]) -> str:
    """The list's signature: new jobs, statuses, names — not the moving fields of active jobs."""
    from fakeai_dash.api.models import FINISHED_STATUSES

    steady = [row if row.get("status") in FINISHED_STATUSES
              else {k: v for k, v in row.items() if k not in VOLATILE_FIELDS} for row in rows]
    return snapshot_signature(steady)


def live_fields(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """{job id: the volatile fields} of active rows: sent beside the rows, patched into the grid."""
    from fakeai_dash.api.models import FINISHED_STATUSES

    return {row["id"]: {k: row.get(k) for k in VOLATILE_FIELDS}
            for row in rows if row.get("status") not in FINISHED_STATUSES}


def snapshot_signature(rows: Any) -> str:
    """A short digest of a snapshot: equal digests mean nothing to re-render."""
    encoded = json.dumps(rows, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(encoded.encode(), digest_size=12).hexdigest()
