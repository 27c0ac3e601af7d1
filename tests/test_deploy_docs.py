"""The deployment guide stays true to the code (issue 13): every `boxoffice ...` command
line in docs/deploy.md, deploy/* and the Dockerfile parses with the real command's
argparse; every BOXOFFICE_* variable they name is a setting; the monitoring SQL runs on
both databases; the paths the proxy configurations single out are real routes."""

from __future__ import annotations

import argparse
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from boxoffice import cli
from boxoffice.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "deploy.md"
DEPLOY = sorted(p for p in (ROOT / "deploy").iterdir() if p.is_file())
DOCKERFILE = ROOT / "Dockerfile"
FILES = [DOC, *DEPLOY, DOCKERFILE, ROOT / ".dockerignore"]

SUBCOMMANDS = ("serve", "migrate", "keys", "worker", "webhooks", "orders")
# `boxoffice` as a word (not boxoffice-serve, /opt/boxoffice/venv) followed by a subcommand
COMMAND = re.compile(r"(?<![\w.@-])boxoffice[ \t]+((?:%s)(?![\w-])[^`]*)" % "|".join(SUBCOMMANDS))
# where a command line ends: a quote, backtick, parenthesis or comment of the text around it
END = re.compile(r"[`'\"()#]")
SHELL_OPERATORS = {"|", "||", "&&", ";", "&", ">", ">>", "<", "2>", "2>&1"}


def fenced_blocks(markdown: str) -> list[tuple[str, str]]:
    """(language, body) of each ``` block."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```", markdown, re.M | re.S)]


def argvs_of(line: str) -> list[list[str]]:
    """The arguments after each `boxoffice` command on one (joined) line."""
    out = []
    for m in COMMAND.finditer(line):
        argv: list[str] = []
        for word in shlex.split(END.split(m.group(1), maxsplit=1)[0]):
            if word in SHELL_OPERATORS:
                break
            argv.append(word)
        out.append(argv)
    return out


def argv_of(line: str) -> list[str] | None:
    """The first command's arguments, or None if the line names no command."""
    found = argvs_of(line)
    return found[0] if found else None


def command_lines() -> list[tuple[str, list[str]]]:
    """(where, argv) for every boxoffice command line in the guide and the deploy files:
    in the guide, every line of its code blocks and every inline `boxoffice ...` span;
    in the other files, every line; in the Dockerfile, also its CMD (JSON form)."""
    found: list[tuple[str, list[str]]] = []

    def lines_of(where: str, body: str) -> None:
        for n, line in enumerate(body.replace("\\\n", " ").splitlines(), 1):
            for argv in argvs_of(line):
                found.append((f"{where}:{n}: {line.strip()}", argv))

    doc = DOC.read_text()
    for i, (_, body) in enumerate(fenced_blocks(doc)):
        lines_of(f"{DOC.name} block {i + 1}", body)
    prose = re.sub(r"^```.*?^```", "", doc, flags=re.M | re.S)
    for span in re.findall(r"`([^`]+)`", prose.replace("\n", " ")):
        argv = argv_of(span) if span.startswith("boxoffice ") else None
        if argv is not None:
            found.append((f"{DOC.name}: `{span}`", argv))
    for path in [*DEPLOY, DOCKERFILE]:
        lines_of(path.name, path.read_text())
    for cmd in re.findall(r"^CMD\s+(\[.*\])\s*$", DOCKERFILE.read_text(), re.M):
        words = json.loads(cmd)
        assert words[0] == "boxoffice", cmd
        found.append((f"Dockerfile CMD {cmd}", words[1:]))
    return found


def parse(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> argparse.Namespace:
    """Parse ``argv`` with the parser `boxoffice` builds (cli.main), running nothing:
    the chosen command's function is swapped for one that records the arguments."""
    seen: list[argparse.Namespace] = []
    original = argparse.ArgumentParser.parse_args

    def parse_args(self: argparse.ArgumentParser, args: Any = None, namespace: Any = None) -> argparse.Namespace:
        ns = original(self, args, namespace)
        seen.append(ns)
        ns.func = lambda _: 0
        return ns

    with monkeypatch.context() as m:
        m.setattr(argparse.ArgumentParser, "parse_args", parse_args)
        assert cli.main(argv) == 0
    assert len(seen) == 1
    return seen[0]


def test_the_guide_and_deploy_files_name_the_commands_an_operator_needs():
    found = command_lines()
    commands = {" ".join(argv) for _, argv in found}
    for needed in ("migrate", "worker", "keys webhook", "webhooks deliveries --status dead"):
        assert needed in commands, f"docs/deploy.md shows no `boxoffice {needed}`"
    assert any(where.startswith("Dockerfile CMD") for where, _ in found)
    assert any(c.startswith("serve ") and "--workers" in c and "--forwarded-allow-ips" in c for c in commands)
    assert any(c.startswith("orders resend-confirmation ") for c in commands)


@pytest.mark.parametrize("where,argv", command_lines(), ids=lambda v: v if isinstance(v, str) else None)
def test_every_command_line_parses_with_the_real_cli(where: str, argv: list[str], monkeypatch, capsys):
    try:
        parse(argv, monkeypatch)
    except SystemExit:  # argparse refuses with exit code 2 and a message
        pytest.fail(f"{where}\n  `boxoffice {' '.join(argv)}` does not parse: {capsys.readouterr().err.strip()}")


def test_the_checker_refuses_what_the_cli_refuses(monkeypatch, capsys):
    """The parse above can fail: a flag a subcommand lacks, a bad choice, a missing argument."""
    for bad in ("serve --bogus", "worker --status dead", "webhooks deliveries --status gone", "keys revoke", "deploy"):
        with pytest.raises(SystemExit):
            parse(shlex.split(bad), monkeypatch)
    capsys.readouterr()
    ns = parse(["serve", "--host", "0.0.0.0", "--workers", "4", "--forwarded-allow-ips", "10.0.0.0/24"], monkeypatch)
    assert (ns.cmd, ns.host, ns.workers, ns.forwarded_allow_ips) == ("serve", "0.0.0.0", 4, "10.0.0.0/24")
    assert argv_of("sudo -u boxoffice /opt/boxoffice/venv/bin/boxoffice keys webhook") == ["keys", "webhook"]
    assert argv_of("docker run --rm --env-file f boxoffice boxoffice migrate") == ["migrate"]
    assert argv_of("systemctl restart boxoffice-serve 'boxoffice-worker@*'") is None
    assert argv_of("exec /opt/boxoffice/venv/bin/boxoffice migrate' && echo") == ["migrate"]
    assert argvs_of("# for `boxoffice serve --workers 2`, `boxoffice worker` and (boxoffice migrate)") == [
        ["serve", "--workers", "2"], ["worker"], ["migrate"]]


def test_every_boxoffice_variable_named_is_a_setting():
    settings = set(Settings.model_fields)
    named: dict[str, set[str]] = {}
    for path in FILES:
        for var in re.findall(r"\bBOXOFFICE_[A-Z0-9_]+", path.read_text()):
            named.setdefault(var, set()).add(path.name)
    assert "BOXOFFICE_DATABASE_URL" in named and "BOXOFFICE_BACKGROUND" in named
    unknown = {v: sorted(w) for v, w in named.items() if v.removeprefix("BOXOFFICE_").lower() not in settings}
    assert not unknown, f"not in src/boxoffice/config.py Settings: {unknown}"


def test_the_environment_file_sets_only_settings():
    for line in (ROOT / "deploy" / "boxoffice.env").read_text().splitlines():
        m = re.match(r"#?([A-Z][A-Z0-9_]*)=", line)
        if m:
            assert m.group(1).startswith("BOXOFFICE_"), line
            assert m.group(1).removeprefix("BOXOFFICE_").lower() in Settings.model_fields, line


def sql_statements() -> list[str]:
    out = []
    for lang, body in fenced_blocks(DOC.read_text()):
        if lang == "sql":
            code = "\n".join(ln for ln in body.splitlines() if not ln.lstrip().startswith("--"))
            out += [s.strip() for s in code.split(";") if s.strip()]
    return out


def test_the_monitoring_sql_runs(database):
    """Each query of the guide's ```sql blocks, on SQLite and PostgreSQL (migrated)."""
    statements = sql_statements()
    tables = " ".join(statements)
    for needed in ("payment_refunds", "mail_messages", "webhook_deliveries", "'FAILED'", "'DEAD'"):
        assert needed in tables
    with database.engine.connect() as conn:
        for stmt in statements:
            assert stmt.upper().startswith("SELECT"), stmt  # read-only
            conn.execute(text(stmt)).all()


def test_the_paths_the_guide_names_are_routes():
    from boxoffice.app import _routes

    paths = [getattr(r, "path", "") for r in _routes(False, True)]
    named = set()
    for path in FILES:
        named |= {p.rstrip("*.") for p in re.findall(r"/boxoffice/v1/[\w/.*-]*", path.read_text())}
    assert "/boxoffice/v1/live/" in named and "/boxoffice/v1/payments/stripe/webhook" in named
    for p in named:
        assert any(r == p or (p.endswith("/") and r.startswith(p)) for r in paths), f"no route {p}"


def test_the_live_stream_is_unbuffered_in_both_proxies():
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    block = re.search(r"location /boxoffice/v1/live/ \{(.*?)\}", nginx, re.S)
    assert block and "proxy_buffering off;" in block.group(1)
    for header in ("Host $host", "X-Forwarded-Proto $scheme", "X-Forwarded-For"):
        assert f"proxy_set_header {header}" in nginx
    caddy = (ROOT / "deploy" / "Caddyfile").read_text()
    block = re.search(r"handle /boxoffice/v1/live/\* \{(.*?)\n\t\}", caddy, re.S)
    assert block and "flush_interval -1" in block.group(1)


def test_the_image_is_built_from_the_project_without_test_extras():
    lines = [ln for ln in DOCKERFILE.read_text().splitlines() if not ln.lstrip().startswith("#")]
    docker = "\n".join(lines)
    assert re.search(r"^FROM python:3\.11-slim\b", docker, re.M)
    assert "pip install ." in docker and "[test]" not in docker
    user = re.findall(r"^USER\s+(\S+)", docker, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*/healthz", docker, re.M | re.S)
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignored  # everything out (.venv, .git, node_modules, databases), then the sources back in
    for needed in ("!pyproject.toml", "!src", "!migrations"):
        assert needed in ignored


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
