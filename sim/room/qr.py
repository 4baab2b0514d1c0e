"""The participant address as a QR code, made offline with segno (pure Python): an inline SVG for
the console and the projector, and a block of characters for the terminal."""

from __future__ import annotations

import io

import segno


def svg(address: str, scale: int = 6) -> str:
    """An inline <svg> of the address (medium error correction: it still scans off a projector)."""
    # no fixed size (a viewBox instead): the page scales it to its box
    return segno.make(address, error="m").svg_inline(scale=scale, dark="#111", light="#fff", border=2,
                                                     omitsize=True)


def terminal(address: str) -> str:
    """The QR code as text, two rows of modules a line (fits a terminal)."""
    out = io.StringIO()
    segno.make(address, error="m").terminal(out=out, compact=True, border=2)
    return out.getvalue()
