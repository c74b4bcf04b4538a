"""OpenAI-shaped job lists for tests and benchmarks that need many jobs."""

from __future__ import annotations

import json

from werkzeug import Response

STATUSES = ("succeeded", "running", "failed", "cancelled", "queued", "validating_files")
MODELS = ("gpt-4o-mini-2024-07-18", "meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-7B-Instruct")


def openai_job(index: int, now: int = 1_790_000_000) -> dict:
    status = STATUSES[index % len(STATUSES)]
    return {
        "object": "fine_tuning.job", "id": f"ftjob-{index:06d}", "model": MODELS[index % len(MODELS)],
        "created_at": now - index * 60, "finished_at": None, "status": status,
        "fine_tuned_model": f"ft:{MODELS[index % len(MODELS)]}:org:run{index}:abc" if status == "succeeded" else None,
        "organization_id": "org-1", "result_files": [], "training_file": "file-1", "validation_file": None,
        "trained_tokens": 1000 + index if status == "succeeded" else None, "error": {},
        "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3, "batch_size": 1,
                                                                            "learning_rate_multiplier": 1.8}}},
        "seed": index, "estimated_finish": None, "metadata": None,
    }


def serve_job_pages(httpserver, jobs: list[dict]) -> None:
    """Serve ``jobs`` from /v1/fine_tuning/jobs with OpenAI's limit/after paging."""
    by_id = {job["id"]: i for i, job in enumerate(jobs)}

    def handler(request):
        limit = int(request.args.get("limit", 20))
        start = by_id[request.args["after"]] + 1 if "after" in request.args else 0
        page = jobs[start:start + limit]
        body = {"object": "list", "data": page, "has_more": start + limit < len(jobs)}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/v1/fine_tuning/jobs").respond_with_handler(handler)
