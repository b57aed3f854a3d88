"""What every layer shares: the ApiError tree (``errors``), snowflake ids (``ids``), the clock.

Imports nothing else of the app."""
