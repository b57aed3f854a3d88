"""The upload protocol core: rules, limits, ids and the storage interface.

Must not import fastapi, starlette, sqlalchemy, app.models, app.services or app.routers.
"""
