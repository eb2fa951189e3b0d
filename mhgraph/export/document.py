"""A tiny document model rendered both as Markdown and as HTML.

``summary.md`` and ``index.html`` say the same things; building the content once as blocks
and rendering it twice keeps them the same by construction. Every value from partner data is
attacker-controlled, so both renderers escape every piece of text: Markdown gets backslash
escapes (no raw HTML, no emphasis, no links it did not ask for), HTML gets ``html.escape``.

>>> blocks = [Heading(2, (Text("Cluster "), Text("<C1>", "code"))),
...           Bullets((Item((Text("reason: *wage* < minimum"),)),))]
>>> print(to_markdown(blocks))
## Cluster `<C1>`
<BLANKLINE>
- reason: \\*wage\\* \\< minimum
<BLANKLINE>
>>> print(to_html(blocks))
<h2>Cluster <code>&lt;C1&gt;</code></h2>
<ul>
<li>reason: *wage* &lt; minimum</li>
</ul>
<BLANKLINE>
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

__all__ = [
    "Block",
    "Bullets",
    "Details",
    "Figure",
    "Heading",
    "Inline",
    "Item",
    "Link",
    "Note",
    "Paragraph",
    "Table",
    "Text",
    "to_html",
    "to_markdown",
]


@dataclass(frozen=True)
class Text:
    """A run of text; ``style`` is ``""``, ``"code"`` or ``"strong"``."""

    value: str
    style: str = ""


@dataclass(frozen=True)
class Link:
    """A link to a file this export writes (``href`` is built from validated names)."""

    label: str
    href: str


Inline = Text | Link


@dataclass(frozen=True)
class Heading:
    level: int
    content: tuple[Inline, ...]


@dataclass(frozen=True)
class Paragraph:
    content: tuple[Inline, ...]


@dataclass(frozen=True)
class Note:
    """A call-out the reader must not miss (the "not a decision" notice)."""

    content: tuple[Inline, ...]


@dataclass(frozen=True)
class Item:
    content: tuple[Inline, ...]
    children: tuple[Bullets, ...] = ()


@dataclass(frozen=True)
class Bullets:
    items: tuple[Item, ...]
    ordered: bool = False


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[tuple[Inline, ...], ...], ...]


@dataclass(frozen=True)
class Figure:
    """A chart or picture made by this export (trusted SVG, no script); Markdown shows the caption."""

    svg: str
    caption: tuple[Inline, ...] = ()


@dataclass(frozen=True)
class Details:
    """A summary line whose blocks open on a click (HTML); Markdown shows both."""

    summary: tuple[Inline, ...]
    blocks: tuple


Block = Heading | Paragraph | Note | Bullets | Table | Figure | Details

# Characters that would start a line break or a paragraph if copied as they are.
_LINE_BREAKS = re.compile("[\r\n\u0085\u2028\u2029\v\f]+")
# Markdown punctuation that can change how text renders (emphasis, links, raw HTML, code,
# strike-through, table cells); escaped wherever partner text lands in Markdown.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&~|#!])")


def _one_line(value: str) -> str:
    return _LINE_BREAKS.sub(" ", value)


def _md_text(value: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", _one_line(value))


def _md_code(value: str, in_table: bool) -> str:
    value = _one_line(value)
    longest = max((len(run) for run in re.findall("`+", value)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {value} " if value.startswith("`") or value.endswith("`") or not value.strip() else value
    if in_table:  # GFM splits cells on "|" even inside a code span
        padded = padded.replace("|", "\\|")
    return f"{fence}{padded}{fence}"


def _md_strong(text: str) -> str:
    """Bold ``text``, with its outer spaces outside the asterisks: CommonMark does not open bold
    on ``** word``.

    >>> _md_strong(" telt mee") + "|" + _md_strong("  ")
    ' **telt mee**|  '
    """
    core = text.strip()
    if not core:
        return text
    start = text.index(core)
    return f"{text[:start]}**{core}**{text[start + len(core):]}"


def _md_inline(content: tuple[Inline, ...], in_table: bool = False) -> str:
    parts = []
    for piece in content:
        if isinstance(piece, Link):
            parts.append(f"[{_md_text(piece.label)}]({piece.href.replace(' ', '%20').replace(')', '%29')})")
        elif piece.style == "code":
            parts.append(_md_code(piece.value, in_table))
        elif piece.style == "strong":
            parts.append(_md_strong(_md_text(piece.value)))
        else:
            parts.append(_md_text(piece.value))
    return "".join(parts)


def _md_bullets(bullets: Bullets, indent: str) -> list[str]:
    lines = []
    for number, item in enumerate(bullets.items, start=1):
        marker = f"{number}." if bullets.ordered else "-"
        lines.append(f"{indent}{marker} {_md_inline(item.content)}")
        for child in item.children:
            lines.extend(_md_bullets(child, indent + " " * (len(marker) + 1)))
    return lines


def to_markdown(blocks: list[Block]) -> str:
    """Render ``blocks`` as CommonMark/GFM text."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"{'#' * block.level} {_md_inline(block.content)}")
        elif isinstance(block, Paragraph):
            out.append(_md_inline(block.content))
        elif isinstance(block, Note):
            out.append(f"> {_md_inline(block.content)}")
        elif isinstance(block, Bullets):
            out.append("\n".join(_md_bullets(block, "")))
        elif isinstance(block, Table):
            lines = [
                "| " + " | ".join(_md_text(name) for name in block.header) + " |",
                "|" + "---|" * len(block.header),
            ]
            lines += ["| " + " | ".join(_md_inline(cell, in_table=True) for cell in row) + " |" for row in block.rows]
            out.append("\n".join(lines))
        elif isinstance(block, Figure):
            if not block.caption:
                continue
            out.append(_md_inline(block.caption))
        elif isinstance(block, Details):
            out.append(_md_inline(block.summary))
            out.append("")
            out.append(to_markdown(list(block.blocks)).rstrip("\n"))
        out.append("")
    return "\n".join(out)


def _html_inline(content: tuple[Inline, ...]) -> str:
    parts = []
    for piece in content:
        if isinstance(piece, Link):
            parts.append(f'<a href="{html.escape(piece.href)}">{html.escape(piece.label)}</a>')
        elif piece.style == "code":
            parts.append(f"<code>{html.escape(piece.value)}</code>")
        elif piece.style == "strong":
            parts.append(f"<strong>{html.escape(piece.value)}</strong>")
        else:
            parts.append(html.escape(piece.value))
    return "".join(parts)


def _html_bullets(bullets: Bullets) -> str:
    tag = "ol" if bullets.ordered else "ul"
    items = []
    for item in bullets.items:
        children = "".join("\n" + _html_bullets(child) for child in item.children)
        items.append(f"<li>{_html_inline(item.content)}{children}</li>")
    return f"<{tag}>\n" + "\n".join(items) + f"\n</{tag}>"


def to_html(blocks: list[Block]) -> str:
    """Render ``blocks`` as an HTML fragment; all text is escaped."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"<h{block.level}>{_html_inline(block.content)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            out.append(f"<p>{_html_inline(block.content)}</p>")
        elif isinstance(block, Note):
            out.append(f'<p class="note">{_html_inline(block.content)}</p>')
        elif isinstance(block, Bullets):
            out.append(_html_bullets(block))
        elif isinstance(block, Table):
            head = "".join(f"<th>{html.escape(name)}</th>" for name in block.header)
            rows = "\n".join(
                "<tr>" + "".join(f"<td>{_html_inline(cell)}</td>" for cell in row) + "</tr>" for row in block.rows
            )
            out.append(f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>")
        elif isinstance(block, Figure):
            caption = f"<figcaption>{_html_inline(block.caption)}</figcaption>" if block.caption else ""
            out.append(f"<figure>{block.svg}{caption}</figure>")
        elif isinstance(block, Details):
            out.append(f"<details><summary>{_html_inline(block.summary)}</summary>\n"
                       f"{to_html(list(block.blocks)).rstrip()}\n</details>")
    return "\n".join(out) + "\n"
