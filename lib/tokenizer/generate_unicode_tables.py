#!/usr/bin/env python3
"""Generate lib/tokenizer/unicode_tables.inc from the Unicode Character Database.

The pre-tokenizers need, for every code point, its general category class (\\p{L}, \\p{N}, ...)
and whether it is White_Space (\\s), plus the few code points that case-fold to ASCII letters.
This script reads UnicodeData.txt, PropList.txt and CaseFolding.txt (Debian's unicode-data
package installs them in /usr/share/unicode) and writes a two-stage lookup table: stage 1 maps a
block of code points to a deduplicated stage-2 block of one flag byte each.

Usage: python3 lib/tokenizer/generate_unicode_tables.py [--ucd DIR] [--output FILE]
The output is committed; rerun this script when moving to a newer Unicode version.
"""

import argparse
import os
import re
import sys

MAX_CODE_POINT = 0x110000
BLOCK_SHIFT = 7  # 128 code points per stage-2 block: about 47 KB in all, near the minimum
BLOCK_SIZE = 1 << BLOCK_SHIFT

# Category classes: the low three bits of a flag byte. Must match unicode.h.
CLASS_UNASSIGNED, CLASS_LETTER, CLASS_MARK, CLASS_NUMBER = 0, 1, 2, 3
CLASS_PUNCTUATION, CLASS_SYMBOL, CLASS_SEPARATOR, CLASS_OTHER = 4, 5, 6, 7
FLAG_WHITESPACE = 0x08

CLASS_OF_MAJOR_CATEGORY = {
    "L": CLASS_LETTER, "M": CLASS_MARK, "N": CLASS_NUMBER, "P": CLASS_PUNCTUATION,
    "S": CLASS_SYMBOL, "Z": CLASS_SEPARATOR, "C": CLASS_OTHER,
}


def read_unicode_version(ucd):
    """The version from DerivedAge.txt's header ("# DerivedAge-15.0.0.txt"), or "unknown"."""
    try:
        with open(os.path.join(ucd, "DerivedAge.txt"), encoding="utf-8") as handle:
            match = re.match(r"#\s*DerivedAge-([0-9.]+)\.txt", handle.readline())
            return match.group(1) if match else "unknown"
    except OSError:
        return "unknown"


def read_categories(ucd):
    """Flag byte per code point from UnicodeData.txt; '<..., First>'/'<..., Last>' pairs are ranges."""
    flags = bytearray(MAX_CODE_POINT)  # unassigned code points (Cn) stay 0
    range_start = None
    with open(os.path.join(ucd, "UnicodeData.txt"), encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\n").split(";")
            if len(fields) < 3:
                continue
            code_point = int(fields[0], 16)
            name, category = fields[1], fields[2]
            category_class = CLASS_OF_MAJOR_CATEGORY[category[0]]
            if name.endswith(", First>"):
                range_start = code_point
                continue
            if name.endswith(", Last>"):
                if range_start is None:
                    sys.exit(f"UnicodeData.txt: range end {fields[0]} without a start")
                for value in range(range_start, code_point + 1):
                    flags[value] = category_class
                range_start = None
                continue
            flags[code_point] = category_class
    return flags


def add_white_space(ucd, flags):
    """Set FLAG_WHITESPACE on every code point with the White_Space property (PropList.txt)."""
    count = 0
    with open(os.path.join(ucd, "PropList.txt"), encoding="utf-8") as handle:
        for line in handle:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            code_points, prop = (part.strip() for part in line.split(";"))
            if prop != "White_Space":
                continue
            first, _, last = code_points.partition("..")
            for value in range(int(first, 16), int(last or first, 16) + 1):
                flags[value] |= FLAG_WHITESPACE
                count += 1
    if count == 0:
        sys.exit("PropList.txt: no White_Space entries found")


def read_ascii_case_folds(ucd):
    """Non-ASCII code points whose simple case folding (CaseFolding.txt, status C or S) is an ASCII
    letter: the Llama 3 regex's (?i:'s|'t|...) matches them too (U+017F LONG S folds to 's')."""
    folds = []
    with open(os.path.join(ucd, "CaseFolding.txt"), encoding="utf-8") as handle:
        for line in handle:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            code, status, mapping = (part.strip() for part in line.split(";")[:3])
            source, target = int(code, 16), int(mapping.split()[0], 16)
            if status in ("C", "S") and source >= 0x80 and ord("a") <= target <= ord("z"):
                folds.append((source, target))
    return folds


def build_stages(flags):
    blocks = {}
    stage1 = []
    stage2 = []
    for start in range(0, MAX_CODE_POINT, BLOCK_SIZE):
        block = bytes(flags[start:start + BLOCK_SIZE])
        index = blocks.get(block)
        if index is None:
            index = len(blocks)
            blocks[block] = index
            stage2.append(block)
        stage1.append(index)
    return stage1, stage2


def format_array(values, per_line):
    lines = []
    for start in range(0, len(values), per_line):
        lines.append("    " + ", ".join(str(value) for value in values[start:start + per_line]) + ",")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ucd", default="/usr/share/unicode", help="folder with UnicodeData.txt and PropList.txt")
    parser.add_argument("--output", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "unicode_tables.inc"))
    args = parser.parse_args()

    flags = read_categories(args.ucd)
    add_white_space(args.ucd, flags)
    stage1, stage2 = build_stages(flags)
    if len(stage2) > 0xFFFF:
        sys.exit("too many distinct blocks for 16-bit stage-1 entries")
    version = read_unicode_version(args.ucd)
    folds = read_ascii_case_folds(args.ucd)

    with open(args.output, "w", encoding="utf-8") as out:
        out.write("// Generated by lib/tokenizer/generate_unicode_tables.py from the Unicode Character Database\n")
        out.write(f"// version {version} (UnicodeData.txt, PropList.txt, CaseFolding.txt). Do not edit; rerun the generator.\n")
        out.write("// flags(cp) = stage2[stage1[cp >> block shift]][cp & (block size - 1)]\n")
        out.write("// Included by unicode.cpp inside namespace bitnet::unicode::detail.\n\n")
        out.write(f'const char version_string[] = "{version}";\n')
        out.write(f"constexpr int generated_block_shift = {BLOCK_SHIFT};\n\n")
        out.write(f"const uint16_t stage1[{len(stage1)}] = {{\n")
        out.write(format_array(stage1, 24) + "\n};\n\n")
        out.write(f"const uint8_t stage2[{len(stage2)}][{BLOCK_SIZE}] = {{\n")
        for block in stage2:
            out.write("  {\n" + format_array(list(block), 32) + "\n  },\n")
        out.write("};\n\n")
        out.write("// Non-ASCII code points whose simple case folding is an ASCII letter (CaseFolding.txt).\n")
        out.write(f"const uint32_t ascii_fold_source[{len(folds)}] = {{{', '.join(hex(a) for a, _ in folds)}}};\n")
        out.write(f"const uint8_t ascii_fold_target[{len(folds)}] = {{{', '.join(repr(chr(b)) for _, b in folds)}}};\n")
    print(f"{args.output}: Unicode {version}, {len(stage1)} stage-1 entries, {len(stage2)} blocks of {BLOCK_SIZE}")


if __name__ == "__main__":
    main()
