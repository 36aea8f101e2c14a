#!/usr/bin/env python3
"""Copies the bundled Noto TrueType fonts from Debian's fonts-noto-core without hinting.

TrueType hinting only fits outlines to the pixel grid at small sizes on screen, and
pdftoppm (poppler 22.12) renders a certificate to the same pixels with and without it.
The PDF writer still copies the hinting tables (fpgm, prep, cvt) and each glyph's
instructions into the font subset embedded in every PDF. This script drops the glyph
instructions and the font-wide hinting tables, zeroes the maxp limits that only the
instructions use, and drops the DSIG table, whose signature the change invalidates.
Outlines, metrics, the character map and the OpenType layout tables stay as they are.

Debian's fonts-noto-unhinted 20201225-1 ships no font files, which is why the hinted
fonts are stripped here.

Source: /usr/share/fonts/truetype/noto of Debian's fonts-noto-core package.
Needs fontTools (Debian python3-fonttools or PyPI fonttools).
Usage: python3 strip-hinting.py [source directory]
"""

import sys
from pathlib import Path

from fontTools.ttLib import TTFont

SOURCE_DIR = "/usr/share/fonts/truetype/noto"
OUTPUT_DIR = Path(__file__).parent
FAMILIES = [
    "", "Devanagari", "Arabic", "Hebrew", "Thai", "Tamil",
    "Bengali", "Gujarati", "Gurmukhi", "Kannada", "Malayalam", "Oriya", "Telugu",
]
WEIGHTS = ["Regular", "Bold"]
HINTING_TABLES = ["cvt ", "cvar", "fpgm", "prep", "hdmx", "VDMX", "LTSH"]


def strip_hinting(font):
    for tag in HINTING_TABLES + ["DSIG"]:
        if tag in font:
            del font[tag]
    font["glyf"].removeHinting()
    maxp = font["maxp"]
    maxp.maxZones = 1
    maxp.maxTwilightPoints = 0
    maxp.maxStorage = 0
    maxp.maxFunctionDefs = 0
    maxp.maxInstructionDefs = 0
    maxp.maxStackElements = 0
    maxp.maxSizeOfInstructions = 0


def main():
    source_dir = Path(sys.argv[1] if len(sys.argv) > 1 else SOURCE_DIR)
    for family in FAMILIES:
        for weight in WEIGHTS:
            name = f"NotoSans{family}-{weight}.ttf"
            source = source_dir / name
            output = OUTPUT_DIR / name
            # Keeping the source's modification time makes every run write the same bytes.
            font = TTFont(source, recalcTimestamp=False)
            strip_hinting(font)
            font.save(output)
            before = source.stat().st_size
            after = output.stat().st_size
            print(f"{name}: {before} -> {after} bytes")


if __name__ == "__main__":
    main()
