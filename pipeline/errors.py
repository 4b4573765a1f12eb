"""One exception tree for everything that can go wrong with an input, and the exit codes it maps to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; a batch exits with the worst code of its files."""

    OK = 0
    USAGE = 2
    NO_RESULTS = 3
    """The file was read but holds no lab results."""
    INPUT_ERROR = 4
    """The file could not be read at all (corrupt, encrypted, empty, unsupported, too large)."""
    MISSING_DEPENDENCY = 5
    INTERNAL_ERROR = 10


class LabreportError(Exception):
    """Base of every error labreport reports to a user; ``code`` is a stable machine-readable name."""

    exit_code = ExitCode.INTERNAL_ERROR
    code = "internal_error"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InputError(LabreportError):
    exit_code = ExitCode.INPUT_ERROR
    code = "input_error"


class EmptyFileError(InputError):
    code = "empty_file"


class UnsupportedTypeError(InputError):
    code = "unsupported_type"


class CorruptFileError(InputError):
    code = "corrupt_file"


class EncryptedFileError(InputError):
    code = "encrypted_pdf"


class TooLargeError(InputError):
    code = "too_large"


class NoResultsError(LabreportError):
    exit_code = ExitCode.NO_RESULTS
    code = "no_results"


class MissingDependencyError(LabreportError):
    exit_code = ExitCode.MISSING_DEPENDENCY
    code = "missing_dependency"
