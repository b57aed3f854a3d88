"""HTTP only: parse, call one service, shape the response, declare errors.

Must not import sqlalchemy, app.models or concrete storage backends.
"""
