"""The shared picture's schema: every key the sync loop writes and the readers read, the shape of
its entries, and the fields of the API's objects it keeps for the browser.

The picture lives in the shared store (diskcache on one host, Redis across hosts), one namespace
per API (``namespace``). The leader's rounds (list_sync.py, job_sync.py) write it; DataSource
(source.py), the push streams (changes.py) and the admission of ids (interest.py) read it. Both
sides build their keys here, so a key is spelled once.

Entries travel as msgpack maps: they are typed with TypedDicts, which document and check their
shape without a conversion on every read of a 10,000-row list.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, TypedDict

# -- what of the API's objects the picture keeps (and the browser's stores carry) ---------------

EVENT_FIELDS = ("id", "created_at", "level", "message", "type", "data")
CHECKPOINT_FIELDS = ("id", "created_at", "step_number", "metrics", "fine_tuned_model_checkpoint")
# A job as the details panels read it: never the whole API payload.
JOB_FIELDS = ("id", "model", "status", "created_at", "finished_at", "fine_tuned_model", "suffix",
              "trained_tokens", "hyperparameters", "method_type", "seed", "estimated_finish", "error",
              "training_file")


def trimmed(item: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """``item`` with exactly ``fields`` (None where it has no such field)."""
    return {key: item.get(key) for key in fields}


# -- entries -----------------------------------------------------------------------------------

class ListEntry(TypedDict):
    """``jobs``: the list's rows (sync/rows.py's fields), newest first."""

    rows: list[dict[str, Any]]
    signature: str
    at: float
    complete: bool


class SignatureEntry(TypedDict):
    """``jobs#signature``: what a quiet tick reads instead of the rows."""

    signature: str


class JobEntry(TypedDict, total=False):
    """``job:<id>``: one watched job as the details read it (or its error, e.g. a 404)."""

    job: dict[str, Any]               # the API's job, as the wire model dumps it
    events: list[dict[str, Any]]      # the lifecycle events and the newest few (EVENT_FIELDS)
    checkpoints: list[dict[str, Any]]  # CHECKPOINT_FIELDS
    progress: dict[str, Any]          # step, total_steps, percent (metrics.shown_progress)
    history: dict[str, Any]           # how much of the curves is loaded, their version, points
    final: bool                       # finished and read in full: no round changes it again
    training_file_bytes: int | None
    alerts: list[dict[str, Any]]
    error: dict[str, Any]             # instead of the above: the API's error (a 404 kept a while)
    at: float


# -- keys --------------------------------------------------------------------------------------

# The kinds of a job's own entries, dropped together when the job falls out of the kept set.
JOB_KINDS = ("job", "series", "log", "jobstate")


@dataclass(frozen=True)
class PictureKeys:
    """Every key of one API's picture, ``<namespace>:<kind>[:<member>]``."""

    namespace: str

    def _key(self, kind: str, member: str | None = None) -> str:
        return f"{self.namespace}:{kind}" if member is None else f"{self.namespace}:{kind}:{member}"

    # The list
    def jobs(self) -> str:
        """ListEntry."""
        return self._key("jobs")

    def jobs_signature(self) -> str:
        """SignatureEntry."""
        return self._key("jobs#signature")

    def list_state(self) -> str:
        """The list round's own state (complete, when last read in full)."""
        return self._key("liststate")

    def progress(self) -> str:
        """{job id: live fields}: the list's progress column, ahead of its next round."""
        return self._key("progress")

    def alerts(self) -> str:
        """{job id: alerts}: the list's badges."""
        return self._key("alerts")

    # One job
    def job(self, job_id: str) -> str:
        """JobEntry."""
        return self._key("job", job_id)

    def job_state(self, job_id: str) -> str:
        """The job round's own state (cursors, what is known of its history)."""
        return self._key("jobstate", job_id)

    def log(self, job_id: str) -> str:
        """The job's newest events (EVENT_FIELDS), oldest first."""
        return self._key("log", job_id)

    def series(self, job_id: str) -> str:
        """The job's complete MetricHistory (series.MetricHistory.to_dict) and its version."""
        return self._key("series", job_id)

    def job_entries(self, job_id: str) -> list[str]:
        """Every entry of the job's own (JOB_KINDS)."""
        return [self._key(kind, job_id) for kind in JOB_KINDS]

    # Groups of members (a job id or sync.LIST) with a time each
    def watch(self) -> str:
        """Members some page shows: the leader's rounds follow them."""
        return self._key("watch")

    def live(self) -> str:
        """Members a push stream watches live: the fast lane."""
        return self._key("live")

    def nudge(self) -> str:
        """Members a write or a forced refresh asked to look at now."""
        return self._key("nudge")

    def kept(self) -> str:
        """Jobs whose entries are held, with when each was last in use."""
        return self._key("kept")

    def changes(self) -> str:
        """Members' versions: push streams tell their pages what changed."""
        return self._key("changes")

    def viewing(self, who: str) -> str:
        """The unknown ids one user asked to watch lately (interest.py's cap), by a digest of the user."""
        return self._key("viewing", hashlib.blake2b(who.encode(), digest_size=12).hexdigest())

    # A member's round
    def busy(self, member: str) -> str:
        """When a round of ``member`` started (its first load shows "loading")."""
        return self._key("busy", member)

    def error(self, member: str) -> str:
        """The API's last error for ``member``: its banner."""
        return self._key("error", member)

    # Claims and caches
    def cold_claim(self, job_id: str) -> str:
        """The worker fetching a cold job on the spot (cold.py)."""
        return self._key("cold", job_id)

    def claim(self, name: str) -> str:
        """A named once-across-workers claim (DataSource.claim)."""
        return self._key("claim", name)

    def cached(self, name: str) -> str:
        """A briefly cached API answer (files, models) for the create dialog."""
        return self._key("cached", name)

    def leader(self) -> str:
        """The leadership lock (Redis)."""
        return self._key("leader")
