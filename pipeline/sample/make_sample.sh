#!/bin/sh
# Regenerate the bundled sample lecture from script.txt (needs espeak-ng and ffmpeg).
set -eu
cd "$(dirname "$0")"
espeak-ng -v en-us -s 150 -p 45 -f script.txt -w /tmp/clinex-sample.wav
ffmpeg -loglevel error -y -i /tmp/clinex-sample.wav -ac 1 -ar 22050 -c:a libmp3lame -b:a 48k lecture.mp3
rm -f /tmp/clinex-sample.wav
