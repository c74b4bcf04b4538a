"""Training price lookup: one place that turns a model name into dollars per 1K tokens."""

from __future__ import annotations

from collections.abc import Mapping

# The seed's CostTracker charges $0.008 per 1K training tokens for every model.
DEFAULT_PRICE_PER_1K = 0.008


def price_per_1k_tokens(model: str | None, table: Mapping[str, float] | None = None) -> float:
    """Price for training ``model``, by the longest table key the model name starts with.

    Fine-tuned names (``ft:<base>:org:suffix:id``) are priced as their base model, and a
    ``default`` key (else the seed's $0.008) covers models the table does not name.
    """
    table = table or {}
    name = (model or "").strip()
    if name.startswith("ft:"):
        name = name.split(":", 2)[1]
    matches = [key for key in table if key != "default" and name.startswith(key)]
    if matches:
        return float(table[max(matches, key=len)])
    return float(table.get("default", DEFAULT_PRICE_PER_1K))


def training_cost(tokens: float | None, model: str | None, table: Mapping[str, float] | None = None) -> float:
    """Dollars for training ``tokens`` tokens on ``model`` (0 for unknown token counts)."""
    if not tokens:
        return 0.0
    return tokens / 1000.0 * price_per_1k_tokens(model, table)
