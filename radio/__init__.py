"""latent radio: an endless generative radio station (see README.md)."""

from .lazy_imports import defer_note_seq_extras

defer_note_seq_extras()   # every process of ours imports radio before note_seq
