"""The X API v2 wire surface: routes and presenters of v2-shaped JSON."""
