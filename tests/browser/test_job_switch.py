"""Switching jobs: the details body never shows one job's panels under another job's header."""

from __future__ import annotations

import pytest

from tests.support.browser_support import LOAD_TICKS, ticks, wait_until

pytestmark = pytest.mark.browser

TICK = 1.0
ROW = "#jobs-grid .ag-center-cols-container .ag-row[row-id='{}'] .job-cell"

# Records, on every DOM change, what a person would see: the header's job id and the
# hyperparameters panel's epochs, while the details body is visible.
RECORDER = """
window.__seen = [];
const snap = () => {
  const body = document.getElementById('job-details-body');
  if (!body || body.style.display === 'none') { return; }
  const id = (document.getElementById('detail-job-id') || {}).textContent;
  const dds = [...document.querySelectorAll('#hyperparameters dt')];
  const epochs = dds.find(dt => dt.textContent === 'Epochs');
  window.__seen.push([id, epochs ? epochs.nextElementSibling.textContent : null]);
};
new MutationObserver(snap).observe(document.body, {subtree: true, childList: true, characterData: true,
                                                    attributes: true, attributeFilter: ['style']});
"""


def test_switch001_never_mixes_two_jobs(fakeai, start_dash):
    first = fakeai.create_job(hyperparameters={"n_epochs": 7})
    second = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct", hyperparameters={"n_epochs": 2})
    epochs = {first["id"]: "7", second["id"]: "2"}
    dash_duo = start_dash(fakeai.url, path=f"/jobs/{first['id']}?smoothing=0.9", refresh_interval=TICK)
    dash_duo.wait_for_text_to_equal("#detail-job-id", first["id"], timeout=ticks(LOAD_TICKS, TICK))
    dash_duo.wait_for_contains_text("#hyperparameters", "7", timeout=ticks(10, TICK))
    dash_duo.driver.execute_script(RECORDER)

    for target in (second, first, second):
        dash_duo.find_element(ROW.format(target["id"])).click()
        dash_duo.wait_for_text_to_equal("#detail-job-id", target["id"], timeout=ticks(10, TICK))
        wait_until(lambda: dash_duo.find_element("#job-details-body").is_displayed(), ticks(10, TICK),
                   "the details body never showed")

    seen = dash_duo.driver.execute_script("return window.__seen")
    assert {tuple(s) for s in seen} >= {(second["id"], "2"), (first["id"], "7")}  # the recorder saw both
    mixed = [s for s in seen if s[0] in epochs and s[1] != epochs[s[0]]]
    assert mixed == []
    # The chart view in the URL query survives picking another job.
    assert "smoothing=0.9" in dash_duo.driver.current_url
    assert dash_duo.get_logs() == []
