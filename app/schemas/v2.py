"""X API v2 media upload wire models (spec §7.6) and the v2 problem form (§5.1).

v2 answers wrap everything in ``data`` and carry the id as a string ``id``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.v11 import ImageInfoV11, MediaResponseV11, ProcessingInfo, UploadInfo, VideoInfoV11

__all__ = [
    "Problem",
    "ProblemError",
    "V2AppendData",
    "V2AppendJSON",
    "V2AppendResponse",
    "V2InitData",
    "V2InitRequest",
    "V2InitResponse",
    "V2MediaData",
    "V2MediaUploadResponse",
    "V2OneShotJSON",
]

MediaIdStr = Annotated[str, Field(pattern=r"^[0-9]{1,19}$")]


class V2InitRequest(BaseModel):
    """``POST /2/media/upload/initialize``; the spec marks no field required, INIT needs
    ``media_type`` and ``total_bytes``."""

    model_config = ConfigDict(extra="ignore")
    media_type: str | None = None
    total_bytes: int | None = Field(default=None, ge=0, le=2**34)
    media_category: str | None = None
    additional_owners: list[MediaIdStr] = []
    shared: bool = False


class V2AppendJSON(BaseModel):
    """APPEND as JSON: ``media`` is base64."""

    model_config = ConfigDict(extra="ignore")
    media: str
    segment_index: int | str | None = None


class V2OneShotJSON(BaseModel):
    """One-shot ``POST /2/media/upload`` as JSON: ``media`` is base64."""

    model_config = ConfigDict(extra="ignore")
    media: str
    media_category: str | None = None
    media_type: str | None = None
    additional_owners: list[MediaIdStr] = []
    shared: bool = False


class V2InitData(BaseModel):
    id: str
    media_key: str
    expires_after_secs: int


class V2InitResponse(BaseModel):
    data: V2InitData


class V2AppendData(BaseModel):
    expires_at: int = Field(description="unix seconds when the open upload expires")


class V2AppendResponse(BaseModel):
    data: V2AppendData


class V2MediaData(BaseModel):
    """FINALIZE, STATUS and one-shot answer; absent fields are omitted, not null."""

    id: str
    media_key: str | None = None
    size: int | None = None
    expires_after_secs: int | None = None
    processing_info: ProcessingInfo | None = None
    image: ImageInfoV11 | None = None
    video: VideoInfoV11 | None = None
    upload_info: UploadInfo | None = Field(
        default=None, description="beyond X: stored segments while uploading, for resuming"
    )

    @classmethod
    def from_v11(cls, body: MediaResponseV11) -> V2MediaData:
        return cls(
            id=body.media_id_string,
            media_key=body.media_key,
            size=body.size,
            expires_after_secs=body.expires_after_secs,
            processing_info=body.processing_info,
            image=body.image,
            video=body.video,
            upload_info=body.upload_info,
        )


class V2MediaUploadResponse(BaseModel):
    data: V2MediaData


class ProblemError(BaseModel):
    model_config = ConfigDict(extra="allow")
    message: str
    code: int | None = None
    parameters: dict[str, list[str]] | None = None


class Problem(BaseModel):
    """RFC 7807-style v2 error: ``type``, ``title``, ``detail``, ``status``, ``errors``."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    detail: str
    status: int
    errors: list[ProblemError] = []

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)
