"""An episode's processing status as plain data (the studio's polling endpoint and the API)."""

from __future__ import annotations

from flask import url_for

from pipeline.models import Episode

# how much of the total work each job is, for one overall progress figure
WEIGHTS = {"prepare_audio": 0.3, "transcribe": 0.6, "analyze": 0.1}


def episode_status(episode: Episode) -> dict:
    latest = {job.kind: job for job in sorted(episode.jobs, key=lambda j: j.id)}
    jobs = [{"id": j.id, "kind": j.kind, "state": j.state, "progress": round(j.progress or 0.0, 3),
             "attempts": j.attempts, "error": j.error} for j in latest.values()]
    done = sum(WEIGHTS.get(j.kind, 0) * (1.0 if j.state == "succeeded" else (j.progress or 0.0))
               for j in latest.values())
    finished = episode.status not in ("draft", "processing")
    return {"id": episode.id, "title": episode.title, "slug": episode.slug, "status": episode.status,
            "failure_reason": episode.failure_reason, "review_note": episode.review_note,
            "duration": episode.duration, "progress": 1.0 if finished and episode.status != "failed" else round(done, 3),
            "jobs": jobs, "page_url": url_for("studio.episode", episode_id=episode.id, _external=True)}
