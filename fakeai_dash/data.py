"""The data layer callbacks use: reads from the sync loop's picture, writes to the API.

The engine lives in ``fakeai_dash.sync``; this module is the name components import.
"""

from fakeai_dash.sync import EXTENSION_KEY, DataSource, NotReady, build_source, current_source
from fakeai_dash.sync.interest import NoSuchJob, WatchRefused
from fakeai_dash.sync.rows import JOB_ROW_FIELDS, job_row, snapshot_signature

__all__ = ["EXTENSION_KEY", "JOB_ROW_FIELDS", "DataSource", "NoSuchJob", "NotReady", "WatchRefused", "build_source",
           "current_source", "job_row", "snapshot_signature"]
