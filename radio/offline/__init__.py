"""Offline tools, apart from what serves listeners: the corpus builder (`corpus`, with
`hydrogen` and `bandfiles` for real MIDI from Debian packages), training (`train`,
`fastvae`), official checkpoints (`fetch`) and the statistics the benches and tests
report (`musicstats`, `audiostats`). Nothing of the runtime imports this package
(tests/test_layering.py checks); the commands `radio build-corpus`, `radio train` and
`radio fetch-model` do, inside the command, and so do bench/ and the tests."""
