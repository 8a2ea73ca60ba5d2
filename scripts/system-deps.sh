#!/bin/sh
# Install the system packages tests use (ffmpeg, espeak-ng, Chromium, npm for axe-core) when any is missing,
# and a C compiler with Python's headers: webrtcvad (a dependency of the diarize extra's resemblyzer)
# is published as source only.
set -eu
missing=""
for cmd in ffmpeg ffprobe espeak-ng chromium npm; do
    command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
done
command -v cc >/dev/null 2>&1 && python3 -c "import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))" \
    || missing="$missing c-compiler"
[ -z "$missing" ] && exit 0
echo "Installing system packages for:$missing"
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || true
$SUDO apt-get install -y -q --no-install-recommends ffmpeg espeak-ng chromium fonts-dejavu-core npm gcc libc6-dev python3-dev
