"""Untrusted text made safe for the place it lands: one function per sink.

Every string that comes from a zoo or a server (ids, names, file names from
URLs, messages, reason phrases) goes through exactly one of these before it
reaches its sink:

- ``label_text``: a widget label or progress-bar description (tqdm.notebook
  puts ``desc`` into an ipywidgets HTML widget, so the label is reduced to a
  subset with no markup characters at all);
- ``terminal_safe``: text printed to a terminal (no ESC, C0/C1 controls, bidi
  overrides, line separators or lone surrogates; newlines and tabs kept);
- ``one_line``: a value quoted inside a one-line message (terminal-safe,
  newlines replaced, truncated);
- ``html_text``: text placed into HTML (escaped).

Generated code takes values only as Python literals (see ``codegen``).
"""

from __future__ import annotations

import html
import re

#: longest value quoted in a message
MESSAGE_LIMIT = 200
#: longest progress-bar / widget label
LABEL_LIMIT = 40

# C0 controls except tab and newline, DEL, C1 controls (CSI, OSC, ...), bidi
# embeddings / overrides / isolates, zero-width and line / paragraph
# separators, the BOM, and lone surrogates (which cannot even be printed).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ud800-\udfff]")
# Punctuation a label keeps; everything else that is not a letter or digit becomes "_".
_LABEL_PUNCTUATION = frozenset(" ._-+=@,()[]~#%")


def truncate(text: object, limit: int = MESSAGE_LIMIT) -> str:
    """At most ``limit`` characters, saying how many were left out."""
    value = str(text)
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value) - limit} more characters)"


def terminal_safe(text: object) -> str:
    """Control, bidi and separator characters become '?', so text cannot drive the terminal."""
    return _UNSAFE.sub("?", str(text))


def one_line(text: object, limit: int = MESSAGE_LIMIT) -> str:
    """A remote value quoted in a one-line message: truncated, terminal-safe, no line breaks."""
    return terminal_safe(truncate(text, limit)).replace("\n", "?").replace("\t", " ")


def label_text(text: object, limit: int = LABEL_LIMIT) -> str:
    """A label for a progress bar or widget: letters, digits and a little punctuation only.

    No ``<``, ``>``, ``&``, quotes or controls survive, so the label is the same
    plain text whether it is shown in a terminal or through an HTML widget.
    """
    value = str(text)
    shown = "".join(
        ch if (ch.isalnum() and ch.isprintable() and not _UNSAFE.match(ch)) or ch in _LABEL_PUNCTUATION else "_"
        for ch in value[:limit]
    )
    return shown + ("…" if len(value) > limit else "")


def html_text(text: object) -> str:
    """Text to put into HTML: every markup character escaped, quotes included."""
    return html.escape(str(text), quote=True)


__all__ = ["LABEL_LIMIT", "MESSAGE_LIMIT", "html_text", "label_text", "one_line", "terminal_safe", "truncate"]
