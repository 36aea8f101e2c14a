#!/usr/bin/env python3
"""Builds the two CJK subsets of Noto Sans CJK Regular: Chinese and Korean.

NotoSansSC-Subset.otf is the Noto Sans CJK SC face cut down to every character of
GB 2312 (7,445, among them the 6,763 hanzi of levels 1 and 2) and of Big5 (13,706, among
them the 13,053 hanzi of levels 1 and 2), plus the CJK Symbols and Punctuation block and
the halfwidth and fullwidth forms.

NotoSansKR-Subset.otf is the Noto Sans CJK KR face cut down to the 11,172 precomposed
Hangul syllables (U+AC00-U+D7A3), Hangul Jamo (U+1100-U+11FF), Hangul Compatibility
Jamo (U+3130-U+318F) and the characters of KS X 1001 that the Chinese subset lacks. The
templates list the SC face first, so the Chinese subset prints the hanja that both
subsets would have, and leaving them out of the Korean subset saves about 2.4 MB.

Both keep every OpenType layout feature, so the `locl` variants of other regions stay
reachable for text tagged with their language. The character tables come from Python's
gb2312, big5 and euc_kr codecs.

Source: Debian's fonts-noto-cjk package (NotoSansCJK-Regular.ttc).
Needs fontTools (Debian python3-fonttools or PyPI fonttools).
Usage: python3 subset-cjk.py [path/to/NotoSansCJK-Regular.ttc]
"""

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

SOURCE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
CHINESE_OUTPUT = Path(__file__).with_name("NotoSansSC-Subset.otf")
KOREAN_OUTPUT = Path(__file__).with_name("NotoSansKR-Subset.otf")

# Double-byte character sets as (codec, lead bytes, trail bytes). `code_points` decodes
# every pair and skips the codes the codec leaves unassigned.
GB2312 = ("gb2312", range(0xA1, 0xF8), range(0xA1, 0xFF))
BIG5 = ("big5", range(0xA1, 0xFA), [*range(0x40, 0x7F), *range(0xA1, 0xFF)])
KS_X_1001 = ("euc_kr", range(0xA1, 0xFF), range(0xA1, 0xFF))

CJK_PUNCTUATION = range(0x3000, 0x3040)
HALFWIDTH_FULLWIDTH = range(0xFF00, 0xFFF0)
HANGUL_SYLLABLES = range(0xAC00, 0xD7A4)
HANGUL_JAMO = range(0x1100, 0x1200)
HANGUL_COMPATIBILITY_JAMO = range(0x3130, 0x3190)


def code_points(table):
    codec, leads, trails = table
    points = set()
    for lead in leads:
        for trail in trails:
            try:
                points.add(ord(bytes([lead, trail]).decode(codec)))
            except UnicodeDecodeError:
                pass
    return points


def write_subset(source, family, unicodes, output):
    """Writes a subset of the face `family` and returns its code points."""
    # The source's modification time is kept, so the output is the same on every run.
    collection = TTCollection(source, recalcTimestamp=False)
    face = next(
        font for font in collection.fonts if font["name"].getDebugName(1) == family
    )
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(face)
    face.save(output)
    covered = set(face.getBestCmap())
    size = output.stat().st_size
    print(
        f"{output.name}: {len(unicodes)} code points requested, "
        f"{len(covered)} covered, {size} bytes"
    )
    return covered


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else SOURCE
    chinese = code_points(GB2312) | code_points(BIG5)
    chinese |= set(CJK_PUNCTUATION) | set(HALFWIDTH_FULLWIDTH)
    chinese_covered = write_subset(source, "Noto Sans CJK SC", chinese, CHINESE_OUTPUT)

    korean = set(HANGUL_SYLLABLES) | set(HANGUL_JAMO) | set(HANGUL_COMPATIBILITY_JAMO)
    korean |= code_points(KS_X_1001) - chinese_covered
    write_subset(source, "Noto Sans CJK KR", korean, KOREAN_OUTPUT)


if __name__ == "__main__":
    main()
