"""The community around the summaries: profiles, standing, notifications and mail, follows,
reports and moderation, calls for summaries. Plain functions taking a session.

May import: pipeline's base (models, settings, errors, text, private_feeds); never Flask or webapp.
Its tables (``community.models``) join the schema through ``pipeline.schema``.
"""

from .notifications import notify_review_outcome

__all__ = ["notify_review_outcome"]
