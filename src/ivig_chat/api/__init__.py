"""The HTTP API: create_app(settings) builds everything once in its lifespan."""

from .app import create_app

__all__ = ["create_app"]
