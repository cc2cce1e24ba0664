"""Answerers: the extractive default, and the pieces answers are built from."""
