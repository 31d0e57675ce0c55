"""What the standalone tools cost for the same notes: the `fluidsynth` CLI renders the
segments (written end to end as one MIDI file) to one WAV, then `lame` and `opusenc` encode it at the
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

from radio.music import midi as output
from radio.music.segment import part_of
from radio.sound import presets, soundfonts
from radio.station.encoder import write_audio

CHAIN_MP3, CHAIN_OPUS = "mp3 encoder, the chain's audio", "opus encoder, the chain's audio"


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
        self.load_cpu = {name: self._fluidsynth(options, empty)[0] for name, options in self.FLUIDSYNTH.items()}
        # what a second of silence costs the CLI (its reverb and chorus run on): a file with
        # one inaudible note at 0 s and one at 120 s, less the soundfont's load
        quiet, silent = self.folder / "silent.mid", note_seq.NoteSequence()
        for at in (0.0, 120.0):
            silent.notes.add(pitch=60, velocity=1, start_time=at, end_time=at + 0.01)
        silent.total_time = 120.01
        note_seq.sequence_proto_to_midi_file(silent, str(quiet))
        self.silence_cpu = {}
        for name, options in self.FLUIDSYNTH.items():
            cpu, wav_s = self._fluidsynth(options, quiet)
            self.silence_cpu[name] = max(0.0, cpu - self.load_cpu[name]) / wav_s
        # (command before the input, options between input and output or None for `IN OUT`, label)
        ffmpeg = ["ffmpeg", "-v", "error", "-y", "-i"]
        if shutil.which("lame"):
            self.mp3 = ["lame", "--quiet", "--cbr", "-b", str(bitrate), "-q", "5"], None, \
                f"lame --cbr -b {bitrate} -q 5"
        else:
            # ffmpeg's -q:a would be LAME's VBR quality (V5, ~70 kbps here); -compression_level
            # is LAME's algorithm quality, as lame's -q and the station's encoder set it
            self.mp3 = ffmpeg, ["-c:a", "libmp3lame", "-b:a", f"{bitrate}k", "-compression_level", "5"], \
                f"ffmpeg -c:a libmp3lame -b:a {bitrate}k -compression_level 5 (no lame CLI)"
        if shutil.which("opusenc"):
            self.opus = ["opusenc", "--quiet", "--bitrate", str(opus_bitrate)], None, \
                f"opusenc --bitrate {opus_bitrate}"
        else:
            self.opus = ffmpeg, ["-c:a", "libopus", "-b:a", f"{opus_bitrate}k"], \
                f"ffmpeg -c:a libopus -b:a {opus_bitrate}k (no opusenc CLI)"

    def describe(self) -> str:
        load = ", ".join(f"{v:.2f}" for v in self.load_cpu.values())
        silence = ", ".join(f"{v * 1000:.2f}" for v in self.silence_cpu.values())
        return (f"fluidsynth {' '.join(self.COMMON)} -F x.wav {self.soundfont.name} all.mid (soundfont load, "
                f"{load} CPU s, and its trailing silence, {silence} CPU ms a second, taken out); "
                f"{self.mp3[2]}; {self.opus[2]}")

    def _midi(self, segments, path: Path) -> None:
        """One MIDI file with the segments end to end, as the station plays them (a note
        over a seam rings on), in the sound preset's programs and drum kit."""
        seq = output.join(segments, self.sound.lead.program, self.sound.bass.program)
        for n in seq.notes:
            if part_of(n) == "drums":
                n.is_drum, n.program = True, self.kit_program
        note_seq.sequence_proto_to_midi_file(seq, str(path))

    def _fluidsynth(self, options: list[str], mid: Path) -> tuple[float, float]:
        """CPU s of one CLI run over `mid` and the seconds of WAV it wrote."""
        wav = self.folder / "out.wav"
        cpu = self._run(["fluidsynth", *self.COMMON, *options, "-F", str(wav), str(self.soundfont), str(mid)])
        with wave.open(str(wav)) as w:
            return cpu, w.getnframes() / w.getframerate()

    def _run(self, argv: list[str]) -> float:
        before = children_cpu()
        subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        return children_cpu() - before

    def _encode(self, tool, wav: Path, out: Path) -> float:
        argv, extra, _ = tool
        if extra is None:
            return self._run(argv + [str(wav), str(out)])
        return self._run(argv + [str(wav)] + extra + [str(out)])

    def measure(self, segments, mastered=None) -> tuple[dict[str, float], float]:
        """CPU s per audio s of each tool for `segments` (end to end in one MIDI file, one
        fluidsynth run), and the seconds of WAV the CLI wrote. With `mastered`, the chain's
        own output for them ((2, n) float32), the encoders also encode that: the same audio
        the station encodes, where the CLI's WAV is quieter and unmastered.

        The CLI writes silence after the last note has died away (2 s for a lone note, 3 s
        for the default model's segments, 23 s for the full-size model's random ones; why
        it waits that long was not traced). The encoders get the WAV cut to the segments' seconds, and
        fluidsynth's CPU for that silence (measured per second at start) is taken out, so
        every tool is counted over the same seconds as the chain."""
        mid = self.folder / "all.mid"
        self._midi(segments, mid)
        seconds = sum(s.duration for s in segments)
        cpu = {}
        for name, options in self.FLUIDSYNTH.items():
            used, wav_seconds = self._fluidsynth(options, mid)
            cpu[name] = used - self.load_cpu[name] - self.silence_cpu[name] * max(0.0, wav_seconds - seconds)
        wav = self.folder / "out.wav"
        with wave.open(str(wav)) as w:
            params, pcm = w.getparams(), w.readframes(int(round(seconds * w.getframerate())))
        cut = self.folder / "cut.wav"
        with wave.open(str(cut), "wb") as w:
            w.setparams(params)
            w.writeframes(pcm)
        cpu["mp3 encoder"] = self._encode(self.mp3, cut, self.folder / "out.mp3")
        cpu["opus encoder"] = self._encode(self.opus, cut, self.folder / "out.opus")
        out = {k: v / seconds for k, v in cpu.items()}
        if mastered is not None:
            chain = self.folder / "chain.wav"
            write_audio(mastered, chain)
            chain_s = mastered.shape[1] / params.framerate
            out[CHAIN_MP3] = self._encode(self.mp3, chain, self.folder / "chain.mp3") / chain_s
            out[CHAIN_OPUS] = self._encode(self.opus, chain, self.folder / "chain.opus") / chain_s
        return out, wav_seconds


if __name__ == "__main__":
    import tempfile

    from radio.config import Settings
    settings = Settings.from_env()
    with tempfile.TemporaryDirectory() as tmp:
        print(Tools(Path(tmp), presets.resolve("default"), settings.soundfont or None, settings.bitrate,
                    settings.opus_bitrate).describe())
