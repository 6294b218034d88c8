#!/usr/bin/env python3
"""Builds c4-demo.json.gz, the calibration shard of layerscope's demo model.

The documents are prose sections of the Python 3.11 documentation (PSF License),
taken from the reStructuredText sources that Debian's python3.11-doc package ships
under usr/share/doc/python3.11/html/_sources. Each section of a page becomes one
document; code blocks, tables and directives are dropped and inline markup is
reduced to its text. The output has C4's exact format: gzip, one JSON object per
line with the keys text, timestamp, url in that order.

Usage (see README.md beside this file):
    python3 make_c4_demo.py SOURCES_DIR OUTPUT.json.gz

Same input, same bytes: files and sections are read in a fixed order and the gzip
header carries no file name and mtime 0.
"""
import gzip
import json
import re
import sys
from pathlib import Path

DOC_VERSION = "3.11"
# Python 3.11.2, the release these sources belong to, came out on this day.
TIMESTAMP = "2023-02-08T00:00:00Z"
PAGES = ["tutorial", "howto", "faq", "reference"]
MIN_CHARS = 700
HEADING_CHARS = set("=-*~^\"#+'`")
ITEM = re.compile(r"^([*-]|\d+\.|#\.)\s+")

ROLE = re.compile(r":[a-zA-Z0-9:_-]+:`([^`]+)`")
LINK = re.compile(r"`([^`<]+?)\s*<[^>]+>`__?")
REF = re.compile(r"`([^`]+)`__?")
LITERAL = re.compile(r"``(.+?)``", re.S)
ESCAPE = re.compile(r"\\(.)", re.S)
NAMED_REF = re.compile(r"(?<=[A-Za-z0-9])_(?![\w])")
EMPHASIS = re.compile(r"(\*\*|\*)(\S(?:.*?\S)?)\1")
SUBST = re.compile(r"\|(version|release)\|")
FOOTNOTE = re.compile(r"\s*\[(#|\d+|\*)\]_")


def role_text(m):
    body = m.group(1)
    target = re.match(r"(.*?)\s*<[^>]+>$", body, re.S)
    if target:
        return target.group(1)
    body = body.lstrip("!")
    if body.startswith("~"):
        return body[1:].split(".")[-1]
    return body


def inline(text):
    """Reduces reStructuredText inline markup to its text; literals are kept verbatim."""
    parts = []
    for i, part in enumerate(LITERAL.split(text)):
        parts.append(part if i % 2 else markup(part))
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def markup(text):
    # backslash escapes first, so an escaped * or ` is not taken for markup
    text = ESCAPE.sub(lambda m: "" if m.group(1) == " " else chr(0xE000 + ord(m.group(1))), text)
    text = ROLE.sub(role_text, text)
    text = LINK.sub(r"\1", text)
    text = REF.sub(r"\1", text)
    text = EMPHASIS.sub(r"\2", text)
    text = NAMED_REF.sub("", text)
    text = FOOTNOTE.sub("", text)
    text = SUBST.sub(DOC_VERSION, text)
    text = text.replace(" --- ", " \u2014 ").replace("---", "\u2014")
    return re.sub("[\ue000-\ue0ff]", lambda m: chr(ord(m.group(0)) - 0xE000), text)


def is_underline(line, title):
    s = line.rstrip()
    return (len(s) >= 3 and len(set(s)) == 1 and s[0] in HEADING_CHARS
            and title.strip() != "" and len(s) >= len(title.rstrip()))


def slug(title):
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def sections(lines):
    """Yields (title, [paragraph lines]) for each section, in file order."""
    title, body, i = None, [], 0
    while i < len(lines):
        line = lines[i]
        over = i + 2 < len(lines) and is_underline(line, lines[i + 1]) and is_underline(lines[i + 2], lines[i + 1])
        under = i + 1 < len(lines) and not line.startswith(" ") and is_underline(lines[i + 1], line) \
            and not is_underline(line, line)
        if over or under:
            if title is not None:
                yield title, body
            title = inline(lines[i + 1] if over else line)
            body = []
            i += 3 if over else 2
            continue
        body.append(line)
        i += 1
    if title is not None:
        yield title, body


def paragraphs(body):
    """Blank-line separated blocks; each item of a list is a block of its own."""
    block = []
    for line in body + [""]:
        if line.strip() and not (block and ITEM.match(line)):
            block.append(line)
            continue
        if block:
            yield block
        block = [line] if line.strip() else []


def prose(block):
    """The paragraph as one line of text, or None for code, tables and directives."""
    first = block[0]
    if first.startswith((" ", "\t", "..", ">>>", "|", "+", "==", "::")):
        return None
    if any(l.startswith(("+-", "+=", "===")) for l in block):
        return None
    text = " ".join(l.strip() for l in block)
    bullet = ITEM.match(text)
    if bullet:
        text = text[bullet.end():]
    if text.endswith("::"):
        text = text[:-2].rstrip() + ":"
        if text == ":":
            return None
    text = inline(text)
    if len(text) < 25 or not re.search(r"[a-z]{3}", text):
        return None
    return text


def documents(root):
    for area in PAGES:
        for page in sorted((root / area).glob("*.rst.txt")):
            if page.name == "index.rst.txt":
                continue
            rel = page.relative_to(root).as_posix()[: -len(".rst.txt")]
            lines = page.read_text(encoding="utf-8").splitlines()
            for title, body in sections(lines):
                paras = [p for p in (prose(b) for b in paragraphs(body)) if p]
                text = "\n".join(paras)
                if len(text) >= MIN_CHARS:
                    url = f"https://docs.python.org/{DOC_VERSION}/{rel}.html#{slug(title)}"
                    yield {"text": text, "timestamp": TIMESTAMP, "url": url}


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    root, out = Path(argv[1]), Path(argv[2])
    docs = list(documents(root))
    with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        for d in docs:
            gz.write((json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))
    print(f"{len(docs)} documents, {sum(len(d['text']) for d in docs)} characters -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
