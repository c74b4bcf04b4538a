"""fakeai-dash: a Dash dashboard for OpenAI-shaped fine-tuning jobs."""

__version__ = "0.1.0"
