#!/bin/sh
# Install the system packages tests use (ffmpeg, espeak-ng, Chromium, npm for axe-core) when any is missing.
set -eu
missing=""
for cmd in ffmpeg ffprobe espeak-ng chromium npm; do
    command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
done
[ -z "$missing" ] && exit 0
echo "Installing system packages for:$missing"
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || true
$SUDO apt-get install -y -q --no-install-recommends ffmpeg espeak-ng chromium fonts-dejavu-core npm
