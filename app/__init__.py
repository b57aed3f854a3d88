"""Media Studio API: a Twitter-compatible media upload service.

Layers point one way: ``routers -> services -> {upload, processing, models}`` and
``workers -> services``. ``tests/test_architecture.py`` enforces it.
"""
