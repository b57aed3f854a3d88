"""Wire models per API surface. Must not import app.services, app.routers or fastapi."""
