"""The sound stage per shipped style, before and after, and what it costs.

For each shipped seed set the default model writes 32 bars with the mix on that set
alone; the same notes are then rendered twice:
  before: today's chain (FluidR3, lead GM 82 saw, bass GM 34, standard kit, no master),
  after:  the style's sound preset, its channel strips and room, and the master as
          `radio generate` applies it.
Then every style's "after" is played back to back through ONE master, as a station
changing its mix every 32 bars would: loudness per style after the first 30 s, and the
short-term loudness jump at each change (median of the 10 s after vs the 10 s before).
Costs: CPU seconds per audio second of the mixer and of the master (process time), the
RSS they add, and per soundfont the render CPU and the RSS its samples take.

    .venv/bin/python bench/sound.py [--model DIR] [--bars 32]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from radio.offline import audiostats as au
from radio.sound import loudness  # noqa: E402
from radio.sound.master import Master, master_whole  # noqa: E402
from radio.sound.mixer import Audio, Mixer  # noqa: E402
from radio.sound.presets import resolve  # noqa: E402
from radio.sound.renderer import SAMPLE_RATE, Renderer  # noqa: E402

STYLES = ["ballad", "blues", "country", "funk", "jazz", "latin", "pop", "rock", "ska", "swing"]


def figures(pcm: np.ndarray) -> dict:
    return {"lufs": loudness.integrated_lufs(pcm), "dbtp": au.true_peak_dbtp(pcm), "lra": loudness.loudness_range(pcm),
            "side_mid": au.side_mid_db(pcm)}


def rss_mb() -> float:
    import psutil
    return psutil.Process().memory_info().rss / 1e6


def segments_per_style(model: str, bars: int) -> dict:
    from radio.config import Settings
    from radio.generator.pipeline import Pipeline
    out = {}
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(model=model, data=data, seed=1)
        pipeline = Pipeline(settings)
        for style in STYLES:
            pipeline.set_mix(pipeline.mix.updated({"sets": {style: 1.0}}, pipeline.library.sets()))
            pipeline.walk.here = next(a for a in pipeline.anchors if a.set == style)
            out[style] = [pipeline.next_segment() for _ in range(max(1, bars // 16))]
        pipeline.close()
    return out


def render(segments, preset_name: str) -> tuple[np.ndarray, float, float]:
    """Mixed PCM; CPU seconds of the renderer and of the mixer."""
    sound = resolve(preset_name)
    renderer, mixer = Renderer(None, sound), Mixer(sound, SAMPLE_RATE)
    pcm, t_render, t_mix = [], 0.0, 0.0
    for s in segments:
        t0 = time.process_time()
        parts = renderer.render(s)
        t1 = time.process_time()
        pcm.append(mixer.process({k: Audio(v, SAMPLE_RATE) for k, v in parts.items()}).samples)
        t_render, t_mix = t_render + t1 - t0, t_mix + time.process_time() - t1
    renderer.close()
    return np.concatenate(pcm, axis=1), t_render, t_mix


def soundfont_cost(name: str) -> dict:
    """In a fresh process: RSS the soundfont adds and render CPU, on a fixed note pattern."""
    code = f"""
import json, time, psutil, note_seq
from radio.music.segment import Segment
from radio.sound import presets, soundfonts
from radio.sound.renderer import Renderer
proc = psutil.Process(); base = proc.memory_info().rss
kit = {{"avl-black-pearl": "black-pearl", "avl-red-zeppelin": "red-zeppelin"}}.get({name!r})
spec = {{"drums": {{"kit": kit}}}} if kit else {{"soundfont": {name!r}}}
r = Renderer(None, presets.SoundPreset.from_dict("x", spec))
loaded = proc.memory_info().rss
ns = note_seq.NoteSequence()
for i in range(128):
    t = i * 0.25
    ns.notes.add(pitch=36 if i % 2 == 0 else 42, start_time=t, end_time=t + 0.1, velocity=100, is_drum=True, instrument=9)
    ns.notes.add(pitch=60 + i % 12, start_time=t, end_time=t + 0.24, velocity=90, instrument=0)
    if i % 2 == 0:
        ns.notes.add(pitch=36 + i % 7, start_time=t, end_time=t + 0.45, velocity=90, instrument=1)
seg = Segment(id=0, sequence=ns, qpm=120.0, bars=16)
t0 = time.process_time(); r.render(seg); cpu = time.process_time() - t0
print(json.dumps({{"file": str(soundfonts.locate({name!r})), "rss_mb": (loaded - base) / 1e6,
                  "cpu_per_s": cpu / seg.duration}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    return json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {"error": out.stderr[-300:]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(Path(__file__).parent.parent / "radio/assets/model"))
    ap.add_argument("--bars", type=int, default=32)
    args = ap.parse_args()
    t0 = time.monotonic()
    per_style = segments_per_style(args.model, args.bars)
    print(f"decoded {len(STYLES)} styles × {args.bars} bars in {time.monotonic() - t0:.0f} s\n")

    rss0 = rss_mb()
    rows, afters, cpu = [], [], {"render": 0.0, "mix": 0.0, "master": 0.0, "seconds": 0.0}
    for style in STYLES:
        before, _, _ = render(per_style[style], "bare")
        styled, t_render, t_mix = render(per_style[style], style)
        t1 = time.process_time()
        after = master_whole(styled, SAMPLE_RATE)
        cpu["master"] += time.process_time() - t1
        cpu["render"] += t_render
        cpu["mix"] += t_mix
        cpu["seconds"] += styled.shape[1] / SAMPLE_RATE
        rows.append((style, figures(before), loudness.integrated_lufs(styled), figures(after)))
        afters.append(styled)
    rss_stage = rss_mb() - rss0

    print("| style | preset: lead / bass / kit | before: LUFS, dBTP, LRA, side/mid | mix bus LUFS "
          "| after: LUFS, dBTP, LRA, side/mid |")
    print("|---|---|---|---|---|")
    for style, b, bus, a in rows:
        p = resolve(style)
        print(f"| {style} | GM {p.lead.program + 1} / GM {p.bass.program + 1} / {p.drums.kit} "
              f"| {b['lufs']:.1f}, {b['dbtp']:.1f}, {b['lra']:.1f}, {b['side_mid']:.1f} | {bus:.1f} "
              f"| {a['lufs']:.1f}, {a['dbtp']:.1f}, {a['lra']:.1f}, {a['side_mid']:.1f} |")
    buses = [bus for _, _, bus, _ in rows]
    print(f"\nmix bus spread across styles (before the master): {max(buses) - min(buses):.1f} LU")

    # one continuous master, the styles back to back
    master, out, chunk = Master(SAMPLE_RATE), [], int(0.25 * SAMPLE_RATE)
    stream = np.concatenate(afters, axis=1)
    for i in range(0, stream.shape[1], chunk):
        out.append(master.process(stream[:, i:i + chunk]))
    stream = np.concatenate(out, axis=1)
    bounds = np.cumsum([0] + [a.shape[1] for a in afters])
    st = loudness.short_term_lufs(stream)                       # window i covers [i, i + 3) s
    lines = []
    for k, style in enumerate(STYLES):
        lo, hi = bounds[k], bounds[k + 1]
        lo_eff = max(lo, 30 * SAMPLE_RATE)
        level = loudness.integrated_lufs(stream[:, lo_eff:hi]) if hi - lo_eff > 3 * SAMPLE_RATE else float("nan")
        jump = ""
        if k:
            s = int(lo / SAMPLE_RATE)
            before_w, after_w = st[max(0, s - 13):s - 3], st[s:s + 10]
            jump = f", change from {STYLES[k - 1]}: {np.median(after_w) - np.median(before_w):+.2f} LU"
        lines.append(f"{style}: {level:.2f} LUFS{jump}")
    print("\none master, styles back to back (as a station changing mix every 32 bars):")
    print("\n".join("  " + line for line in lines))
    print(f"  whole stream after 30 s: {loudness.integrated_lufs(stream[:, 30 * SAMPLE_RATE:]):.2f} LUFS, "
          f"true peak {au.true_peak_dbtp(stream):.2f} dBTP")

    print(f"\nCPU s per audio s ({cpu['seconds']:.0f} s of audio): renderer (3 synths) {cpu['render'] / cpu['seconds']:.4f}, "
          f"mixer {cpu['mix'] / cpu['seconds']:.4f}, master {cpu['master'] / cpu['seconds']:.4f}; "
          f"sound stage (mixer + master) {(cpu['mix'] + cpu['master']) / cpu['seconds']:.4f}")
    print(f"RSS added by rendering and the sound stage across all styles: {rss_stage:.0f} MB")
    print("\nsoundfonts (fresh process each, 32 s of a drums + bass + lead pattern):")
    base = None
    for name in ("fluidr3", "musescore", "avl-black-pearl", "avl-red-zeppelin"):
        c = soundfont_cost(name)
        if "error" in c:
            print(f"  {name}: {c['error']}")
            continue
        extra = ""
        if name.startswith("avl") and base:   # the kit on top of musescore's lead and bass
            extra = (f" (the kit alone: {c['rss_mb'] - base['rss_mb']:+.0f} MB, "
                     f"{c['cpu_per_s'] - base['cpu_per_s']:+.4f} CPU s per audio s)")
        base = c if name == "musescore" else base
        print(f"  {name} ({c['file']}): +{c['rss_mb']:.0f} MB RSS, render {c['cpu_per_s']:.4f} CPU s per audio s{extra}")


if __name__ == "__main__":
    main()
