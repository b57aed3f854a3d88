"""Direct messages: events between two accounts, with media. Never imports ``app.http``."""
