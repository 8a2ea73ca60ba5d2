"""Audio: is an upload a recording (inspect), how loud is it (loudness), the listening file
(encode) and its ID3 tags (id3); everything long runs through ffmpeg processes and pipes.

May import: pipeline.errors. Nothing here knows of episodes, storage or the database.
"""

from .encode import normalize_and_encode
from .id3 import ChapterFrame, EpisodeTags, write_tags
from .inspect import (
    DecodeCheck,
    decode_check,
    is_silent,
    probe,
    sniff_non_audio,
    validate_upload,
)
from .loudness import choose_gain, measure_loudness
from .types import AudioInfo, AudioOptions, LoudnessInfo, PreparedAudio

__all__ = [
    "AudioInfo", "LoudnessInfo", "AudioOptions", "PreparedAudio", "DecodeCheck", "ChapterFrame", "EpisodeTags",
    "probe", "validate_upload", "decode_check", "is_silent", "sniff_non_audio", "measure_loudness",
    "choose_gain", "normalize_and_encode", "write_tags",
]
