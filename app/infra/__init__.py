"""Performance and plumbing below the domains: database engines, the in-loop SQLite
driver, compiled hot statements with group commit (``statements``), process tuning.

Only ``app.uploads.queries`` and this package use the compiled statements. Must not
import fastapi, starlette or any ``app.http`` module."""
