#!/usr/bin/env bash
# Builds (or tops up) a venv for latent radio. The Makefile and tests/test_install.py use it.
#   deploy/install.sh VENV run  [PACKAGE]   the station alone: requirements-run.txt, and
#       note-seq without the dependencies the station never imports (pandas, bokeh, numba,
#       librosa, IPython: note_seq's notebook and audio helpers, which radio defers)
#   deploy/install.sh VENV full [PACKAGE]   everything: requirements.txt (tests, training,
#       TensorFlow) and magenta, which only installs with --no-deps on Python 3.11
# PACKAGE is what to install of ours (default: the repository, editable), always --no-deps.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 VENV run|full [PACKAGE]" >&2; exit 2; }
venv=$1 kind=$2
root=$(cd "$(dirname "$0")/.." && pwd)
package=${3:-"-e $root"}
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || { echo "error: $python not found (the pins need Python 3.11)" >&2; exit 1; }
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install -q)
"${pip[@]}" --upgrade pip
pin() { grep -i "^$1==" "$root/requirements.txt"; }   # one copy of each pin: requirements.txt
case $kind in
  run)  "${pip[@]}" -r "$root/requirements-run.txt"
        "${pip[@]}" --no-deps "$(pin note-seq)" ;;
  full) "${pip[@]}" -r "$root/requirements.txt"
        "${pip[@]}" --no-deps magenta==2.1.4 ;;
  *)    echo "error: $kind: use run or full" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086  (PACKAGE may be "-e DIR")
"${pip[@]}" --no-deps $package
