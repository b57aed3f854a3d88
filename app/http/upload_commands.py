"""Requests to upload commands, once for both surfaces, and the commands to use cases.

``from_form`` reads the ``command=`` form (v1.1 ``/1.1/media/upload.json`` and the
generation-A form of ``POST /2/media/upload``); ``append_from_form`` and the
``from_v2_*`` functions read the v2 shapes (path ids, JSON bodies). Every field goes
through ``app.http.params``, so the two surfaces accept and refuse the same values.
``run`` calls the use case a command names; the presenters (v1.1 body, v2 ``data``) stay
with the routes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import overload

from app.context import AppContext
from app.core import errors
from app.http import params
from app.http.forms import RequestForm, b64, once, sha256_hex
from app.infra import metrics
from app.media.views import MediaView
from app.schemas.v2 import V2AppendJSON, V2InitRequest, V2OneShotJSON
from app.uploads import append as appends
from app.uploads import limits
from app.uploads import service as uploads
from app.uploads.commands import Append, Command, Finalize, Init, SimpleUpload, Status

__all__ = [
    "append_from_form",
    "from_form",
    "from_v2_append_json",
    "from_v2_init",
    "from_v2_simple_json",
    "init_from_params",
    "run",
    "status_from_params",
]

_OWNERS = "additional_owners"


def _owners(raw: object) -> tuple[int, ...]:
    if raw is not None and not isinstance(raw, (str, list)):
        raise params.upload_invalid(_OWNERS, raw)
    ids = params.id_list(
        raw, _OWNERS, max_count=limits.MAX_ADDITIONAL_OWNERS, invalid=params.upload_invalid
    )
    return tuple(ids)


def _media_id(raw: object) -> int:
    return params.snowflake(raw, "media_id", invalid=params.upload_invalid)


def init_from_params(values: Mapping[str, str]) -> Init:
    return Init(
        total_bytes=params.total_bytes(values.get("total_bytes")),
        media_type=params.media_type(values.get("media_type")),
        category=params.category(values.get("media_category")),
        additional_owners=_owners(values.get(_OWNERS)),
        shared=params.flag(values.get("shared")),
    )


def status_from_params(values: Mapping[str, str], *, command_required: bool) -> Status:
    """STATUS from a query string: ``command=STATUS`` (optional on v2), ``media_id``."""
    media_id = params.snowflake(values.get("media_id"), "media_id", invalid=params.upload_invalid)
    command = values.get("command")
    if command is None and command_required:
        raise errors.ParameterMissing("command")
    if command not in (None, "STATUS"):
        raise errors.BadParameter(f"Invalid command: {command}. Use STATUS with GET.")
    return Status(media_id=media_id)


async def append_from_form(
    form: RequestForm,
    *,
    segment_cap: int,
    media_id: int | None,
    index_optional: bool,
    sha256_header: str | None,
) -> Append:
    """APPEND from a form with a media part. ``media_id`` comes from the path (v2) or,
    when None, from the form. A media part sent before the fields that say where it goes
    is held in memory (one segment at most) while they are read."""
    if form.media is None:
        await form.read_rest()
        raise errors.ParameterMissing("media")
    wanted = ("segment_index",) if media_id is not None else ("media_id", "segment_index")
    if all(name in form.params for name in wanted):
        chunks = form.media.chunks()
    else:
        chunks = await form.hold_media(segment_cap)
    raw_index = form.params.get("segment_index")
    optional = index_optional and not raw_index
    index = None if optional else params.segment_index(raw_index)
    if media_id is None:
        media_id = _media_id(form.params.get("media_id"))
    return Append(
        media_id=media_id, index=index, chunks=chunks, expected_sha256=sha256_hex(sha256_header)
    )


def _simple_from_form(form: RequestForm) -> SimpleUpload:
    assert form.media is not None
    return SimpleUpload(
        chunks=form.media.chunks(),
        category=params.category(form.params.get("media_category")),
        additional_owners=_owners(form.params.get(_OWNERS)),
        shared=params.flag(form.params.get("shared")),
    )


async def from_form(
    form: RequestForm, *, segment_cap: int, index_optional: bool, sha256_header: str | None
) -> Command:
    """The ``command=`` form: INIT, APPEND, FINALIZE, or (no command, a media part) the
    simple upload. Fields after a media part are read once the caller streamed it
    (``form.read_rest()``); for the other commands they are read here."""
    command = form.params.get("command")
    if command is None and form.media is not None:
        return _simple_from_form(form)
    if command == "APPEND":
        return await append_from_form(
            form,
            segment_cap=segment_cap,
            media_id=None,
            index_optional=index_optional,
            sha256_header=sha256_header,
        )
    if form.media is not None:
        raise errors.BadParameter(f"media is only accepted with APPEND, not {command}.")
    await form.read_rest()
    if command == "INIT":
        return init_from_params(form.params)
    if command == "FINALIZE":
        return Finalize(media_id=_media_id(form.params.get("media_id")))
    if command is None:
        raise errors.ParameterMissing("media")
    raise errors.BadParameter(f"Invalid command: {command}.")


def from_v2_init(body: V2InitRequest) -> Init:
    return Init(
        total_bytes=params.total_bytes(body.total_bytes),
        media_type=params.media_type(body.media_type),
        category=params.category(body.media_category),
        additional_owners=_owners(body.additional_owners),
        shared=body.shared,
    )


def from_v2_append_json(body: V2AppendJSON, *, media_id: int, sha256_header: str | None) -> Append:
    index = None if body.segment_index in (None, "") else params.segment_index(body.segment_index)
    return Append(
        media_id=media_id,
        index=index,
        chunks=once(b64(body.media)),
        expected_sha256=sha256_hex(sha256_header),
    )


def from_v2_simple_json(body: V2OneShotJSON) -> SimpleUpload:
    return SimpleUpload(
        chunks=once(b64(body.media)),
        category=params.category(body.media_category),
        additional_owners=_owners(body.additional_owners),
        shared=body.shared,
    )


@overload
async def run(
    command: Init | Finalize | Status | SimpleUpload,
    context: AppContext,
    *,
    owner_id: int,
    now: datetime,
) -> MediaView: ...
@overload
async def run(
    command: Append, context: AppContext, *, owner_id: int, now: datetime
) -> datetime: ...
async def run(
    command: Command, context: AppContext, *, owner_id: int, now: datetime
) -> MediaView | datetime:
    """The use case for ``command``; APPEND returns when the upload expires."""
    if isinstance(command, Init):
        return await uploads.init_upload(
            context.statements,
            context.ids,
            context.policy,
            owner_id=owner_id,
            total_bytes=command.total_bytes,
            media_type=command.media_type,
            category=command.category,
            additional_owners=list(command.additional_owners),
            shared=command.shared,
            now=now,
        )
    if isinstance(command, Append):
        with metrics.APPEND_SECONDS.time():
            return await appends.append_segment(
                context.statements,
                context.store,
                context.policy,
                owner_id=owner_id,
                media_id=command.media_id,
                index=command.index,
                chunks=command.chunks,
                expected_sha256=command.expected_sha256,
                now=now,
            )
    if isinstance(command, Finalize):
        with metrics.FINALIZE_SECONDS.time():
            return await uploads.finalize_upload(
                context.sessions,
                context.store,
                context.policy,
                owner_id=owner_id,
                media_id=command.media_id,
                now=now,
            )
    if isinstance(command, Status):
        return await uploads.get_status(
            context.statements,
            owner_id=owner_id,
            media_id=command.media_id,
            now=now,
            checksums=context.store,
        )
    return await uploads.simple_upload(
        context.sessions,
        context.store,
        context.ids,
        context.policy,
        owner_id=owner_id,
        chunks=command.chunks,
        category=command.category,
        additional_owners=list(command.additional_owners),
        shared=command.shared,
        now=now,
    )
