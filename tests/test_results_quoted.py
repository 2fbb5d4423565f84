"""Numbers quoted from benchmark results are values of the results file they name.

The rule (also in ``benchmarks/README.md``, "Quoting results"):

* **Documents**: ``README.md``, ``benchmarks/README.md``, ``docs/**/*.rst``, and the docstrings
  and ``#:`` comment blocks of ``sklearn_msfl/**/*.py``, ``benchmarks/*.py`` and
  ``examples/*.py``.
* **Units**: a paragraph (lines between blank lines), a list item (a line starting with
  ``-``, ``*``, ``1.`` or ``#.`` and the lines up to the next item) or a markdown table; in
  reStructuredText and docstrings also a numpydoc entry (``name : type`` and its
  description); a ``#:`` comment block. Code is left out: fenced and literal blocks,
  doctest paragraphs (``>>>``) and inline code (```x``` and ````x````).
* A unit **names** a results file when its text (code included, e.g. a markdown link
  target) holds a path containing ``results/`` and ending in ``.md`` or ``.csv``, resolved
  against the document's folder, then the repository root. A named file that does not exist
  is an error.
* **Quoted numbers**: in a unit that names at least one results file, every decimal number
  outside code: digits, a point, digits (``60.1``, ``0.97``), with an optional sign
  (``+4.5``, ``-1.3``; a sign right after a letter or digit is a range dash: ``0.6-1.5``
  quotes ``0.6`` and ``1.5``) and an optional ``%``; not when it is part of a longer token
  (the ``2.13`` of ``2.13.0``, or one glued to a letter before it). Integers are not quoted
  (counts, seeds, minutes, fold numbers). A markdown table that names no file is checked
  against the files named by the unit right before it (its caption).
* **Values** of a results file: the numbers in the cells of its markdown tables (a cell
  ``74.1 ± 5.0`` gives 74.1 and 5.0, ``**56.2**`` gives 56.2), and the fields of a CSV file
  that are a number as a whole, exactly as written (a CSV field ``0.601`` is not ``60.1``).
  Numbers in the file's prose, notes or headings are not values.
* **Match**: a quoted number must equal, digit for digit, a value of one of the files its
  unit names (``63.0`` is not ``63``, ``60.10`` is not ``60.1``); a ``%`` is ignored; a
  ``+`` or no sign matches a positive value, ``-`` a negative one, and a number quoted
  without a sign also matches a negative value of the same digits (text may say "behind by
  1.3" for a cell ``-1.3``).

And in the Results section of ``README.md``, every unit that holds a decimal number outside
code names a results file.
"""

from __future__ import annotations

import ast
import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

NUMBER = re.compile(r"(?<![\w.])([+\-−]?)(\d+\.\d+)(?!\.?\d)(\s?%)?")
RESULTS_PATH = re.compile(r"[\w./-]*results/[\w./-]*?\w\.(?:md|csv)\b")
INLINE_CODE = re.compile(r"``.+?``|`[^`]+`")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
URL = re.compile(r"https?://\S+")
ITEM = re.compile(r"\s*(?:[-*]|\d+\.|#\.)\s")
PARAMETER = re.compile(r"\s*\*{0,2}\w+(?:, \w+)* : ")  # a numpydoc entry: "name : type"
LITERAL_START = re.compile(r"::\s*$|^\s*\.\. (?:code-block|code|doctest)::")


@dataclass(frozen=True)
class Unit:
    path: Path
    line: int  # first line of the unit in its file, 1-based
    text: str


@dataclass(frozen=True)
class Number:
    sign: str  # "-" or "+" ("+" also when no sign was written)
    digits: str
    signed: bool  # a sign was written

    def matches(self, value: Number) -> bool:
        if self.digits != value.digits:
            return False
        return self.sign == value.sign or not self.signed


def numbers(text: str) -> list[Number]:
    """Decimal numbers of ``text`` (see the module docstring), code not removed."""
    found = []
    for sign, digits, _ in NUMBER.findall(text):
        found.append(Number("-" if sign in ("-", "−") else "+", digits, bool(sign)))
    return found


# --------------------------------------------------------------------------------------------
# Units of the documents
# --------------------------------------------------------------------------------------------
def split_blocks(lines: list[str], first_line: int,
                 markdown: bool) -> list[tuple[int, list[str]]]:
    """Paragraphs, list items, numpydoc entries and tables, with their first line numbers."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = first_line
    for number, line in enumerate(lines, first_line):
        table_edge = current and (line.lstrip().startswith("|")
                                  != current[-1].lstrip().startswith("|"))
        entry = not markdown and PARAMETER.match(line)
        if not line.strip() or ITEM.match(line) or table_edge or entry:
            if current:
                blocks.append((start, current))
            current = [line] if line.strip() else []
            start = number if line.strip() else number + 1
        else:
            current.append(line)
    if current:
        blocks.append((start, current))
    return blocks


def indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def prose_blocks(lines: list[str], first_line: int, markdown: bool):
    """The blocks of ``lines`` that are not code: fenced, literal or doctest blocks."""
    if markdown:  # fenced blocks become blank lines
        fenced, kept = False, []
        for line in lines:
            if line.lstrip().startswith("```"):
                fenced = not fenced
                kept.append("")
            else:
                kept.append("" if fenced else line)
        lines = kept
    literal_indent = None
    for start, block in split_blocks(lines, first_line, markdown):
        if literal_indent is not None and indent(block[0]) > literal_indent:
            continue
        literal_indent = None
        if not markdown and any(LITERAL_START.search(line) for line in block):
            literal_indent = indent(block[0])
        if block[0].lstrip().startswith(">>>"):
            continue
        if not markdown and re.match(r"\s*\.\. (?:code-block|code|doctest)::", block[0]):
            continue
        yield start, block


def text_units(path: Path) -> list[Unit]:
    lines = path.read_text(encoding="utf-8").splitlines()
    markdown = path.suffix == ".md"
    return [Unit(path, start, "\n".join(block))
            for start, block in prose_blocks(lines, 1, markdown)]


def python_units(path: Path) -> list[Unit]:
    """Paragraphs of the docstrings and ``#:`` comment blocks of a Python file."""
    source = path.read_text(encoding="utf-8")
    units = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                 ast.AsyncFunctionDef)):
            continue
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            doc = body[0].value.value
            units += [Unit(path, body[0].lineno + start, "\n".join(block))
                      for start, block in prose_blocks(doc.splitlines(), 0, markdown=False)]
    comment: list[str] = []
    for number, line in enumerate(source.splitlines() + [""], 1):
        if line.lstrip().startswith("#:"):
            comment.append(line.lstrip()[2:])
        elif comment:
            units.append(Unit(path, number - len(comment), "\n".join(comment)))
            comment = []
    return units


def documents() -> list[Path]:
    found = [REPO_ROOT / "README.md", REPO_ROOT / "benchmarks" / "README.md"]
    found += sorted((REPO_ROOT / "docs").rglob("*.rst"))
    for folder, pattern in (("sklearn_msfl", "**/*.py"), ("benchmarks", "*.py"),
                            ("examples", "*.py")):
        found += sorted((REPO_ROOT / folder).glob(pattern))
    return [path for path in found if "_build" not in path.parts]


def units_of(path: Path) -> list[Unit]:
    return python_units(path) if path.suffix == ".py" else text_units(path)


def named_files(unit: Unit) -> list[Path]:
    """The results files a unit names, resolved (existing or not)."""
    named = []
    for match in dict.fromkeys(RESULTS_PATH.findall(unit.text)):
        candidates = [unit.path.parent / match, REPO_ROOT / match]
        named.append(next((c for c in candidates if c.is_file()), candidates[-1]).resolve())
    return named


def prose(text: str) -> str:
    """``text`` without inline code, link targets and URLs: where quoted numbers are found."""
    for pattern in (INLINE_CODE, LINK_TARGET, URL):
        text = pattern.sub(" ", text)
    return text


# --------------------------------------------------------------------------------------------
# Values of the results files
# --------------------------------------------------------------------------------------------
def table_cells(text: str) -> list[str]:
    cells, fenced = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            fenced = not fenced
        if fenced or not stripped.startswith("|"):
            continue
        row = [cell.strip() for cell in stripped.strip("|").split("|")]
        if all(re.fullmatch(r":?-+:?", cell) for cell in row if cell):
            continue  # the separator line
        cells += row
    return cells


def file_values(path: Path) -> list[Number]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".csv":
        fields = [field.strip() for row in csv.reader(text.splitlines()) for field in row]
        return [number for field in fields
                if re.fullmatch(r"[+\-−]?\d+\.\d+\s?%?", field) for number in numbers(field)]
    return [number for cell in table_cells(text) for number in numbers(cell)]


def is_table(unit: Unit) -> bool:
    return unit.text.lstrip().startswith("|")


def check_unit(unit: Unit, values: dict[Path, list[Number]], named: list[Path]) -> list[str]:
    """Problems of one unit checked against ``named``: missing files, quoted numbers that are
    no value of them."""
    problems = [f"{unit.path.relative_to(REPO_ROOT)}:{unit.line}: names "
                f"{path.relative_to(REPO_ROOT)}, which does not exist"
                for path in named if not path.is_file()]
    existing = [path for path in named if path.is_file()]
    if not existing:
        return problems
    for path in existing:
        if path not in values:
            values[path] = file_values(path)
    for quoted, match in zip(numbers(prose(unit.text)), NUMBER.finditer(prose(unit.text))):
        if not any(quoted.matches(value) for path in existing for value in values[path]):
            names = ", ".join(str(path.relative_to(REPO_ROOT)) for path in existing)
            problems.append(f"{unit.path.relative_to(REPO_ROOT)}:{unit.line}: "
                            f"{match.group(0).strip()!r} is no table cell or CSV field of "
                            f"{names}")
    return problems


def with_files(units):
    """Each unit with the results files its numbers are checked against: those it names, or
    for a table that names none, those its caption (the unit right before it) names: a table
    copied from a results file under that sentence."""
    caption: list[Path] = []
    for unit in units:
        named = named_files(unit)
        yield unit, named or (caption if is_table(unit) else [])
        caption = named


def problems_of(paths) -> list[str]:
    values: dict[Path, list[Number]] = {}
    problems = []
    for path in paths:
        for unit, files in with_files(units_of(path)):
            problems += check_unit(unit, values, files)
    return problems


# --------------------------------------------------------------------------------------------
# The repository's documents
# --------------------------------------------------------------------------------------------
def test_quoted_numbers_are_values_of_the_results_files_they_name():
    problems = problems_of(documents())
    assert not problems, "stale or unfounded numbers:\n" + "\n".join(problems)


def test_readme_results_figures_name_their_results_file():
    readme = REPO_ROOT / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines()
    start = lines.index("## Results")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("## "))
    units = (Unit(readme, first, "\n".join(block))
             for first, block in prose_blocks(lines[start:end], start + 1, markdown=True))
    unnamed = [f"README.md:{unit.line}: {unit.text.replace(chr(10), ' ')[:100]}"
               for unit, files in with_files(units) if numbers(prose(unit.text)) and not files]
    assert not unnamed, "figures without their results file:\n" + "\n".join(unnamed)


def test_the_documents_quote_results():
    """The check has something to check: the README quotes many results."""
    readme = REPO_ROOT / "README.md"
    quoted = [number for unit in units_of(readme) if named_files(unit)
              for number in numbers(prose(unit.text))]
    assert len(quoted) > 20


# --------------------------------------------------------------------------------------------
# The rule itself, on made-up files
# --------------------------------------------------------------------------------------------
RESULTS_TABLE = """# Results

The SVM scored 99.9 in a note, which is no table cell.

| model | UAR | difference |
|---|---|---|
| SVM | **63.0** | – |
| MSFL | 60.1 ± 5.0 | -2.9 (p 0.97) |
| share | 1.6% | +4.5 |

```
| code | 77.7 |
```
"""


@pytest.fixture
def results_repo(tmp_path, monkeypatch):
    tmp_path = tmp_path.resolve()
    monkeypatch.setitem(globals(), "REPO_ROOT", tmp_path)  # paths are reported relative to it
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "x.md").write_text(RESULTS_TABLE)
    (tmp_path / "benchmarks" / "results" / "x.csv").write_text("model,uar\nSVM,0.601\n")
    return tmp_path


def problems_in(repo: Path, text: str, name: str = "README.md") -> list[str]:
    document = repo / name
    document.write_text(text)
    return problems_of([document])


@pytest.mark.parametrize("text", [
    "SVM 63.0, MSFL 60.1 ± 5.0 ([x](benchmarks/results/x.md)).",
    "MSFL trails by 2.9 (p 0.97), `benchmarks/results/x.md`.",  # unsigned: magnitude
    "MSFL -2.9 and +4.5 points, 1.6%, 1.6 % ([x](benchmarks/results/x.md))",
    "The SVM scored 0.601 (`benchmarks/results/x.csv`).",
    "Range 60.1-63.0 ([x](benchmarks/results/x.md)).",
    "Integers are not quoted: 62 min, 3 seeds, 99 ([x](benchmarks/results/x.md)).",
    "Code is not quoted: `lr=0.025`, torch 2.13.0 ([x](benchmarks/results/x.md)).",
    "No results file named here: 12.3.",
])
def test_rule_accepts(results_repo, text):
    assert problems_in(results_repo, text) == []


@pytest.mark.parametrize("text, number", [
    ("SVM 63 is fine, 63.00 is not ([x](benchmarks/results/x.md)).", "63.00"),
    ("Stale: MSFL 58.8 ([x](benchmarks/results/x.md)).", "58.8"),
    ("Only in the file's prose: 99.9 ([x](benchmarks/results/x.md)).", "99.9"),
    ("Only in the file's code block: 77.7 ([x](benchmarks/results/x.md)).", "77.7"),
    ("A sign flipped: +2.9 ([x](benchmarks/results/x.md)).", "+2.9"),
    ("A sign flipped: -4.5 ([x](benchmarks/results/x.md)).", "-4.5"),
    ("Rescaled: 60.1 is 0.601 in `benchmarks/results/x.csv`.", "60.1"),
    ("Another file's cell: 60.1 (`benchmarks/results/x.csv`).", "60.1"),
])
def test_rule_rejects(results_repo, text, number):
    (problem,) = problems_in(results_repo, text)
    assert repr(number) in problem


def test_rule_units_are_paragraphs_and_list_items(results_repo):
    text = ("- SVM 63.0 ([x](benchmarks/results/x.md))\n"
            "- another item, no file named: 58.8\n\n"
            "A paragraph naming the file on its second line,\n"
            "then quoting 58.8: benchmarks/results/x.md\n")
    (problem,) = problems_in(results_repo, text)
    assert problem.startswith("README.md:4:") and "'58.8'" in problem


def test_rule_checks_a_table_against_the_file_its_caption_names(results_repo):
    text = ("The table of [x](benchmarks/results/x.md):\n\n"
            "| model | UAR |\n|---|---|\n| SVM | 63.0 |\n| MSFL | 58.8 |\n\n"
            "A paragraph without a file.\n\n| model | UAR |\n|---|---|\n| MSFL | 58.8 |\n")
    (problem,) = problems_in(results_repo, text)
    assert problem.startswith("README.md:3:") and "'58.8'" in problem


def test_rule_reports_a_missing_results_file(results_repo):
    (problem,) = problems_in(results_repo, "SVM 63.0 (benchmarks/results/gone.md)")
    assert "gone.md, which does not exist" in problem


def test_rule_reads_docstrings_and_comment_blocks(results_repo):
    source = ('"""Module.\n\nSVM 58.8 (``benchmarks/results/x.md``).\n\n'
              'Example::\n\n    58.8 in a literal block, benchmarks/results/x.md\n"""\n\n'
              "#: MSFL 60.1 and 57.1 (benchmarks/results/x.md)\n#: continued\nX = 1\n\n"
              "def f():\n"
              '    """One line.\n\n    >>> 58.8  # benchmarks/results/x.md\n    58.8\n    """\n')
    problems = problems_in(results_repo, source, "module.py")
    assert [problem.split(": ", 1)[1][:6] for problem in problems] == ["'58.8'", "'57.1'"]
    assert problems[0].startswith("module.py:3:") and problems[1].startswith("module.py:10:")
