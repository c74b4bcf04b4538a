"""server/first_list.py: what the first layout carries for the jobs list."""

from __future__ import annotations

from fakeai_dash import ids
from fakeai_dash.server.first_list import list_settings


def drawn(snapshot) -> dict[tuple[str, str], object]:
    return {(component, prop): value for component, prop, value in list_settings(snapshot)}


def test_firstlistu001_rows_go_to_the_store_and_the_grid_with_counts_and_a_good_status():
    rows = [{"id": "ftjob-a", "status": "running", "model": "m"}, {"id": "ftjob-b", "status": "failed", "model": "m"}]
    settings = drawn({"rows": rows, "signature": "sig", "at": 12.5})
    assert settings[(ids.JobsList.STORE, "data")] == rows
    assert settings[(ids.JobsList.GRID, "rowData")] == rows
    assert settings[(ids.JobsList.SIGNATURE, "data")] == "sig"
    assert settings[(ids.JobsList.STATS, "data")] == {"total": 2, "active": 1, "succeeded": 0, "failed": 1}
    # The fetch's quiet-tick condition: a signature and an ok status.
    assert settings[(ids.Page.API_STATUS, "data")] == {"ok": True, "last_good": 12.5}
    assert settings[(ids.JobsList.LOADING, "style")] == {"display": "none"}
    assert settings[(ids.JobsList.GRID_WRAPPER, "style")] == {}
    assert (ids.JobsList.EMPTY, "style") not in settings
    assert [card.id for card in settings[(ids.Header.STATS, "children")]] == [
        "stat-total", "stat-active", "stat-succeeded", "stat-failed"]


def test_firstlistu002_no_job_at_all_shows_the_empty_state_not_the_grid():
    settings = drawn({"rows": [], "signature": "empty", "at": 1.0})
    assert settings[(ids.JobsList.EMPTY, "style")] == {}
    assert (ids.JobsList.GRID, "rowData") not in settings
    assert (ids.JobsList.GRID_WRAPPER, "style") not in settings
