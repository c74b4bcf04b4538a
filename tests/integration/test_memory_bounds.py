"""A live job's caches stay bounded (issue #22 item 6): a worker that follows a job through
thousands of events keeps one decoded history per job, and its shared results within their
stated bounds in bytes, whatever the job's length.

Real parts: the scale simulator's live job, the leader's job sync round, the source's history
cache, the charts' figure and update caches and the events log's pages. No timing: each round
is run in the test's own thread, one after another.
"""

from __future__ import annotations

from fakeai_dash.components import events_log, training_charts
from fakeai_dash.i18n import use_locale
from fakeai_dash.sizing import approx_bytes
from fakeai_dash.sync import source as source_module
from tests.integration.sync_support import source_for  # noqa: F401 - a fixture
from tests.support.scale_sim import ScaleSimulator

ROUNDS = 40
STEPS_PER_ROUND = 150  # 6,000 events: 40 history versions, each longer than the one before
VIEW = {"smoothing": 0.6, "log": False, "x": "step", "theme": "dark"}
MB = 1024 * 1024


def follow(source, sim, job_id):
    """One event burst and one sync round, then what the job's open pages ask of this worker."""
    drawn = {}
    for _ in range(ROUNDS):
        sim.advance(job_id, STEPS_PER_ROUND)
        source.engine.job_sync.run(job_id)
        history = source.metric_history(job_id)
        with use_locale("en"):
            for graph in ("loss", "accuracy"):
                _, drawn[graph] = training_charts.graph_update(graph, job_id, history, VIEW, [], None, None,
                                                               drawn.get(graph))
            page = source.events_page(job_id, None, events_log.PAGE_SIZE)
            events_log._SHARED_ROWS((page["version"], 0, "en"), lambda: events_log.page_rows(page["events"], 0))
    return history


def test_memory001_a_live_job_keeps_one_decoded_history(source_for):
    with ScaleSimulator(jobs=3, big=["100000:live:done=1"]) as sim:
        job_id = sim.big_job_ids[0]
        source = source_for(sim.url, start=False)
        newest = follow(source, sim, job_id)
        assert len(newest) >= ROUNDS * STEPS_PER_ROUND
        # Keyed by version, the original kept 8 versions of this one job (each a longer copy).
        kept = list(source._histories.values())
        assert kept == [newest] and kept[0] is newest
        assert sum(h.nbytes for h in kept) == newest.nbytes <= source_module.HISTORY_CACHE_BYTES


def test_memory002_shared_results_stay_within_their_stated_bytes(source_for):
    with ScaleSimulator(jobs=3, big=["100000:live:done=1"]) as sim:
        job_id = sim.big_job_ids[0]
        source = source_for(sim.url, start=False)
        follow(source, sim, job_id)
    caches = {"figures": training_charts._FIGURES, "updates": training_charts._UPDATES,
              "log pages": source_module._LOG_PAGES, "log rows": events_log._SHARED_ROWS}
    for name, shared in caches.items():
        cache = shared.cache
        held = sum(approx_bytes(value) for value in cache.values())
        assert 0 < held <= cache.maxsize, (name, held, cache.maxsize)
        assert cache.currsize <= cache.maxsize, name
    assert training_charts._FIGURES.cache.maxsize == training_charts._UPDATES.cache.maxsize == 8 * MB


def test_memory003_one_value_past_the_bytes_is_returned_not_kept():
    from fakeai_dash.shared_results import shared_results

    result = shared_results(4, max_bytes=64 * 1024)
    big = result("big", lambda: bytes(100 * 1024))
    assert len(big) == 100 * 1024 and "big" not in result.cache
    for version in range(50):  # growing values under new keys: the oldest go, the bytes hold
        result(("job", version), lambda version=version: bytes(4096 * (version + 1)))
    held = sum(approx_bytes(value) for value in result.cache.values())
    assert held <= 64 * 1024 and len(result.cache) <= 4
