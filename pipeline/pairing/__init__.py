"""Tie the summary notes to the recording: where each section and bullet is discussed
(alignment), chapters, suggested tags and a soundbite. Plain text work on transcript segments
given as ``(start, end, text)`` tuples, so it runs on a database transcript, a JSON fixture or a
fresh Whisper run alike.

May import: pipeline.notes, pipeline.words, pipeline.text, pipeline.transcription.glossary.
"""

from ..words import strip_front_matter, words
from .alignment import AnchorResult, align_notes
from .chapters import suggest_chapters, topic_chapters
from .soundbite import suggest_soundbite
from .tags import free_keyphrases, glossary_hits, suggest_tags
from .text import MIN_CONFIDENCE, tokens

__all__ = ["AnchorResult", "align_notes", "suggest_chapters", "topic_chapters", "suggest_soundbite",
           "free_keyphrases", "glossary_hits", "suggest_tags", "MIN_CONFIDENCE", "tokens",
           "strip_front_matter", "words"]
