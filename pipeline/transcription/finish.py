"""The transcript once every segment is heard: glossary fixes, the episode's own phrases, one style."""

from __future__ import annotations

from typing import Sequence

from .acoustic import AcousticCheck
from .glossary import Glossary
from .recall import EpisodeRecall
from .style import restyle, spellings
from .types import Correction, Segment
from .vocabulary import EpisodeKnowledge, known_phrases, written_forms


def correct_transcript(segments: Sequence[Segment], glossary: Glossary, knowledge: EpisodeKnowledge,
                       hotwords: Sequence[str] = (), check: AcousticCheck | None = None
                       ) -> tuple[list[Segment], list[Correction]]:
    """Glossary near misses, then misheard phrases of the episode (by sound, with context),
    then, with ``check``, every rewrite the audio does not support undone, then one casing and
    punctuation style. Returns the segments and every word change made (style changes are not
    corrections: they change no word)."""
    fixed, corrections = glossary.correct(segments, active_terms=hotwords)
    phrases = known_phrases(knowledge)
    recall = EpisodeRecall(phrases, protected=[t.term for t in glossary.terms])
    fixed, more = recall.correct(fixed)
    corrections = corrections + more
    if check is not None:
        fixed, corrections = check.confirm(segments, fixed, corrections)
    # The episode's own spelling first (its notes say "picosecond", the glossary "PicoSecond").
    known = spellings(knowledge.speakers, [knowledge.event or ""], written_forms(knowledge),
                      [t.term for t in glossary.terms])
    return restyle(fixed, known), corrections
