"""What one reader can make the sync loop ask the API, on the real app under gunicorn (issue #17,
finding 4): made-up job ids cost a small fixed number of lookups, not one per id per round.

Two workers, the Procfile's command, Basic sign-in; the API is the scale simulator, which counts
requests per job id. The requests are the job-details fetch a page posts, built from the app's
own /_dash-dependencies, with ids no job has.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from fakeai_dash.embedded import free_port
from tests.deploy.test_auth_deploy import PROCFILE, procfile_env
from tests.deploy.test_private_data import detail_fetch
from tests.deploy.test_server import running, wait_until
from tests.integration.test_auth_gate import OPERATOR, VIEWER, basic, dependencies, text_of, write_users
from tests.support.scale_sim import ScaleSimulator

FORGED = 300
MAX_LOOKUPS = 25  # the per-user cap (20) and a few admitted by two workers at the same instant
ROUNDS = 6  # sync rounds (1 s each) that must pass while the bound holds


def forged_lookups(sim: ScaleSimulator) -> int:
    real = set(sim.job_ids())
    return sum(kinds.get("job_retrieve", 0) for job_id, kinds in sim.stats()["by_job"].items() if job_id not in real)


def test_watch001_300_forged_detail_fetches_cost_a_few_lookups_and_real_jobs_still_load(tmp_path):
    users = write_users(tmp_path / "users.json")
    with ScaleSimulator(jobs=8, running_jobs=2) as sim:
        port = free_port()
        env = procfile_env(tmp_path, "127.0.0.1", port, FAKEAI_DASH_AUTH="basic", FAKEAI_DASH_USERS_FILE=users,
                           FAKEAI_DASH_API_BASE=sim.url, FAKEAI_DASH_DATA_DIR=str(tmp_path / "data"),
                           FAKEAI_DASH_REFRESH_INTERVAL="1")
        with running(PROCFILE, tmp_path, env, port) as server:
            wait_until(lambda: server.log.count("Booting worker") >= 2, 30, "two workers")
            base = server.base
            deps = dependencies(lambda p: requests.get(base + p, headers=basic(VIEWER), timeout=10))
            real = next(j for j in sim.job_ids() if sim._job(j).status == "running")

            def fetch(user, job_id) -> str:
                answer = requests.post(f"{base}/_dash-update-component", json=detail_fetch(deps, job_id),
                                       headers=basic(user), timeout=30)
                assert answer.status_code in (200, 204), answer.text[:300]
                return text_of(answer.json()) if answer.status_code == 200 else ""

            sim.reset_stats()
            with ThreadPoolExecutor(4) as pool:  # a reader's script, a few requests at a time
                answers = list(pool.map(lambda _: fetch(VIEWER, f"ftjob-{uuid.uuid4()}"), range(FORGED)))

            # Rounds pass (the real job, which a real page keeps open, is fetched each round) ...
            start = sim.stats()["by_job"].get(real, {}).get("job_retrieve", 0)
            wait_until(lambda: fetch(OPERATOR, real) is not None and
                       sim.stats()["by_job"].get(real, {}).get("job_retrieve", 0) >= start + ROUNDS,
                       60, f"{ROUNDS} sync rounds")
            # ... and the forged ids cost each at most one lookup, and only the first few got one.
            assert forged_lookups(sim) <= MAX_LOOKUPS, forged_lookups(sim)
            assert max(kinds.get("job_retrieve", 0) for job_id, kinds in sim.stats()["by_job"].items()
                       if job_id != real) <= 1
            # The rest were told why they are not followed (the page shows it instead of data).
            refused = sum("Not followed: you opened 20 jobs that are not in the jobs list" in a for a in answers)
            assert refused >= FORGED - MAX_LOOKUPS, answers[:3]
            # A made-up id the API answered 404 for: "No such job", and no new lookup.
            looked_up = next(j for j in sim.stats()["by_job"] if j not in sim.job_ids())
            assert "No such job" in fetch(VIEWER, looked_up)
            # Real jobs still load, for the other user and for the one who sent the forgeries.
            assert real in fetch(OPERATOR, real) and real in fetch(VIEWER, real)
            assert forged_lookups(sim) <= MAX_LOOKUPS
        assert "Traceback" not in server.log
