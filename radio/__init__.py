"""latent radio: an endless generative radio station (see README.md).

Subpackages by concern; imports flow one way, down this list (tests/test_layering.py):
cli/doctor → server → station → generator → band → sound → model → music → support →
config → contracts. offline/ stands beside them: it may use any of them, none uses it.
"""

from .support.lazy_imports import defer_note_seq_extras

defer_note_seq_extras()   # every process of ours imports radio before note_seq
