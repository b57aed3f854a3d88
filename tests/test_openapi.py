from __future__ import annotations

import json
from pathlib import Path

from app.main import create_app

SPEC = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def test_exported_openapi_is_current() -> None:
    current = create_app().openapi()

    assert SPEC.exists(), "run `make openapi`"
    assert json.loads(SPEC.read_text()) == json.loads(json.dumps(current)), (
        "openapi/openapi.json is stale: run `make openapi`"
    )


def test_every_operation_documents_its_errors() -> None:
    spec = create_app().openapi()

    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if path.startswith("/1.1/"):
                assert "400" in operation["responses"], f"{method} {path}"
                assert "401" in operation["responses"], f"{method} {path}"
