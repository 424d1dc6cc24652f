#!/usr/bin/env python3
"""Turns terminal text with ANSI colours (as `tmux capture-pane -e -p` prints
it) into an SVG picture of the terminal, for the README.

Usage: python3 scripts/ansi2svg.py < capture.txt > docs/terminal.svg

Only what dozen-log's pretty format writes is understood: SGR codes 0 (reset),
1 (bold), 2 (dim), 3 (italic), 22/23, 30-37 and 39 (colours). Anything else
is dropped.
"""
import html
import re
import sys

COLOURS = {30: "#3b4252", 31: "#e06c75", 32: "#98c379", 33: "#e5c07b",
           34: "#61afef", 35: "#c678dd", 36: "#56b6c2", 37: "#dcdfe4"}
FG, BG, DIM = "#dcdfe4", "#1e2127", "#7f848e"
CHAR_W, LINE_H, PAD, FONT = 8.4, 18, 14, 14
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def spans(line):
    """(text, style) pieces of one line."""
    style = {"bold": False, "dim": False, "italic": False, "fg": None}
    pos = 0
    for m in SGR.finditer(line):
        if m.start() > pos:
            yield line[pos:m.start()], dict(style)
        codes = [int(c) for c in m.group(1).split(";") if c] or [0]
        for c in codes:
            if c == 0:
                style = {"bold": False, "dim": False, "italic": False, "fg": None}
            elif c == 1:
                style["bold"] = True
            elif c == 2:
                style["dim"] = True
            elif c == 3:
                style["italic"] = True
            elif c == 22:
                style["bold"] = style["dim"] = False
            elif c == 23:
                style["italic"] = False
            elif c in COLOURS:
                style["fg"] = COLOURS[c]
            elif c == 39:
                style["fg"] = None
        pos = m.end()
    if pos < len(line):
        yield line[pos:], dict(style)


def main():
    lines = sys.stdin.read().rstrip("\n").split("\n")
    # Strip other escapes (cursor moves) that a capture may hold.
    lines = [re.sub(r"\x1b\[[0-9;?]*[A-Za-ln-z]", "", l) for l in lines]
    width = max((len(SGR.sub("", l)) for l in lines), default=0)
    w = int(width * CHAR_W + 2 * PAD)
    h = int(len(lines) * LINE_H + 2 * PAD + 24)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
           f'font-size="{FONT}">',
           f'<rect width="{w}" height="{h}" rx="8" fill="{BG}"/>',
           '<circle cx="18" cy="14" r="5" fill="#e06c75"/>'
           '<circle cx="34" cy="14" r="5" fill="#e5c07b"/>'
           '<circle cx="50" cy="14" r="5" fill="#98c379"/>']
    for i, line in enumerate(lines):
        y = PAD + 24 + i * LINE_H
        parts = []
        for text, st in spans(line):
            attrs = [f'fill="{st["fg"] or (DIM if st["dim"] else FG)}"']
            if st["bold"]:
                attrs.append('font-weight="bold"')
            if st["italic"]:
                attrs.append('font-style="italic"')
            parts.append(f'<tspan {" ".join(attrs)}>{html.escape(text)}</tspan>')
        out.append(f'<text x="{PAD}" y="{y}" xml:space="preserve">{"".join(parts)}</text>')
    out.append("</svg>")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
