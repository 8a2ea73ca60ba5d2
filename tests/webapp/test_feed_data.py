"""Feed data kept in the database: the podcast GUID each feed keeps."""

from __future__ import annotations

from pipeline.models import SiteValue


def test_two_first_polls_of_a_new_feed_agree_on_its_guid(ctx, monkeypatch):
    """Another request stores the GUID between this one's look-up and its insert (what a burst
    of apps polling a new topic feed does): this one answers with the stored GUID, no error."""
    from webapp import feed_data

    computed = feed_data.podcast_guid_for

    def racing(url: str) -> str:
        with ctx.sessions() as other:
            other.add(SiteValue(key="podcast_guid:tags/fillers/feed.xml", value="stored-by-the-other-request"))
            other.commit()
        return computed(url)

    monkeypatch.setattr(feed_data, "podcast_guid_for", racing)
    with ctx.sessions() as session:
        guid = feed_data.stable_podcast_guid(session, "http://clinex.test/tags/fillers/feed.xml")
        assert guid == "stored-by-the-other-request"
        assert feed_data.stable_podcast_guid(session, "http://clinex.test/tags/fillers/feed.xml") == guid
