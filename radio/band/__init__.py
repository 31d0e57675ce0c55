"""Complete the band: keep the part(s) a musician played and let the trio model play the
rest (`radio complete`, POST /api/complete), and the station's band mode.

parts (the input MIDI) → tokens → search (latent z) → choose (the best sample) →
complete (windows assembled); loading (model and seed encodings once), render (audio),
mode (the station's band mode).
"""
