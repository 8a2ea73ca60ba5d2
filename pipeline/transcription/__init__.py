"""Transcription: Whisper engines, the clinical glossary, long-form guards and transcript files.

Typical use in a job::

    options = TranscriptionOptions.from_settings(settings, hotwords=glossary.hotwords_for(notes))
    segments, info = transcribe(path, options, start_at=last_end, first_index=saved)
    for segment in segments:          # lazy: save each one as it comes
        [fixed], corrections = glossary.correct([segment], active_terms=options.hotwords)
        save(fixed, corrections)

May import: pipeline.errors, pipeline.words, pipeline.notes, pipeline.audio (ffmpeg decoding).
"""

from .convert import convert_ct2_to_openai_whisper
from .engines import BUNDLED_MODEL, ENGINES, bundled_model_path, get_engine
from .glossary import Glossary, Term, load_glossary
from .outputs import CONTENT_TYPES as TRANSCRIPT_TYPES, FORMATS, to_json, to_srt, to_text, to_vtt
from .stream import decode_blocks, probe_duration, transcribe
from .types import Correction, Segment, TranscriptionInfo, TranscriptionOptions, Word
from .vocabulary import episode_vocabulary

__all__ = [
    "BUNDLED_MODEL", "ENGINES", "FORMATS", "Correction", "Glossary", "Segment", "Term",
    "TranscriptionInfo", "TranscriptionOptions", "Word", "bundled_model_path",
    "convert_ct2_to_openai_whisper", "decode_blocks", "get_engine", "load_glossary",
    "probe_duration", "to_json", "to_srt", "to_text", "to_vtt", "transcribe", "TRANSCRIPT_TYPES",
    "episode_vocabulary",
]
