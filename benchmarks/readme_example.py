"""Run the README's "Real corpora" example as written, from a cold feature cache, and time it.

Takes the Python block of the README's "Real corpora" section verbatim, runs it with a fresh
Python in a new temporary folder (so that its ``feature-cache`` starts empty) with
``MSFL_CORPORA`` pointing at the corpora, and writes ``readme_example.md``: the command, the
wall time, how many times openSMILE ran (counted in every process, the extraction and fold
workers included) against the number of files, the load before and after, the printed table
and the final state of every progress bar.

The count comes from a ``sitecustomize`` module put first on the example's ``PYTHONPATH``: in
every Python process it wraps ``sklearn_msfl.features._extraction.extract_item`` (the function that runs
openSMILE on one item) once that module is imported, appending a line to a file per call.

Usage::

    .venv/bin/python benchmarks/readme_example.py
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
README = REPO_ROOT / "README.md"
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
REPORT_NAME = "readme_example.md"
SECTION = "## Real corpora"

COUNTER = '''\
"""Counts openSMILE runs: wraps sklearn_msfl.features._extraction.extract_item in every process."""
import importlib.abc
import importlib.util
import os
import sys

_COUNT_FILE = os.environ["MSFL_EXTRACTION_COUNT_FILE"]
_MODULE = "sklearn_msfl.features._extraction"


class _CountingFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != _MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            extract_item = module.extract_item

            def counted(item, settings):
                with open(_COUNT_FILE, "a") as stream:  # one short append: atomic
                    stream.write(f"{item.path or item.index}\\n")
                return extract_item(item, settings)

            module.extract_item = counted

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _CountingFinder())
'''


def readme_example(readme: Path = README) -> str:
    """The Python block of the README's "Real corpora" section, verbatim."""
    text = readme.read_text(encoding="utf-8")
    section = text[text.index(SECTION):]
    section = section[:section.index("\n## ", len(SECTION))]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    if match is None:
        raise SystemExit(f"no python block in the README's {SECTION!r} section")
    return match.group(1)


def count_files(corpora: Path) -> int:
    """The utterances the example loads (the same call as the README's)."""
    from sklearn_msfl import load_corpora

    return len(load_corpora({name: corpora / name for name in ("emodb", "casia", "savee")}))


def final_bar_states(stderr: str) -> list[str]:
    """The last state of every progress bar, where the bar first appeared, and other lines."""
    lines: list[str] = []
    bars: dict[str, int] = {}  # bar description -> its line
    for segment in re.split(r"[\r\n]+", stderr):
        segment = segment.strip()
        if not segment:
            continue
        # A bar's state ends with "]"; a warning may follow it on the same line.
        bar = re.match(r"((.+?): +\d+%\|[^\]]*\])(.*)", segment)
        if bar is None:
            lines.append(segment)
            continue
        state, name, rest = bar.groups()
        if name in bars:
            lines[bars[name]] = state
        else:
            bars[name] = len(lines)
            lines.append(state)
        if rest.strip():
            lines.append(rest.strip())
    return lines


#: Appended to the README's block: the seconds of every model's fits (evaluate's own timing).
FIT_TIMES = ('\nprint(result.summary().xs("all", level="language")[["fit_time", "predict_time"]]'
             '.round(1).to_string())\n')


def run_example(code: str, corpora: Path, epilogue: str = "") -> dict:
    with tempfile.TemporaryDirectory() as work, tempfile.TemporaryDirectory() as hooks:
        script = Path(work) / "readme_example.py"
        script.write_text(code + epilogue)
        Path(hooks, "sitecustomize.py").write_text(COUNTER)
        count_file = Path(hooks) / "extractions.txt"
        count_file.touch()
        env = dict(os.environ, MSFL_CORPORA=str(corpora), MSFL_EXTRACTION_COUNT_FILE=str(
            count_file), PYTHONPATH=os.pathsep.join([hooks, str(REPO_ROOT)]))
        loads_before = os.getloadavg()
        start = time.perf_counter()
        process = subprocess.run([sys.executable, script.name], cwd=work, env=env,
                                 capture_output=True, text=True)
        seconds = time.perf_counter() - start
        loads_after = os.getloadavg()
        extracted = count_file.read_text().splitlines()
        cache_files = len(list(Path(work, "feature-cache").rglob("*.npy")))
    return {"seconds": seconds, "returncode": process.returncode, "stdout": process.stdout,
            "stderr": process.stderr, "extracted": extracted, "cache_files": cache_files,
            "loads_before": loads_before, "loads_after": loads_after}


def printed_table(stdout: str) -> list[str]:
    """The markdown table lines of the example's output."""
    return [line for line in stdout.splitlines() if line.lstrip().startswith("|")]


def render(args, code: str, outcome: dict, n_files: int) -> str:
    extracted = outcome["extracted"]
    loads = " / ".join(f"{value:.2f}" for value in outcome["loads_before"])
    loads_after = " / ".join(f"{value:.2f}" for value in outcome["loads_after"])
    lines = [
        "# The README's real-corpora example, cold feature cache",
        "",
        f"Run on {datetime.datetime.now().isoformat(timespec='minutes')} by "
        f"`benchmarks/readme_example.py`. Command: `{args.command}`",
        "",
        "The Python block of README.md's \"Real corpora\" section, run verbatim by a fresh "
        "`python` in a new temporary folder (an empty `feature-cache`), `MSFL_CORPORA` "
        f"= `{args.corpora}`, then a line that prints the mean seconds of every model's fit "
        f"and prediction per fold. Exit status {outcome['returncode']}.",
        "",
        f"- **Wall time: {outcome['seconds']:.0f} s ({outcome['seconds'] / 60:.1f} min)**, "
        "Python start and imports included.",
        f"- **openSMILE runs: {len(extracted)} for {n_files} files** ({len(set(extracted))} "
        f"distinct), counted in every process; {outcome['cache_files']} feature files in the "
        "cache afterwards.",
        f"- Load average (1 / 5 / 15 min) before: {loads}; after: {loads_after}.",
        f"- Machine: {cpu_model()}, {os.cpu_count()} logical cores "
        f"({len(os.sched_getaffinity(0))} available), Python {sys.version.split()[0]}.",
        "",
        "## Output",
        "",
        "The table it printed (outside a code block, so that the README's copy is checked "
        "against it):",
        "",
        *printed_table(outcome["stdout"]),
        "",
        "All of stdout:",
        "",
        "```text",
        outcome["stdout"].rstrip(),
        "```",
        "",
        "Progress bars (the final state of each, where it first appeared) and the other lines "
        "on stderr:",
        "",
        "```text",
        *final_bar_states(outcome["stderr"]),
        "```",
        "",
        "## The code run",
        "",
        "```python",
        code.rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=None,
                        help="shared corpora folder (default $MSFL_CORPORA or ../shared/corpora)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR,
                        help="folder for readme_example.md (default benchmarks/results)")
    args = parser.parse_args(argv)
    args.command = shlex.join(["python", "benchmarks/readme_example.py",
                               *(sys.argv[1:] if argv is None else argv)])
    if args.corpora is None:
        from sklearn_msfl.corpora import default_corpora_dir

        args.corpora = default_corpora_dir(fallback=REPO_ROOT.parent / "shared" / "corpora")
    if args.corpora is None:
        parser.error("corpora not found: pass --corpora or set MSFL_CORPORA")
    args.corpora = Path(args.corpora).resolve()
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    code = readme_example()
    outcome = run_example(code, args.corpora, FIT_TIMES)
    n_files = count_files(args.corpora)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / REPORT_NAME).write_text(render(args, code, outcome, n_files))
    print(f"{outcome['seconds']:.0f} s, {len(outcome['extracted'])} openSMILE runs for "
          f"{n_files} files, exit status {outcome['returncode']}; report: "
          f"{args.output / REPORT_NAME}")
    return outcome["returncode"]


if __name__ == "__main__":
    raise SystemExit(main())
