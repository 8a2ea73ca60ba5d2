"""The community around the summaries: profiles, standing, notifications and mail, follows,
reports and moderation, calls for summaries. Plain functions taking a session; imports
``pipeline`` only (never Flask or ``webapp``)."""


def __getattr__(name: str):
    # ``pipeline.models`` imports ``.models`` of this package to register its tables; importing
    # the notification code then would be circular, so it is loaded on first use.
    if name == "notify_review_outcome":
        from .notifications import notify_review_outcome

        return notify_review_outcome
    raise AttributeError(name)


__all__ = ["notify_review_outcome"]
