"""Music as notes: 16-bar `Segment`s, seed files and seed sets, the latent walk
(composer), the performer's humanizing and its grooves, MIDI files out.
"""
