"""The data engine: one sync loop per deployment, a shared picture, and the DataSource callbacks read.

build_source() picks the parts: Redis (store and leader lock) when a cache URL is set, else a
diskcache directory and a file lock shared by the workers of one host.
"""

from __future__ import annotations

import os
from typing import Any

from fakeai_dash.alerts import rules_from_settings
from fakeai_dash.api.client import FineTuningClient
from fakeai_dash.datadir import DATA_DIR_ENV, data_dir, private_file
from fakeai_dash.sync.engine import LIST, SyncEngine, namespace
from fakeai_dash.sync.interest import Admission
from fakeai_dash.sync.leader import FileLeader, RedisLeader
from fakeai_dash.sync.resilient import ResilientStore
from fakeai_dash.sync.source import EXTENSION_KEY, DataSource, NotReady, current_source
from fakeai_dash.sync.store import LocalStore, RedisStore
from fakeai_dash.sync.picture import PictureKeys


def build_source(settings: Any, client: FineTuningClient) -> DataSource:
    ns = namespace(client.api_base)
    if settings.cache_url:
        # Reads outlive a Redis outage (the last picture, bounded per worker); writes wait for it.
        store = ResilientStore(RedisStore(settings.cache_url))
        leader = RedisLeader(store.redis, store.prefix + PictureKeys(ns).leader())
    else:
        directory = data_dir(settings)  # private: 0700, and 0600 files (fakeai_dash/datadir.py)
        store = LocalStore(os.path.join(directory, "picture"))  # made private by LocalStore
        leader = FileLeader(private_file(os.path.join(directory, f"leader-{ns}.lock")))
    engine = SyncEngine(client, store, leader, refresh_s=settings.refresh_interval,
                        max_jobs=settings.max_jobs, alert_rules=rules_from_settings(settings),
                        price_table=getattr(settings, "price_per_1k_tokens", None),
                        alert_active_jobs=getattr(settings, "alert_active_jobs", 0),
                        alert_active_interval=getattr(settings, "alert_active_interval", 30.0),
                        live_poll_s=settings.live_poll_interval if getattr(settings, "push", True) else 0.0)
    admission = Admission(store, engine.keys, engine.interest_ttl,
                          unknown_per_user=getattr(settings, "watch_unknown_per_user", 20),
                          max_watched=getattr(settings, "watch_max", 200))
    return DataSource(client, store, engine, settings.cache_ttl or settings.refresh_interval, admission)


__all__ = ["DATA_DIR_ENV", "EXTENSION_KEY", "LIST", "DataSource", "NotReady", "SyncEngine",
           "build_source", "current_source"]
