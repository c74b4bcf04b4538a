"""The wire: pydantic models and the HTTP client for the OpenAI-shaped fine-tuning API."""

from fakeai_dash.api.client import ApiError, FineTuningClient

__all__ = ["ApiError", "FineTuningClient"]
