"""The command line: options in either place, one-line failures, exit statuses."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from mhgraph.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = str(ROOT / "data" / "sample")


def test_quiet_works_before_and_after_the_command(tmp_path):
    def ingest(*extra: str, out: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "mhgraph.cli", *[e for e in extra[:1] if e], "ingest", SAMPLE, "--out", str(tmp_path / out), *extra[1:]]
        return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)

    loud = ingest(out="loud")
    assert loud.returncode == 0 and "mhgraph.ingest" in loud.stderr  # progress by default
    before = ingest("--quiet", out="before")
    after = ingest("", "--quiet", out="after")
    for result in (before, after):
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
    assert (tmp_path / "after" / "tables" / "mentions.parquet").is_file()


def test_bad_option_value_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", SAMPLE, "--out", str(tmp_path / "x"), "--top", "-3"])
    assert stop.value.code == 2
    assert "--top: must be 1 or more" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # refused before any stage ran


def test_output_path_that_is_a_file_is_one_line_exit_2(tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    assert main(["--quiet", "run", SAMPLE, "--out", str(blocker)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mhgraph: error:") and "not-a-folder" in err[0]


def test_unexpected_failure_names_kind_and_place_but_no_data(tmp_path, capsys, monkeypatch):
    """An unexpected exception's message may quote partner data: only its type and place are
    printed, unless MHGRAPH_DEBUG asks for the traceback."""
    evaluate_module = sys.modules["mhgraph.evaluate"]

    def failing_evaluate(*args, **kwargs):
        raise RuntimeError("row 7: 'Jan de Vries' 123456782")

    monkeypatch.setattr(evaluate_module, "evaluate", failing_evaluate)
    assert main(["--quiet", "evaluate", str(tmp_path), "--truth", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("mhgraph: error: unexpected RuntimeError at ")
    assert "Jan" not in err[0] and "123456782" not in err[0]
    monkeypatch.setenv("MHGRAPH_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["--quiet", "evaluate", str(tmp_path), "--truth", str(tmp_path)])


def test_an_error_a_library_raises_after_ctrl_c_counts_as_interrupted(monkeypatch, capsys):
    import signal
    import threading

    from mhgraph import cli

    def interrupted_inside_a_library(args):
        try:
            cli._interrupt(signal.SIGINT, None)
        except KeyboardInterrupt:
            raise TypeError("what a library may raise when interrupted inside its own code") from None

    monkeypatch.setattr(cli, "_interrupted", threading.Event())
    monkeypatch.setattr(cli, "_cmd_template", interrupted_inside_a_library)
    assert main(["template", "ind_referenten"]) == 130
    assert capsys.readouterr().err.strip() == "mhgraph: interrupted"
    monkeypatch.setattr(cli, "_interrupted", threading.Event())
    monkeypatch.setattr(cli, "_cmd_template", lambda args: (_ for _ in ()).throw(TypeError("no interrupt")))
    assert main(["template", "ind_referenten"]) == 1
    assert "unexpected TypeError" in capsys.readouterr().err


@pytest.mark.parametrize("share", ["2", "-0.1", "half"])
def test_a_quarantine_share_outside_0_to_1_is_refused(share, capsys, tmp_path):
    with pytest.raises(SystemExit) as stopped:
        main(["ingest", str(tmp_path), "--out", str(tmp_path / "out"), "--max-quarantine-share", share])
    assert stopped.value.code == 2 and "--max-quarantine-share" in capsys.readouterr().err


def _options(parser: argparse.ArgumentParser, command: str = "mhgraph"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options(sub, f"{command} {name}")
        elif action.option_strings:
            yield command, action


@pytest.mark.parametrize("out", [None, "in/../forms/./referenten.csv"])
def test_template_prints_the_resolved_path_of_what_it_wrote(out, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["--quiet", "template", "ind_referenten", *(["--out", out] if out else [])]) == 0
    written = (tmp_path / (out or "ind_referenten_plaintext.csv")).resolve()
    assert written.is_file()
    assert capsys.readouterr().out == f"{written}: empty plaintext extract; fill it in and run mhgraph pseudonymise\n"


def test_every_option_with_a_default_says_it_in_its_help():
    """A new user reads ``--help`` to learn what a run does without the option."""
    silent = [f"{command} {action.option_strings[-1]} (default {action.default!r})"
              for command, action in _options(build_parser())
              if not any(action.default is unset for unset in (None, False, argparse.SUPPRESS)) and action.default != []
              and not (f"(default: {action.default})" in (action.help or "") or "(default)" in (action.help or ""))]
    assert silent == []
