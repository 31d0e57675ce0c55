"""Offline tools, apart from what serves listeners: the corpus builder (`corpus`, with
`hydrogen` and `bandfiles` for real MIDI from Debian packages), training (`train`,
`fastvae`), official checkpoints (`fetch`) and the statistics the benches report
(`musicstats`). The station never imports this package; `radio build-corpus`, `radio
train`, `radio fetch-model` and bench/ do."""
