"""The voice step of a notes-only episode: the summary spoken, stored, and its transcript taken
from the synthesis (no speech recognition).

Voicing is resumable by paragraph: each voiced block is stored (``keys.voicing_part_key``, named
by the block's text) as soon as it is spoken, so a worker killed mid-synthesis resumes with the
blocks not yet stored and nothing stored is spoken twice. Blocks are spoken side by side (as
many as the voice has ``workers``, a core each) and stored by the step's thread as each finishes.
When all blocks are in, one WAV is stored as the episode's ``voiced`` media, which
``prepare_audio`` then levels and encodes like any recording; the parts are deleted.
"""

from __future__ import annotations

import hashlib
import logging
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .errors import InvalidUpload, StorageError
from .keys import voiced_key, voicing_part_key, voicing_prefix
from .models import (Episode, MediaFile, MediaKind, TranscriptSegment, SpokenTerm, Transcript, TranscriptStatus,
                     utcnow)
from .notes import Source
from .steps import write_transcript_files
from .storage import Storage
from .transcription import Segment
from .transcription import Word
from .voice import (Block, SpeechScript, SpokenPart, VoicedText, join_parts, load_voice, script_for,
                    voice_block)
from .voice.compose import wav_bytes
from .voice.lexicon import load_lexicon
from .voice.speech_text import Credits

log = logging.getLogger(__name__)

# Characters being spoken at once. onnxruntime holds about 1.1 MB per character of a sentence while
# it speaks it, so blocks side by side stay within what one long sentence takes alone (a block
# whose sentence is longer still runs, alone). Its peak RSS shows in benchmarks/tts.py --threads.
TEXT_IN_FLIGHT = 180


def credits_for(ctx, episode: Episode, *, notes_only: bool = True) -> Credits:
    """Who and what the spoken opening and closing name, from the episode's rows."""
    summary = episode.summary
    author = summary.author if summary and summary.author else episode.created_by
    return Credits(show=ctx.settings.SHOW_TITLE, title=episode.title,
                   summarizer=author.display_name if author else None,
                   source=source_of(episode), notes_only=notes_only)


def source_of(episode: Episode) -> Source | None:
    row = getattr(episode, "audio_notes", None)
    if row is None or not row.source_title:
        return None
    return Source(title=row.source_title, kind=row.source_kind or "article", url=row.source_url,
                  authors=tuple(row.source_authors or ()), published_on=row.source_date)


def voice_speaker(ctx) -> str:
    """Who the transcript says is speaking when the voice speaks."""
    return ctx.settings.SHOW_TITLE + " voice"


def episode_lexicon(session: Session):
    rows = session.scalars(select(SpokenTerm))
    return load_lexicon((r.term, r.phonemes, r.say, r.letters) for r in rows)


def episode_script(ctx, session: Session, episode: Episode, *, notes_only: bool = True) -> SpeechScript:
    """What the voice says for the episode; raises InvalidUpload for notes with nothing to say."""
    notes = episode.summary.markdown if episode.summary else ""
    return script_for(notes, credits_for(ctx, episode, notes_only=notes_only), episode_lexicon(session))


def voice_script(storage: Storage, episode_uuid: str, script: SpeechScript, voice, report,
                 first_index: int = 0) -> VoicedText:
    """Voice every block not stored yet (storing each as it is spoken), then join them all.
    Parts are numbered from ``first_index`` (two scripts of one episode keep apart).

    Raises the first block's error (TranscriptionError from the voice) once the blocks already
    being spoken are stored; a retry voices only what is missing.
    """
    keys = [_part_keys(episode_uuid, first_index + index, block, voice.name) for index, block in enumerate(script.blocks)]
    parts = {index: part for index, pair in enumerate(keys) if (part := _stored_part(storage, *pair)) is not None}

    def finished(index: int, part: SpokenPart) -> None:
        _store_part(storage, *keys[index], part)
        parts[index] = part
        report(0.95 * len(parts) / len(keys))

    missing = [(index, block) for index, block in enumerate(script.blocks) if index not in parts]
    _voice_side_by_side(voice, missing, finished)
    return join_parts(script, [parts[index] for index in range(len(keys))])


def _voice_side_by_side(voice, blocks: list[tuple[int, Block]], finished) -> None:
    """Speak ``blocks`` on up to ``voice.workers`` threads (within ``TEXT_IN_FLIGHT``), handing each
    part to ``finished`` on this thread as it is done. After a failure no block is started; those
    being spoken finish.

    The longest blocks go first, each beside the short ones that fit with it, so the cores stay
    busy to the end instead of one long block running alone last."""
    workers = max(1, min(getattr(voice, "workers", 1), len(blocks)))
    todo = sorted(blocks, key=lambda item: -_longest_sentence(item[1]))
    running, failure = {}, None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="voice") as pool:
        while todo or running:
            while failure is None and (pick := _next_block(todo, list(running.values()), workers)) is not None:
                index, block = todo.pop(pick)
                running[pool.submit(voice_block, voice, block)] = (index, block)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: running[f][0]):
                index, _block = running.pop(future)
                if future.exception() is None:
                    finished(index, future.result())
                else:  # KeyboardInterrupt too: the blocks being spoken are stored first
                    failure = failure or future.exception()
            if failure is not None and not running:
                raise failure


def _next_block(todo: list[tuple[int, Block]], running: list[tuple[int, Block]], workers: int) -> int | None:
    """Where in ``todo`` the first block that may start beside ``running`` is (any one when none
    runs), or None when none may."""
    if len(running) >= workers:
        return None
    in_flight = sum(_longest_sentence(block) for _, block in running)
    for position, (_, block) in enumerate(todo):
        if not running or in_flight + _longest_sentence(block) <= TEXT_IN_FLIGHT:
            return position
    return None


def _longest_sentence(block: Block) -> int:
    return max((len(s.spoken) for s in block.sentences), default=0)


def _part_keys(episode_uuid: str, index: int, block: Block, voice_name: str) -> tuple[str, str]:
    digest = hashlib.sha256(f"{voice_name}\n{block.pause_after}\n{block.text}".encode()).hexdigest()
    return voicing_part_key(episode_uuid, index, digest, "wav"), voicing_part_key(episode_uuid, index, digest, "json")


def _stored_part(storage: Storage, wav_key: str, json_key: str) -> SpokenPart | None:
    if storage.exists(json_key) and storage.exists(wav_key):
        return SpokenPart.from_stored(storage.get_bytes(wav_key), storage.get_bytes(json_key))
    return None


def _store_part(storage: Storage, wav_key: str, json_key: str, part: SpokenPart) -> None:
    storage.put_bytes(wav_key, part.wav_bytes(), content_type="audio/wav")
    storage.put_bytes(json_key, part.timings_json(), content_type="application/json")  # last: marks it whole


def voice_step(ctx, session: Session, episode: Episode, report) -> None:
    """Speak the notes, store the WAV as the ``voiced`` media and the transcript from the timings.

    Fails the job with InvalidUpload for empty, unspeakable or too-long notes, ConfigError for a
    voice that cannot be loaded, TranscriptionError when the voice fails on a sentence.
    """
    script = episode_script(ctx, session, episode)
    voice = load_voice(ctx.settings.TTS_VOICE)
    voiced = voice_script(ctx.storage, episode.uuid, script, voice, report)
    if not voiced.sentences:
        raise InvalidUpload("The notes have nothing a voice can say; write the summary in sentences.")
    _store_voiced_media(ctx, session, episode, voiced)
    _store_transcript(ctx, session, episode, voiced, voice.name)
    if episode.audio_notes is not None:
        episode.audio_notes.voice = voice.name
    session.flush()
    delete_voicing_parts(ctx.storage, episode.uuid)
    report(1.0)


def _store_voiced_media(ctx, session: Session, episode: Episode, voiced: VoicedText) -> None:
    data = wav_bytes(voiced.pcm, voiced.sample_rate)
    key = voiced_key(episode.uuid, hashlib.sha256(data).hexdigest())
    stored = ctx.storage.put_bytes(key, data, content_type="audio/wav")
    session.execute(delete(MediaFile).where(MediaFile.episode_id == episode.id, MediaFile.kind == MediaKind.voiced.value))
    session.add(MediaFile(episode_id=episode.id, kind=MediaKind.voiced.value, storage_key=key, filename="summary.wav",
                          content_type="audio/wav", size=stored.size, sha256=stored.sha256,
                          duration=voiced.duration, codec="pcm_s16le", container="wav",
                          sample_rate=voiced.sample_rate, channels=1, bitrate=voiced.sample_rate * 16))
    episode.duration = voiced.duration


def _store_transcript(ctx, session: Session, episode: Episode, voiced: VoicedText, voice_name: str) -> None:
    """The spoken text with the synthesis's times; the exact chapters and anchors ride along in
    ``options["voiced"]`` for the analyze step."""
    for old in list(episode.transcripts):
        episode.transcripts.remove(old)
    session.flush()
    plan = {"chapters": voiced.chapters, "anchors": voiced.anchors}
    transcript = Transcript(episode_id=episode.id, engine="piper", model=voice_name, language="en",
                            options={"voiced": plan}, duration=voiced.duration,
                            status=TranscriptStatus.complete.value, completed_at=utcnow())
    session.add(transcript)
    session.flush()
    speaker = voice_speaker(ctx)
    heard = [Segment(index=i, start=s.start, end=s.end, text=s.text, speaker=speaker,
                          words=[Word(w.start, w.end, w.word, 1.0) for w in s.words])
             for i, s in enumerate(voiced.sentences)]
    for seg in heard:
        session.add(TranscriptSegment(transcript_id=transcript.id, index=seg.index, start=seg.start, end=seg.end, text=seg.text,
                            words=[w.__dict__ for w in seg.words], speaker=speaker))
    write_transcript_files(ctx, episode, transcript.id, heard)


def delete_voicing_parts(storage: Storage, episode_uuid: str) -> None:
    """The joined file is stored: the parts are no longer needed (the doctor removes any left)."""
    for key in list(storage.keys(voicing_prefix(episode_uuid))):
        try:
            storage.delete(key)
        except StorageError as exc:  # an orphan part is harmless; clinex doctor --fix removes it
            log.info("Could not remove voiced part %s (clinex doctor --fix will): %s", key, exc)
