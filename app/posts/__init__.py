"""Posts (tweets): pure rules apart from the service that stores them.

Never imports ``app.http``."""
