"""Playback analytics: events in from players (``ingest``), counted per session and hour
by the rollup (``rules`` pure, ``rollup``), numbers out through queries over the hourly
rollups (``buckets`` pure, ``query``) to the Ads API stats, the v2 media metrics and the
studio's own report."""
