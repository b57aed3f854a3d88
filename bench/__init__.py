"""Upload benchmark: ``python -m bench.run`` (``make bench``)."""
