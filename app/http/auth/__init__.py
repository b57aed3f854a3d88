"""Credential schemes beyond the bearer token: OAuth 1.0a user context (``oauth1``).

Each scheme implements ``app.http.deps.Authenticator``. It may read headers and, where the
scheme signs it, a bounded request body; it opens only short sessions through services."""
