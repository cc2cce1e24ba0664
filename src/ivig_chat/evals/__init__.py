"""Evaluation: datasets, metrics and runners (see README, evals)."""
