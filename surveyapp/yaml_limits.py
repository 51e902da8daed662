"""YAML from people who may not be trusted: anchors and aliases refused.

Nested aliases make a few kilobytes expand into millions of nodes (a "billion laughs"); no file
this product reads needs them. One loader for every YAML file a user can upload or edit:
questionnaires (``surveyapp.questionnaire.untrusted``) and safety-index definitions. Pure: it
imports only PyYAML.
"""

from __future__ import annotations

import yaml
from yaml.composer import Composer, ComposerError
from yaml.events import AliasEvent, CollectionStartEvent, Event, ScalarEvent


class _NoAliases(Composer):
    """Refuse anchors (``&name``) and aliases (``*name``) while composing (a loader mixin)."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        # peek_event is the Parser's, which the loader this mixin goes into has.
        event: Event = self.peek_event()  # type: ignore[attr-defined]
        anchor = None
        if isinstance(event, AliasEvent):
            anchor = event.anchor
        elif isinstance(event, ScalarEvent | CollectionStartEvent) and event.anchor is not None:
            anchor = event.anchor
        if anchor is not None:
            raise ComposerError(
                None,
                None,
                f"YAML anchors and aliases (&{anchor} / *{anchor}) are not allowed in this file: "
                "write the text out where it is used",
                event.start_mark,  # type: ignore[arg-type]  # (libyaml's Mark is a Mark too)
            )
        return super().compose_node(parent, index)


class NoAliasLoader(_NoAliases, yaml.SafeLoader):
    """PyYAML's safe loader refusing anchors and aliases."""


def compose(text: str) -> yaml.Node | None:
    """Parse ``text`` into a node tree, refusing anchors and aliases (a MarkedYAMLError
    whose mark names the line)."""
    return yaml.compose(text, Loader=NoAliasLoader)  # noqa: S506 - safe loader without aliases


class NoAliasBaseLoader(_NoAliases, yaml.BaseLoader):
    """PyYAML's base loader (every scalar a string) refusing anchors and aliases."""
