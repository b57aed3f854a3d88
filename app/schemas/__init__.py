"""Wire models per API surface. Must not import the domain services, app.http or fastapi."""
