#!/usr/bin/env python3
"""Builds NotoSansSC-Subset.otf: Noto Sans CJK SC Regular cut down to GB 2312.

The subset keeps all 7,445 characters of GB 2312 (the 6,763 hanzi of levels 1 and 2
plus its punctuation, symbols, Latin, Greek, Cyrillic and kana), the CJK Symbols and
Punctuation block and the halfwidth and fullwidth forms.

Source: Debian's fonts-noto-cjk package (NotoSansCJK-Regular.ttc, the SC face).
Needs fontTools (Debian python3-fonttools or PyPI fonttools).
Usage: python3 subset-cjk.py [path/to/NotoSansCJK-Regular.ttc]
"""

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

SOURCE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
OUTPUT = Path(__file__).with_name("NotoSansSC-Subset.otf")


def gb2312_characters():
    chars = set()
    for lead in range(0xA1, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes([lead, trail]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else SOURCE
    collection = TTCollection(source)
    face = next(
        font for font in collection.fonts
        if font["name"].getDebugName(1) == "Noto Sans CJK SC"
    )
    unicodes = {ord(c) for c in gb2312_characters()}
    unicodes |= set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(face)
    face.save(OUTPUT)
    print(f"{OUTPUT}: {len(unicodes)} code points, {OUTPUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
