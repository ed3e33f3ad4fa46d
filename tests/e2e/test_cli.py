"""The command line as a user runs it: a real process, real exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def hookwire(
    *args: str, database_url: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hookwire", *args]
    if database_url is not None:
        command += ["--database-url", database_url]
    # A wide terminal, so that rich does not wrap the words a test looks for.
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1"}
    return subprocess.run(
        command, capture_output=True, text=True, input=stdin, timeout=60, check=False, env=env
    )


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("endpoint", "add", "ftp://example.com/"), 2, "only http and https"),
        (("endpoint", "add", "https://user:pw@example.com/"), 2, "credentials"),
        (("endpoint", "add", "https://example.com/", "-e", "bad type"), 2, "invalid event type"),
        (("send", "a.b", "--data", "{nope"), 2, "not valid JSON"),
        (("send", "a.b", "--data", "@/does/not/exist.json"), 2, "cannot read"),
        (("endpoint", "remove", "ep_missing"), 3, "not found"),
        (("attempts", "msg_missing"), 3, "not found"),
        (("messages", "--app", "app_missing"), 3, "not found"),
    ],
)
def test_errors_are_one_line_with_meaningful_exit_codes(
    tmp_path: Path, args: tuple[str, ...], code: int, words: str
) -> None:
    result = hookwire(*args, database_url=f"sqlite:///{tmp_path / 'h.db'}")
    assert result.returncode == code, result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unsupported_database_url_is_an_error() -> None:
    result = hookwire("endpoint", "list", database_url="mysql://localhost/x")
    assert result.returncode == 2
    assert "unsupported database URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_endpoint_send_messages_attempts_round_trip(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    added = hookwire(
        "endpoint", "add", "https://example.com/hooks", "-e", "order.*", "--json", database_url=db
    )
    assert added.returncode == 0, added.stderr
    endpoint = json.loads(added.stdout)
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["filter_types"] == ["order.*"]

    listed = json.loads(hookwire("endpoint", "list", "--json", database_url=db).stdout)
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert "secret" not in listed[0]

    payload = tmp_path / "payload.json"
    payload.write_text('{"order": 7}')
    sent = hookwire("send", "order.created", "--data", f"@{payload}", "--json", database_url=db)
    assert sent.returncode == 0, sent.stderr
    message = json.loads(sent.stdout)
    assert message["deliveries"] == 1

    from_stdin = hookwire(
        "send", "order.paid", "--data", "@-", "--json", database_url=db, stdin='{"order": 8}'
    )
    assert json.loads(from_stdin.stdout)["deliveries"] == 1

    shown = json.loads(hookwire("messages", "--json", database_url=db).stdout)
    assert [m["payload"] for m in shown] == [{"order": 8}, {"order": 7}]
    assert shown[1]["deliveries"] == "1 pending"

    attempts = hookwire("attempts", message["id"], "--json", database_url=db)
    assert attempts.returncode == 0
    assert json.loads(attempts.stdout) == []  # no worker ran

    rotated = json.loads(
        hookwire("endpoint", "rotate-secret", endpoint["id"], "--json", database_url=db).stdout
    )
    assert rotated["secret"] != endpoint["secret"]
    assert hookwire("endpoint", "remove", endpoint["id"], database_url=db).returncode == 0
    assert json.loads(hookwire("endpoint", "list", "--json", database_url=db).stdout) == []


def test_version_and_help() -> None:
    assert hookwire("--version").stdout.startswith("hookwire ")
    help_text = hookwire("worker", "--help").stdout
    assert "HOOKWIRE_DATABASE_URL" in help_text
    assert "HOOKWIRE_ALLOW_NETWORKS" in help_text
