"""The upload domain: the protocol (pure rules over snapshots), limits, streams, and the
use cases INIT / APPEND / FINALIZE / STATUS / simple upload.

``protocol`` and ``limits`` import neither SQLAlchemy nor storage. Nothing here imports
fastapi, starlette or ``app.http``."""
