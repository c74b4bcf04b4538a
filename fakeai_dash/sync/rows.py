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


def snapshot_signature(rows: Any) -> str:
    """A short digest of a snapshot: equal digests mean nothing to re-render."""
    encoded = json.dumps(rows, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(encoded.encode(), digest_size=12).hexdigest()
