"""What the standalone tools cost for the same notes: the `fluidsynth` CLI renders the
segments (written as MIDI) to one WAV, then `lame` and `opusenc` encode it at the
station's bitrates (ffmpeg's libmp3lame / libopus where those CLIs are missing). CPU time
is the children's (getrusage RUSAGE_CHILDREN), per second of the WAV rendered.

bench/chain_cpu.py calls `Tools.measure` for each batch it times, with the segments it
played; `python bench/standalone.py` prints which tools it would run.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import wave
from pathlib import Path

import note_seq

from radio import presets, soundfonts
from radio.segment import part_of


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Tools:
    """The standalone chain, run in `folder`: fluidsynth with its defaults (reverb and
    chorus on, 256 voices) and, as a second figure, with the station's synth settings (no
    effects, 192 voices: the renderer's three synths have 64 each). Both load samples on
    demand, as the renderer does (the default soundfont is an .sf3: loading all of it
    decodes every sample, 5 CPU s); what loading the soundfont costs (a run on an empty
    MIDI file) is measured once and taken out, as a tool kept running would pay it once."""

    FLUIDSYNTH = {"fluidsynth (defaults)": [],
                  "fluidsynth (station's settings)": ["-R", "0", "-C", "0", "-o", "synth.polyphony=192"]}
    COMMON = ["-ni", "-q", "-g", "0.3", "-r", "44100", "-o", "synth.dynamic-sample-loading=1"]

    def __init__(self, folder: Path, sound: presets.SoundPreset, fallback_soundfont, bitrate: int,
                 opus_bitrate: int):
        if shutil.which("fluidsynth") is None:
            raise SystemExit("the fluidsynth CLI is missing: `apt-get install fluidsynth`")
        self.folder, self.sound = Path(folder), sound
        self.soundfont = soundfonts.resolve(sound.soundfont, fallback_soundfont)[0]
        self.kit_program = presets.KITS[sound.drums.kit][2]
        empty = self.folder / "empty.mid"
        note_seq.sequence_proto_to_midi_file(note_seq.NoteSequence(), str(empty))
        self.load_cpu = {name: self._run(["fluidsynth", *self.COMMON, *options, "-F", str(self.folder / "empty.wav"),
                                          str(self.soundfont), str(empty)])
                         for name, options in self.FLUIDSYNTH.items()}
        # (command before the input, options between input and output or None for `IN OUT`, label)
        ffmpeg = ["ffmpeg", "-v", "error", "-y", "-i"]
        if shutil.which("lame"):
            self.mp3 = ["lame", "--quiet", "--cbr", "-b", str(bitrate), "-q", "5"], None, \
                f"lame --cbr -b {bitrate} -q 5"
        else:
            self.mp3 = ffmpeg, ["-c:a", "libmp3lame", "-b:a", f"{bitrate}k", "-q:a", "5"], \
                f"ffmpeg -c:a libmp3lame -b:a {bitrate}k -q:a 5 (no lame CLI)"
        if shutil.which("opusenc"):
            self.opus = ["opusenc", "--quiet", "--bitrate", str(opus_bitrate)], None, \
                f"opusenc --bitrate {opus_bitrate}"
        else:
            self.opus = ffmpeg, ["-c:a", "libopus", "-b:a", f"{opus_bitrate}k"], \
                f"ffmpeg -c:a libopus -b:a {opus_bitrate}k (no opusenc CLI)"

    def describe(self) -> str:
        load = ", ".join(f"{v:.2f}" for v in self.load_cpu.values())
        return (f"fluidsynth {' '.join(self.COMMON)} -F x.wav {self.soundfont.name} *.mid (soundfont load, "
                f"{load} CPU s, taken out); {self.mp3[2]}; {self.opus[2]}")

    def _midi(self, segment, path: Path) -> None:
        seq = note_seq.NoteSequence()
        seq.CopyFrom(segment.sequence)
        for n in seq.notes:
            part = part_of(n)
            n.is_drum = part == "drums"
            n.instrument = {"lead": 0, "bass": 1, "drums": 9}[part]
            n.program = {"lead": self.sound.lead.program, "bass": self.sound.bass.program,
                         "drums": self.kit_program}[part]
        note_seq.sequence_proto_to_midi_file(seq, str(path))

    def _run(self, argv: list[str]) -> float:
        before = children_cpu()
        subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        return children_cpu() - before

    def _encode(self, tool, wav: Path, out: Path) -> float:
        argv, extra, _ = tool
        if extra is None:
            return self._run(argv + [str(wav), str(out)])
        return self._run(argv + [str(wav)] + extra + [str(out)])

    def measure(self, segments) -> tuple[dict[str, float], float]:
        """CPU s per audio s of each tool for `segments` (played one after another, one
        fluidsynth run), and the audio seconds rendered."""
        mids = []
        for k, segment in enumerate(segments):
            mids.append(self.folder / f"{k}.mid")
            self._midi(segment, mids[-1])
        cpu, seconds = {}, 0.0
        for name, options in self.FLUIDSYNTH.items():
            wav = self.folder / "out.wav"
            cpu[name] = self._run(["fluidsynth", *self.COMMON, *options, "-F", str(wav), str(self.soundfont),
                                   *map(str, mids)]) - self.load_cpu[name]
            with wave.open(str(wav)) as w:
                seconds = w.getnframes() / w.getframerate()
        cpu["mp3 encoder"] = self._encode(self.mp3, wav, self.folder / "out.mp3")
        cpu["opus encoder"] = self._encode(self.opus, wav, self.folder / "out.opus")
        return {k: v / seconds for k, v in cpu.items()}, seconds


if __name__ == "__main__":
    import tempfile
    from radio.config import Settings
    settings = Settings.from_env()
    with tempfile.TemporaryDirectory() as tmp:
        print(Tools(Path(tmp), presets.resolve("default"), settings.soundfont or None, settings.bitrate,
                    settings.opus_bitrate).describe())
