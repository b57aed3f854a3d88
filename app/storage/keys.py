"""The one place storage keys are made. Nothing else writes a key by hand.

::

    <media_id>                                     the assembled blob (and its segments)
    <media_id>/variants/<relative>                 photo sizes, renditions, HLS, previews,
                                                   subtitle tracks (``relative`` as in
                                                   ``media_variants.path``)
    profile-<account_id>/variants/<kind>/<token>/<name>   avatar and banner files

The first component groups a media's or an account's objects: discarding it removes
them all. (Profile files sit below ``variants/`` because that is where the service
kept them before this module existed: existing data directories keep working.)
"""

from __future__ import annotations

from typing import Literal

__all__ = ["ProfileKind", "media", "profile", "profile_prefix", "variant", "variants_prefix"]

ProfileKind = Literal["images", "banners"]


def media(media_id: int) -> str:
    """The key of a media's blob; also the group of everything stored for it."""
    return str(media_id)


def variants_prefix(media_id: int) -> str:
    return f"{media_id}/variants/"


def variant(media_id: int, relative: str) -> str:
    """A processed output, ``relative`` to the media's variants (``vid/640x360.mp4``)."""
    return variants_prefix(media_id) + relative


def profile_prefix(account_id: int, kind: ProfileKind, token: str | None = None) -> str:
    """Every ``kind`` file of an account, or those of one upload (``token``)."""
    prefix = f"profile-{account_id}/variants/{kind}/"
    return prefix if token is None else f"{prefix}{token}/"


def profile(account_id: int, kind: ProfileKind, token: str, name: str) -> str:
    return profile_prefix(account_id, kind, token) + name
