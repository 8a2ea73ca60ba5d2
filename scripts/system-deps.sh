#!/bin/sh
# Install the system packages tests use (ffmpeg, espeak-ng, Chromium, npm for axe-core) when any is missing,
# and a C compiler with Python's headers: webrtcvad (a dependency of the diarize extra's resemblyzer)
# is published as source only. Only what is missing is installed: a machine whose npm came with
# its own Node.js must not be asked for Debian's npm, which conflicts with it.
set -eu
packages=""
need() { packages="$packages $*"; }
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || need ffmpeg
command -v espeak-ng >/dev/null 2>&1 || need espeak-ng
command -v chromium >/dev/null 2>&1 || need chromium fonts-dejavu-core
command -v npm >/dev/null 2>&1 || need npm
command -v cc >/dev/null 2>&1 && python3 -c "import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))" \
    || need gcc libc6-dev python3-dev
[ -z "$packages" ] && exit 0
echo "Installing system packages:$packages"
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $packages
