#!/usr/bin/env python3
"""Generate spec/v1/requirements.toml from spec/v1/protocol.md, and check the spec's form.

    python3 scripts/gen_requirements.py          # check protocol.md, then rewrite requirements.toml
    python3 scripts/gen_requirements.py --check  # exit 1 if requirements.toml is out of date or
                                                 # protocol.md breaks one of the rules below

Requirements in protocol.md
    A requirement is a list item or paragraph whose first line starts with its id in brackets:
        - [CIM-4.1-1] The client MUST send a Hello as the first frame on every connection.
    It ends at a blank line, at the next list item or at a heading. `<section>` in
    `CIM-<section>-<n>` is the number of the innermost numbered heading above it (`4.1` under
    `### 4.1 ...`, `6` under `## 6. ...` when it has no subsection), and `<n>` counts 1, 2, 3...
    within that section. The text must contain exactly one of MUST, MUST NOT, SHOULD, SHOULD NOT,
    MAY, and no nested list or code block. Outside requirements (and outside section 1.1, which
    defines the key words) no key word may appear in upper case.

Roles
    Each requirement binds one or more of "client", "server", "route". By default they are taken
    from the subject of the clause holding the key word: a leading "When ..., " / "If ..., " /
    "After ..., " clause is skipped, then the first of these words decides:
        client(s) -> client;  server(s) -> server;  route(s) -> route;
        endpoint(s), receiver(s), sender(s), peer(s) -> client and server.
    Override it with an HTML comment at the end of the requirement:
        - [CIM-3.1-1] On TCP, the sender MUST ... <!-- roles: client,server -->
    or with an entry in ROLE_OVERRIDES below. A requirement whose roles cannot be inferred is an
    error: add an override.

Other checks (--check and generation alike)
    * ids are unique and numbered as above; every [CIM-...] reference names an existing id;
    * the error registry table of section 11.2 (between `<!-- registry:start -->` and
      `<!-- registry:end -->`) lists exactly the codes, names, descriptions and retry values of
      core/src/error_code.rs;
    * with --check: requirements.toml parses, and holds every id of protocol.md once, in order,
      with the same level and text.

Python 3.11 or later (tomllib), standard library only.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "v1" / "protocol.md"
TOML = ROOT / "spec" / "v1" / "requirements.toml"
ERROR_CODES = ROOT / "core" / "src" / "error_code.rs"

# Per-id role overrides, for requirements whose wording the inference gets wrong and which should
# not carry an HTML comment. Example: "CIM-9.9-9": ["client", "server"].
ROLE_OVERRIDES: dict[str, list[str]] = {}

ROLES = ("client", "server", "route")
LEVELS = ("MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY")
# Longest alternatives first, so that "MUST NOT" is one match and not "MUST".
KEYWORD_RE = re.compile(
    r"\b(MUST NOT|SHOULD NOT|SHALL NOT|NOT RECOMMENDED|MUST|SHOULD|SHALL|MAY|REQUIRED|"
    r"RECOMMENDED|OPTIONAL)\b"
)
REQ_START_RE = re.compile(r"^(?:- )?\[(CIM-([0-9]+(?:\.[0-9]+)*)-([0-9]+))\]\s+(.*)$")
ID_REF_RE = re.compile(r"\[(CIM-[0-9.]+-[0-9]+)\]")
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*)$")
SECTION_NUMBER_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)*)\.?\s")
ROLES_COMMENT_RE = re.compile(r"<!--\s*roles:\s*([a-z ,]+?)\s*-->")
COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
CODE_SPAN_RE = re.compile(r"`[^`]*`")
LIST_OR_BLOCK_RE = re.compile(r"^(?:[-*+]\s|[0-9]+[.)]\s|```|~~~)")
SUBORDINATE_RE = re.compile(
    r"^(?:When|Whenever|If|After|Before|Once|Unless|While|On|Until|Within|Between)\b"
)
ROLE_WORDS = [
    (re.compile(r"\bclients?\b", re.I), ["client"]),
    (re.compile(r"\bservers?\b", re.I), ["server"]),
    (re.compile(r"\broutes?\b", re.I), ["route"]),
    (re.compile(r"\b(?:endpoints?|receivers?|senders?|peers?)\b", re.I), ["client", "server"]),
]
# The section that defines the key words may quote them in upper case.
KEYWORD_DEFINITION_SECTION = "1.1"


@dataclass
class Requirement:
    id: str
    level: str
    roles: list[str]
    text: str
    line: int


class SpecError(Exception):
    pass


def collapse(text: str) -> str:
    return " ".join(text.split())


def infer_roles(req_id: str, text: str) -> list[str]:
    match = KEYWORD_RE.search(text)
    assert match is not None
    before = text[: match.start()]
    # The clause holding the key word starts after the last sentence end before it.
    starts = [m.end() for m in re.finditer(r"[.!?]\s+(?=[A-Z])", before)]
    clause = before[starts[-1] if starts else 0 :]
    if SUBORDINATE_RE.match(clause) and "," in clause:
        clause = clause[clause.index(",") + 1 :]
    found: list[tuple[int, list[str]]] = []
    for pattern, roles in ROLE_WORDS:
        m = pattern.search(clause)
        if m:
            found.append((m.start(), roles))
    if not found:
        raise SpecError(
            f"{req_id}: cannot tell whom this binds; add <!-- roles: ... --> or a ROLE_OVERRIDES entry"
        )
    return min(found)[1]


def parse_roles(req_id: str, spec: str) -> list[str]:
    roles = [r.strip() for r in spec.split(",") if r.strip()]
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise SpecError(f"{req_id}: unknown roles {unknown or spec!r}; use {', '.join(ROLES)}")
    return [r for r in ROLES if r in roles]


def parse_spec(markdown: str) -> list[Requirement]:
    """Reads the requirements of protocol.md and checks the rules of the module doc."""
    errors: list[str] = []
    requirements: list[Requirement] = []
    lines = markdown.splitlines()
    section: str | None = None
    expected_n: dict[str, int] = {}
    refs: list[tuple[int, str]] = []
    in_fence = False
    in_comment = False
    i = 0
    while i < len(lines):
        line = lines[i]
        lineno = i + 1
        stripped = line.strip()
        if stripped.startswith("```") or stripped.startswith("~~~"):
            in_fence = not in_fence
            i += 1
            continue
        heading = None if in_fence else HEADING_RE.match(line)
        if heading:
            level = len(heading.group(1))
            number = SECTION_NUMBER_RE.match(heading.group(2) + " ")
            if level >= 2:
                section = number.group(1) if number else None
            i += 1
            continue
        start = None if in_fence else REQ_START_RE.match(line)
        if start:
            req_id, req_section, n = start.group(1), start.group(2), int(start.group(3))
            body = [start.group(4)]
            i += 1
            while i < len(lines):
                nxt = lines[i]
                if not nxt.strip() or HEADING_RE.match(nxt) or REQ_START_RE.match(nxt):
                    break
                if nxt.startswith("- "):
                    break
                if LIST_OR_BLOCK_RE.match(nxt.strip()):
                    errors.append(f"line {i + 1}: {req_id} contains a nested list or code block")
                body.append(nxt)
                i += 1
            raw = "\n".join(body)
            roles_comment = ROLES_COMMENT_RE.search(raw)
            text = collapse(COMMENT_RE.sub(" ", raw))
            refs.extend((lineno, ref) for ref in ID_REF_RE.findall(text))
            try:
                if section is None:
                    raise SpecError(f"{req_id} stands under no numbered section")
                if req_section != section:
                    raise SpecError(f"{req_id} stands in section {section}: expected CIM-{section}-<n>")
                want = expected_n.get(section, 1)
                expected_n[section] = n + 1
                if n != want:
                    raise SpecError(f"{req_id}: expected CIM-{section}-{want} (numbering runs 1, 2, 3...)")
                keywords = [m.group(1) for m in KEYWORD_RE.finditer(text)]
                if len(keywords) != 1:
                    raise SpecError(f"{req_id} must hold exactly one key word, has {keywords or 'none'}")
                if keywords[0] not in LEVELS:
                    raise SpecError(f"{req_id} uses {keywords[0]}; use one of {', '.join(LEVELS)}")
                if req_id in ROLE_OVERRIDES:
                    roles = parse_roles(req_id, ",".join(ROLE_OVERRIDES[req_id]))
                elif roles_comment:
                    roles = parse_roles(req_id, roles_comment.group(1))
                else:
                    roles = infer_roles(req_id, text)
                requirements.append(Requirement(req_id, keywords[0], roles, text, lineno))
            except SpecError as e:
                errors.append(f"line {lineno}: {e}")
            continue
        # Prose: no upper-case key words (outside the section defining them), no dangling refs.
        if not in_fence:
            visible = line
            if in_comment:
                if "-->" in visible:
                    visible = visible.split("-->", 1)[1]
                    in_comment = False
                else:
                    visible = ""
            visible = COMMENT_RE.sub(" ", visible)
            if "<!--" in visible:
                visible = visible.split("<!--", 1)[0]
                in_comment = True
            visible = CODE_SPAN_RE.sub(" ", visible)
            if section != KEYWORD_DEFINITION_SECTION:
                for m in KEYWORD_RE.finditer(visible):
                    errors.append(
                        f"line {lineno}: upper-case {m.group(1)} outside a requirement; "
                        "write it in lower case or make the sentence a requirement"
                    )
            if line.lstrip().startswith("[CIM-") or line.lstrip().startswith("- [CIM-"):
                errors.append(f"line {lineno}: malformed requirement id")
            refs.extend((lineno, ref) for ref in ID_REF_RE.findall(visible))
        i += 1
    seen: set[str] = set()
    for req in requirements:
        if req.id in seen:
            errors.append(f"line {req.line}: duplicate id {req.id}")
        seen.add(req.id)
    for lineno, ref in refs:
        if ref not in seen:
            errors.append(f"line {lineno}: reference to unknown requirement {ref}")
    if errors:
        raise SpecError("\n".join(errors))
    return requirements


def check_registry(markdown: str) -> list[str]:
    """Compares the registry table of section 11.2 with core/src/error_code.rs."""
    source = ERROR_CODES.read_text(encoding="utf-8")
    block = re.search(r"registry!\s*\{(.*?)\n\}", source, re.S)
    if not block:
        return [f"{ERROR_CODES.relative_to(ROOT)}: no registry! {{ ... }} block found"]
    expected: list[tuple[int, str, str, str]] = []
    docs: list[str] = []
    for raw in block.group(1).splitlines():
        line = raw.strip()
        if line.startswith("///"):
            docs.append(line[3:])
            continue
        entry = re.match(r"^([A-Z_][A-Z0-9_]*)\s*=\s*([0-9]+)\s*,\s*(No|After|Relogin)\s*;$", line)
        if entry:
            expected.append((int(entry.group(2)), entry.group(1), "".join(docs).strip(), entry.group(3)))
            docs = []
        elif line:
            docs = []
    table = re.search(r"<!-- registry:start -->(.*?)<!-- registry:end -->", markdown, re.S)
    if not table:
        return ["protocol.md: registry markers <!-- registry:start/end --> not found"]
    actual: list[tuple[int, str, str, str]] = []
    for row in table.group(1).strip().splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].isdigit():
            continue
        actual.append((int(cells[0]), cells[1], cells[2], cells[3]))
    errors = []
    for want, got in zip(expected, actual):
        if want != got:
            errors.append(f"registry row differs:\n  error_code.rs: {want}\n  protocol.md:   {got}")
    if len(expected) != len(actual):
        errors.append(f"registry has {len(expected)} codes in error_code.rs, {len(actual)} in protocol.md")
    return errors


def toml_string(value: str) -> str:
    out = []
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\t" or (ord(ch) >= 0x20 and ord(ch) != 0x7F):
            out.append(ch)
        else:
            out.append(f"\\u{ord(ch):04X}")
    return '"' + "".join(out) + '"'


def render_toml(requirements: list[Requirement]) -> str:
    parts = [
        "# The requirements of spec/v1/protocol.md, one entry per requirement, in document order.\n"
        "# Generated by scripts/gen_requirements.py: edit protocol.md and run it, never this file.\n"
    ]
    for req in requirements:
        roles = ", ".join(toml_string(r) for r in req.roles)
        parts.append(
            "\n[[requirement]]\n"
            f"id = {toml_string(req.id)}\n"
            f"level = {toml_string(req.level)}\n"
            f"roles = [{roles}]\n"
            f"text = {toml_string(req.text)}\n"
        )
    return "".join(parts)


def check_toml(requirements: list[Requirement], rendered: str) -> list[str]:
    name = TOML.relative_to(ROOT)
    if not TOML.exists():
        return [f"{name} is missing; run scripts/gen_requirements.py"]
    current = TOML.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(current)
    except tomllib.TOMLDecodeError as e:
        return [f"{name} does not parse: {e}"]
    errors = []
    entries = data.get("requirement", [])
    ids = [e.get("id") for e in entries]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        errors.append(f"{name}: {dup} appears {ids.count(dup)} times")
    by_id = {e.get("id"): e for e in entries}
    spec_ids = [r.id for r in requirements]
    for missing in [i for i in spec_ids if i not in by_id]:
        errors.append(f"{name}: {missing} of protocol.md is missing")
    for extra in [i for i in ids if i not in set(spec_ids)]:
        errors.append(f"{name}: {extra} is not in protocol.md")
    for req in requirements:
        entry = by_id.get(req.id)
        if entry is None:
            continue
        if entry.get("level") != req.level:
            errors.append(f"{name}: {req.id} has level {entry.get('level')!r}, protocol.md says {req.level!r}")
        if entry.get("text") != req.text:
            errors.append(f"{name}: {req.id} text differs from protocol.md")
        if entry.get("roles") != req.roles:
            errors.append(f"{name}: {req.id} has roles {entry.get('roles')}, expected {req.roles}")
    if not errors and ids != spec_ids:
        errors.append(f"{name}: requirements are not in document order")
    if not errors and current != rendered:
        errors.append(f"{name}: formatting differs from the generated file")
    if errors:
        errors.append("run: python3 scripts/gen_requirements.py")
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if requirements.toml is out of date")
    args = parser.parse_args()
    markdown = SPEC.read_text(encoding="utf-8")
    try:
        requirements = parse_spec(markdown)
    except SpecError as e:
        print(f"{SPEC.relative_to(ROOT)}:\n{e}", file=sys.stderr)
        return 1
    errors = check_registry(markdown)
    rendered = render_toml(requirements)
    if args.check:
        errors += check_toml(requirements, rendered)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    counts = {level: sum(r.level == level for r in requirements) for level in LEVELS}
    summary = ", ".join(f"{n} {level}" for level, n in counts.items())
    if args.check:
        print(f"{TOML.relative_to(ROOT)} is up to date: {len(requirements)} requirements ({summary})")
    else:
        TOML.write_text(rendered, encoding="utf-8")
        print(f"wrote {TOML.relative_to(ROOT)}: {len(requirements)} requirements ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
