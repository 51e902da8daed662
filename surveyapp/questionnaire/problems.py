"""Problems found in a questionnaire file, and the exception that carries them.

A problem names the file, the line, the dotted field path and what is wrong, so that a survey
manager can fix the file without reading code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import N_, Text


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
    #: The message to translate where it is shown, when the loader worded it as a Text.
    text: Text | None = dataclasses.field(default=None, compare=False, repr=False)
    #: ``field`` worded as a Text (``survey sheet, row 4``), when it is words rather than a path.
    place: Text | None = dataclasses.field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return str(self.as_text())

    def as_text(self) -> Text:
        """The problem with its place (file, line, field), translated where it is shown."""
        where: str | Text = f"{self.file}:{self.line}" if self.line > 0 else self.file
        if self.place is not None or self.field:
            place = self.place if self.place is not None else self.field
            where = Text(N_("%(where)s: %(place)s"), where=where, place=place)
        return Text(N_("%(where)s: %(message)s"), where=where, message=self.text or self.message)


class QuestionnaireError(Exception):
    """A questionnaire file (or a condition) could not be loaded; ``problems`` says why."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid questionnaire")
