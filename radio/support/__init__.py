"""Helpers every layer may use, knowing nothing of music or the station: logging setup,
TensorFlow's quiet start, note_seq's deferred extras, atomic files, glibc heap tuning,
client addresses and rate limits.
"""
