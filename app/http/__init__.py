"""HTTP only: the one package that imports fastapi or starlette. Parse (``forms``,
``params``), call one use case, shape the wire JSON (presenters per surface), declare
errors.

``v11`` and ``v2`` never import each other; what they share lives in the top-level
modules of this package. Must not import sqlalchemy, app.models or storage backends."""
