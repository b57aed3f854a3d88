"""Who may see a media object, and who may attach it: the one rule every lookup applies.

A media is seen by

- its owner (the uploader) and the users named in ``additional_owners`` at INIT;
- everyone, once it is attached to a post (posts are public);
- the participants (sender and recipient) of every DM that carries it.

Nobody else: to them it does not exist, and every lookup answers exactly what it answers
for an id that was never issued. Attaching (to a post or a DM) takes more than seeing:
the owner or an additional owner only, so a posted photo cannot be re-attached by others.

The rule is data (``VISIBLE_BY``, ``ATTACHABLE_BY``) plus pure functions over an
``Audience``; ``app/media/lookup.py`` compiles the same grounds into the SQL filter the
list lookups run, and tests/http/test_visibility.py checks both agree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "ATTACHABLE_BY",
    "VISIBLE_BY",
    "Audience",
    "Ground",
    "grounds",
    "may_attach",
    "may_see",
]


class Ground(enum.Enum):
    """One reason a user may see (or attach) a media."""

    OWNER = "owner"
    ADDITIONAL_OWNER = "additional_owner"
    IN_POST = "in_post"
    DM_PARTICIPANT = "dm_participant"


VISIBLE_BY: tuple[Ground, ...] = (
    Ground.OWNER,
    Ground.ADDITIONAL_OWNER,
    Ground.IN_POST,
    Ground.DM_PARTICIPANT,
)
ATTACHABLE_BY: tuple[Ground, ...] = (Ground.OWNER, Ground.ADDITIONAL_OWNER)


@dataclass(frozen=True, slots=True)
class Audience:
    """The facts about one media the rule reads."""

    owner_id: int
    additional_owner_ids: frozenset[int] = frozenset()
    in_post: bool = False
    dm_participant_ids: frozenset[int] = frozenset()


def grounds(viewer_id: int | None, audience: Audience) -> frozenset[Ground]:
    """Every ground on which ``viewer_id`` (None: no credentials) meets ``audience``."""
    held = set()
    if viewer_id is not None and viewer_id == audience.owner_id:
        held.add(Ground.OWNER)
    if viewer_id is not None and viewer_id in audience.additional_owner_ids:
        held.add(Ground.ADDITIONAL_OWNER)
    if audience.in_post:
        held.add(Ground.IN_POST)
    if viewer_id is not None and viewer_id in audience.dm_participant_ids:
        held.add(Ground.DM_PARTICIPANT)
    return frozenset(held)


def may_see(viewer_id: int | None, audience: Audience) -> bool:
    return any(g in VISIBLE_BY for g in grounds(viewer_id, audience))


def may_attach(viewer_id: int | None, audience: Audience) -> bool:
    return any(g in ATTACHABLE_BY for g in grounds(viewer_id, audience))
