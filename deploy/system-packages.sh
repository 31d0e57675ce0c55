#!/usr/bin/env bash
# Installs the Debian packages the station needs, only when one is missing; with --test,
# also those only the tests need (chromium for the page test, icecast2 for the push test,
# the corpus's data packages for its tests); with --corpus, the data packages that only
# building the training corpus needs (`make model`): freedoom (freedoom1 trains, freedoom2
# is held out), freedink-data (held out, for evaluation), hydrogen-data (drum patterns),
# planetblupi-music-midi (game MIDI).
# Uses sudo when not root; says what to run when neither works.
set -euo pipefail
# fluid-soundfont-gm is the General MIDI fallback; the MuseScore soundfont and the AVL
# acoustic kits are what the sound presets play (radio/sound/soundfonts.py)
PKGS=(fluidsynth libfluidsynth3 fluid-soundfont-gm musescore-general-soundfont avldrums.lv2-soundfont ffmpeg mma)
CORPUS=(freedoom freedink-data hydrogen-data planetblupi-music-midi)
[ "${1:-}" = "--test" ] && PKGS+=(chromium icecast2 freedoom hydrogen-data planetblupi-music-midi)
[ "${1:-}" = "--corpus" ] && PKGS+=("${CORPUS[@]}")
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing system packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then SUDO=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo"
elif command -v sudo >/dev/null && [ -t 0 ]; then SUDO="sudo"
else
  echo "error: need root to install ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "error: no apt-get here; install these by hand: ${missing[*]} (FluidSynth 2, a GM .sf2, ffmpeg, mma)" >&2
  exit 1
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
