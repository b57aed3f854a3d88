"""Platform users, client apps, bearer tokens and OAuth 1.0a credentials; rate-limit
windows. Never imports ``app.http``."""
