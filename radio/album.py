"""`radio generate --songs N --out DIR`: an album. Whole songs from the pipeline, each
titled, as MIDI (always) and audio (if asked), with an M3U listing them in order."""

from __future__ import annotations

import sys
from pathlib import Path

from .config import json_object


def write_album(args, out: Path, settings_of) -> int:
    """N whole songs into the folder `out`, each as MIDI (and WAV or MP3 if asked), with an
    M3U playlist of the audio (or the MIDI files); `settings_of` is the CLI's settings
    builder (the common options). The exit status."""
    import numpy as np
    from tqdm import tqdm

    from .contracts import SAMPLE_RATE
    from .generator.pipeline import Pipeline
    from .music import midi
    if args.songs < 1:
        print("error: --songs must be at least 1", file=sys.stderr)
        return 2
    if out.suffix or (out.exists() and not out.is_dir()):
        print(f"error: with --songs, --out is a folder (got {out})", file=sys.stderr)
        return 2
    try:
        mix = {"form": "song", **(json_object(args.mix) if args.mix else {})}
    except ValueError:
        print(f"error: --mix must be a JSON object (got {args.mix})", file=sys.stderr)
        return 2
    settings = settings_of(args, humanize=not args.no_humanize, seed=args.seed,
                         temperature=args.temperature, mix=mix, engine=args.engine)
    pipeline = Pipeline(settings)
    if not pipeline.mix.songs():
        print('error: the mix plays no songs: use mode "walk" and a form other than "morph"', file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    playlist, ahead = ["#EXTM3U"], pipeline.next_segment()
    for k in tqdm(range(1, args.songs + 1), desc="songs", unit="song", disable=not sys.stderr.isatty()):
        song = [ahead]
        while (ahead := pipeline.next_segment()).song["section"] != 0:
            song.append(ahead)
        title = song[0].song["title"]
        stem = f"{k:02d} - {title}"
        sound = pipeline.sound_for(song[0])
        midi.write_midi(song, out / f"{stem}.mid", sound.lead.program, sound.bass.program)
        name = f"{stem}.mid"
        if args.format != "mid":
            from .sound.master import master_whole
            from .station.encoder import write_audio
            pcm = np.concatenate([pipeline.render(s) for s in song], axis=1)
            name = f"{stem}.{args.format}"
            write_audio(master_whole(pcm, SAMPLE_RATE, settings.loudness_lufs), out / name, settings.bitrate)
        playlist += [f"#EXTINF:{round(sum(s.duration for s in song))},latent radio - {title}", name]
    (out / "album.m3u").write_text("\n".join(playlist) + "\n")
    print(f"wrote {args.songs} songs to {out} (album.m3u lists them)")
    return 0
