"""Who may hear of an episode: the rule notifications and digests apply before they say
anything about one (the site's pages apply the same rule in ``webapp.members``)."""

from __future__ import annotations

from ..models import Episode, EpisodeStatus, Role, User
from ..private_feeds import MEMBER_ROLE


def can_see(user: User | None, episode: Episode | None) -> bool:
    """A published public episode: anyone. Members-only: an active account with the member role.
    Anything not published (in review, unpublished): nobody, through a notification."""
    if episode is None:
        return True  # the notification is not about an episode
    if episode.status != EpisodeStatus.published.value:
        return False
    if not episode.members_only:
        return True
    return user is not None and user.active and Role(user.role).rank >= MEMBER_ROLE.rank
