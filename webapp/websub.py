"""WebSub: tell the configured hub that feeds changed, so apps that subscribed refresh at once."""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request

from pipeline.models import Episode
from pipeline.settings import Settings

log = logging.getLogger(__name__)


def feed_urls_for(settings: Settings, episode: Episode) -> list[str]:
    """Every feed an episode appears in: the main feed, its topics' and its event's."""
    base = settings.BASE_URL
    urls = [f"{base}/feed.xml"]
    urls += [f"{base}/tags/{t.slug}/feed.xml" for t in episode.accepted_tags]
    if episode.event:
        urls.append(f"{base}/events/{episode.event.slug}/feed.xml")
    return urls


def ping_hub(hub_url: str, topics: list[str], timeout: float = 5.0) -> list[str]:
    """POST hub.mode=publish for each topic; returns the problems (a hub outage must not undo a
    publication, so the caller reports them instead of failing)."""
    problems = []
    for topic in topics:
        data = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": topic}).encode()
        request = urllib.request.Request(hub_url, data=data, method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if response.status >= 300:
                    problems.append(f"hub answered {response.status} for {topic}")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            problems.append(f"hub unreachable for {topic}: {getattr(exc, 'reason', exc)}")
    for problem in problems:
        log.warning("WebSub: %s", problem)
    return problems


def announce_changed_feeds(ctx, episode_id: int) -> list[str]:
    """The ``feeds_changed`` hook (``pipeline.jobs.JobContext``): ping the hub for every feed the
    episode is in; returns the problems (logged, never raised)."""
    if not ctx.settings.WEBSUB_HUB:
        return []
    with ctx.session() as session:
        topics = feed_urls_for(ctx.settings, session.get(Episode, episode_id))
    return ping_hub(ctx.settings.WEBSUB_HUB, topics)
