"""Voice: summary notes turned into speech written for the ear (speech_text), a neural voice
behind a small interface (engine), the pronunciation lexicon (lexicon) and the assembly of
voiced paragraphs with exact sentence and word times (compose).

May import: pipeline.errors, pipeline.notes, pipeline.settings. Nothing here knows of episodes,
storage or the database.
"""

from .compose import SpokenPart, VoicedText, join_parts, voice_block
from .engine import PiperTTS, Synthesis, Voice, load_voice
from .lexicon import Lexicon, Pronunciation, bundled_lexicon
from .speech_text import MAX_SPEECH_WORDS, Block, Introduction, SpeechScript, Sentence, intro_script, script_for

__all__ = ["Voice", "PiperTTS", "Synthesis", "load_voice", "Lexicon", "Pronunciation", "bundled_lexicon",
           "Block", "Sentence", "SpeechScript", "script_for", "Introduction", "intro_script", "MAX_SPEECH_WORDS",
           "SpokenPart", "VoicedText", "voice_block", "join_parts"]
