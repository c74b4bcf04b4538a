"""What alerts cost: the rules' time on long histories, and the API requests of the background
rounds for running jobs nobody opened (3,000 jobs, 20 running, the list watched for 30 s).

Run: python -m tests.bench.alerts_cost
"""
import tempfile
import time

import numpy as np
from fakeai_dash.alerts import job_alerts, AlertRules
from fakeai_dash.series import MetricHistory

for n in (1_000, 20_000, 100_000):
    rng = np.random.default_rng(0)
    steps = np.arange(1, n + 1, dtype=float)
    train = (0.3 + 2 * np.exp(-steps / (n / 4))) * (1 + 0.1 * rng.standard_normal(n))
    valid = np.where(steps % 10 == 0, train * 1.05, np.nan)
    h = MetricHistory(steps, 1.79e9 + steps, {"train_loss": train, "valid_loss": valid})
    t = time.perf_counter()
    for _ in range(5):
        job_alerts(h, status="running", last_event_at=1.79e9 + n, now=1.79e9 + n + 1, rules=AlertRules())
    print(f"job_alerts on {n:,} steps: {(time.perf_counter() - t) / 5 * 1000:.1f} ms")

from fakeai_dash.api.client import client_from_settings
from fakeai_dash.config import Settings
from fakeai_dash.sync import NotReady, build_source
from tests.support.scale_sim import ScaleSimulator
WINDOW = 30.0
for active in (0, 8):
    with ScaleSimulator(jobs=3000, running_jobs=20) as sim:
        settings = Settings(_env_file=None, api_base=sim.url, refresh_interval=3.0, data_dir=tempfile.mkdtemp(),
                            alert_active_jobs=active, alert_active_interval=30.0)
        source = build_source(settings, client_from_settings(settings))
        source.engine.start()
        while True:
            try:
                if source.jobs_snapshot()["complete"]:
                    break
            except NotReady:
                pass
            time.sleep(0.2)
        sim.reset_stats()
        end = time.time() + WINDOW
        while time.time() < end:
            try:
                source.jobs_snapshot()
            except NotReady:
                pass
            time.sleep(1.0)
        stats = sim.stats()
        print(f"alert_active_jobs={active}: {stats['total']} requests in {WINDOW:.0f} s "
              f"({stats['total'] / WINDOW * 60:.0f}/min), by kind {dict(stats['by_kind'])}")
        source.close()
