"""The v1.1 wire surface: routes and presenters of v1.1-shaped JSON."""
