"""Wire bodies shared by the surfaces: Twitter's error forms."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, RootModel

__all__ = ["BadRequestBody", "ErrorItem", "ErrorsBody", "LegacyUploadError"]


class ErrorItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: int
    message: str


class ErrorsBody(BaseModel):
    """`{"errors":[{"code","message"}]}`: Twitter's general error form."""

    errors: list[ErrorItem]


class LegacyUploadError(BaseModel):
    """The upload host's form; extra fields say what is wrong (received_bytes, ...)."""

    model_config = ConfigDict(extra="allow")
    request: str
    error: str
    total_bytes: int | None = None
    received_bytes: int | None = None
    missing_segments: list[int] | None = None
    received_segments: list[int] | None = None
    detected_type: str | None = None


class BadRequestBody(RootModel[LegacyUploadError | ErrorsBody]):
    pass
