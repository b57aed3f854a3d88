"""The studio (Media Studio on the Ads API wire): ads-style accounts with members and
roles, the media library, draft and scheduled posts, previews and the scheduler.

``permissions`` and ``rules`` are pure (no database, no HTTP); the services below them
take a session. Never imports ``app.http``."""
