"""Use cases. Each state-changing function commits before it returns.

May import app.upload, app.processing and app.models; never fastapi or app.routers.
"""
