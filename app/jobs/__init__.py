"""Durable background work: the job queue (a table), the runner, the kind -> handler
registry and the expiry sweeper. Never imports ``app.http``."""
