#!/usr/bin/env python3
"""Where the bytes of the wasm module go: code size per crate, from the function names of the
module cargo builds (before wasm-bindgen strips the name section).
    python3 scripts/wasm-size.py [$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/minirank.wasm]
"""
import collections, os, re, sys

def leb(b, i):
    r = s = 0
    while True:
        x = b[i]; i += 1
        r |= (x & 0x7F) << s; s += 7
        if x < 0x80:
            return r, i

def sections(b):
    i = 8
    while i < len(b):
        sid = b[i]; size, j = leb(b, i + 1)
        yield sid, b[j:j + size]
        i = j + size

def crate_of(name):
    """The crate of a legacy-mangled Rust symbol (`_ZN5tract4core...`, `_ZN..._$LT$tract_core..X$u20$as...`)."""
    m = re.match(r"_ZN(\d+)", name)
    if not m:
        return "(not Rust: " + re.sub(r"[^A-Za-z_].*", "", name)[:20] + ")" if name != "?" else "(unnamed)"
    first = name[m.end():m.end() + int(m.group(1))]
    first = re.sub(r"^_?\$LT\$(\$RF\$)?(mut\$u20\$)?(dyn\$u20\$)?", "", first)
    return re.split(r"\.\.|\$", first)[0] or "(other)"

def main():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/minirank/target"))
    path = sys.argv[1] if len(sys.argv) > 1 else f"{target}/wasm32-unknown-unknown/release/minirank.wasm"
    b = open(path, "rb").read()
    imported = 0
    bodies, names, totals = [], {}, collections.Counter()
    for sid, data in sections(b):
        totals[sid] += len(data)
        if sid == 2:  # imports: functions among them shift the function index space
            n, i = leb(data, 0)
            for _ in range(n):
                for _ in range(2):
                    l, i = leb(data, i); i += l
                kind = data[i]; i += 1
                if kind == 0:
                    _, i = leb(data, i); imported += 1
                elif kind == 1:
                    i += 1; flags, i = leb(data, i); _, i = leb(data, i)
                    if flags & 1: _, i = leb(data, i)
                elif kind == 2:
                    flags, i = leb(data, i); _, i = leb(data, i)
                    if flags & 1: _, i = leb(data, i)
                elif kind == 3:
                    i += 2
                else:
                    i += 2
        elif sid == 10:
            n, i = leb(data, 0)
            for _ in range(n):
                size, j = leb(data, i)
                bodies.append(size); i = j + size
        elif sid == 0:
            l, i = leb(data, 0)
            if data[i:i + l] == b"name":
                i += l
                while i < len(data):
                    sub = data[i]; size, j = leb(data, i + 1)
                    if sub == 1:
                        n, k = leb(data, j)
                        for _ in range(n):
                            idx, k = leb(data, k); l2, k = leb(data, k)
                            names[idx] = data[k:k + l2].decode("utf8", "replace"); k += l2
                    i = j + size
    per = collections.Counter()
    for f, size in enumerate(bodies):
        name = names.get(f + imported, "?")
        crate = crate_of(name)
        per[crate] += size
    code = sum(bodies)
    print(f"{path}: {len(b)/1e6:.2f} MB; code section {totals[10]/1e6:.2f} MB, data {totals[11]/1e6:.2f} MB, custom (names, ...) {totals[0]/1e6:.2f} MB")
    print("| crate | code | share |\n|---|---|---|")
    for crate, size in per.most_common(15):
        print(f"| {crate} | {size/1e6:.2f} MB | {100*size/code:.0f}% |")

if __name__ == "__main__":
    main()
