"""Problems found in a questionnaire file, and the exception that carries them.

A problem names the file, the line, the dotted field path and what is wrong, so that a survey
manager can fix the file without reading code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a questionnaire file.

    ``line`` is 1-based; 0 means the problem has no line (for example, an unreadable file).
    ``field`` is a dotted path such as ``groups[2].questions[0].relevant``; it may be empty
    when the problem concerns the whole file (a YAML syntax error, an empty file).
    """

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class QuestionnaireError(Exception):
    """A questionnaire file (or a condition) could not be loaded; ``problems`` says why."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid questionnaire")
