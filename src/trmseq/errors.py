"""Exceptions that carry a user-facing, one-line message.

The CLI turns any :class:`TrmseqError` into that line on stderr and a non-zero exit; anything
else is a bug and keeps its traceback.
"""


class TrmseqError(Exception):
    """Base class for errors caused by the user's input, not by trmseq itself."""


class InputError(TrmseqError):
    """A spectrum file is missing, unreadable or malformed."""


class PeptideError(TrmseqError):
    """A peptide string cannot be parsed with the current residue vocabulary.

    ``reason`` is the message without the peptide, so skips can be counted by cause.
    """

    def __init__(self, reason: str, peptide: str | None = None) -> None:
        self.reason = reason
        super().__init__(f"{reason} in {peptide!r}" if peptide is not None else reason)


class OutputError(TrmseqError):
    """An output file cannot be written."""


class ConfigError(TrmseqError):
    """A configuration file or option has an unknown key or an invalid value."""


class CheckpointError(TrmseqError):
    """A model checkpoint is missing, corrupt or incompatible."""
