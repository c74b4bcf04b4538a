"""Evals of fine-tuned models: eval sets, graders and scores (pure: no Dash, no Flask, no HTTP)."""
