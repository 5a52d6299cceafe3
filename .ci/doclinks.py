#!/usr/bin/env python3
"""Every relative markdown link between the docs resolves: the target file
exists and its #anchor matches a heading (GitHub's slug rules)."""
import os, re, sys
root = sys.argv[1]
files = ["README.md", "ARCHITECTURE.md", "CHANGELOG.md"] + [
    os.path.join("docs", f) for f in sorted(os.listdir(os.path.join(root, "docs"))) if f.endswith(".md")]

def slug(text):
    text = re.sub(r"`", "", text.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text)  # GitHub keeps letters, digits, _, -, space
    return text.replace(" ", "-")

def anchors(path):
    seen, out, fence = {}, set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            fence = not fence
        if fence:
            continue
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if m:
            s = slug(m.group(2))
            n = seen.get(s, 0)
            out.add(s if n == 0 else f"{s}-{n}")
            seen[s] = n + 1
    return out

bad = 0; count = 0
for f in files:
    path = os.path.join(root, f)
    if not os.path.exists(path):
        continue
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)          # no links inside code blocks
    text = re.sub(r"`[^`\n]*`", lambda m: "x" * len(m.group(0)), text)  # nor in code spans
    for m in re.finditer(r"\]\(([^)\s]+)\)", text):
        target = m.group(1)
        if re.match(r"^[a-z]+:", target):
            continue
        count += 1
        file_part, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if not os.path.exists(dest):
            print(f"{f}: {target}: no such file"); bad += 1; continue
        if anchor and dest.endswith(".md") and anchor not in anchors(dest):
            print(f"{f}: {target}: no heading #{anchor} in {os.path.relpath(dest, root)}"); bad += 1
print(f"{count} relative links checked, {bad} broken")
sys.exit(1 if bad else 0)
