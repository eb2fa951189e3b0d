"""The HTML page shell: self-contained, offline, and strict about what may run.

Every page this export writes goes through :func:`render_page`:

* nothing is loaded from anywhere: scripts and styles are inline, and a Content-Security-Policy
  (``default-src 'none'``) forbids every fetch, so the page works on a laptop without network
  and leaks nothing when opened;
* only the page's own scripts run: each is allowed by its SHA-256 hash (no ``'unsafe-inline'``
  for scripts, so an injected ``onerror=`` handler or ``<script>`` cannot run);
* data travels as JSON inside ``<script type="application/json">`` with ``<``, ``>``, ``&`` and
  U+2028/U+2029 escaped, so no value can close the tag or start markup;
* the output is a pure function of the input: same input, same bytes.

>>> page = render_page("Report <1>", "<p>body</p>")
>>> "default-src 'none'" in page and "<title>Report &lt;1&gt;</title>" in page
True
>>> embed_json({"name": "</script><img src=x>"})
'{"name":"\\\\u003c/script\\\\u003e\\\\u003cimg src=x\\\\u003e"}'
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from functools import cache
from importlib import resources

__all__ = ["asset", "content_security_policy", "embed_json", "render_page"]

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _normalise_newlines(text: str) -> str:
    # The HTML parser turns CR LF and lone CR into LF before a script's hash is checked, so
    # the hash must be taken over the text as the browser will see it.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _inline_script(text: str, name: str) -> str:
    text = _normalise_newlines(text)
    if "</script" in text.lower() or "<!--" in text:
        raise ValueError(f"{name} cannot be inlined: it contains '</script' or '<!--'")
    return text


@cache
def asset(name: str) -> str:
    """A script or style shipped next to this module (``network.js``, ``page.css``, ...)."""
    return _normalise_newlines(resources.files("mhgraph.export").joinpath(name).read_text(encoding="utf-8"))


def embed_json(value) -> str:
    """``value`` as JSON that is safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escaped in _JSON_ESCAPES.items():  # str.replace is far faster than translate on long text
        text = text.replace(char, escaped)
    return text


def _sha256_source(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(scripts: list[str]) -> str:
    """The policy for a page whose only scripts are ``scripts`` (inline, allowed by hash)."""
    script_src = " ".join(_sha256_source(s) for s in scripts) if scripts else "'none'"
    return (
        "default-src 'none'; "
        f"script-src {script_src}; "
        "style-src 'unsafe-inline'; "
        "img-src data:; "
        "base-uri 'none'; "
        "form-action 'none'"
    )


def render_page(title: str, body: str, *, scripts: list[str] = (), data: dict[str, object] | None = None,
                head_scripts: list[str] = (), lang: str = "en", body_class: str = "") -> str:
    """A complete HTML page around the (already escaped) ``body`` fragment.

    ``head_scripts`` run before the body is parsed, ``scripts`` after it; ``data`` maps an
    element id to a JSON value the scripts read with ``JSON.parse``.
    """
    head_scripts = [_inline_script(s, "head script") for s in head_scripts]
    scripts = [_inline_script(s, "script") for s in scripts]
    policy = content_security_policy([*head_scripts, *scripts])
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{html.escape(lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy, quote=False)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        *(f"<script>{s}</script>" for s in head_scripts),
        f"<style>{asset('page.css')}</style>",
        "</head>",
        f'<body class="{html.escape(body_class)}">' if body_class else "<body>",
        body.rstrip("\n"),
        *(
            f'<script type="application/json" id="{html.escape(element_id)}">{embed_json(value)}</script>'
            for element_id, value in (data or {}).items()
        ),
        *(f"<script>{s}</script>" for s in scripts),
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)
