"""Media inspection and processing: sniffing, probing, validation, variants.

Works on bytes and file paths. Must not import fastapi, starlette or app.http.
"""
