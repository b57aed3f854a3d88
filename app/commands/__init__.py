"""The ``mediastudio`` sub-commands beside serve/worker (app/cli.py), and the one place
that turns an expected mistake into one line on stderr (``mistakes``)."""
