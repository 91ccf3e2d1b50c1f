"""The command service runs a user's command in a warm child on the user's own terminal, with the same output,
errors and exit status as a fresh process, and steps aside (the command runs in its own process) whenever it
could answer differently: another configuration, a stale socket, changed code."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from smarketing.core.command_service import code_stamp
from smarketing.testing.servers import BIN, wait_for_text

pytestmark = pytest.mark.slow


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SMARKETING_COMMAND_SERVICE"}}
    return {**env, "DJANGO_SETTINGS_MODULE": "smarketing.settings.base", "SMARKETING_DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite:///{data_dir / 'db.sqlite3'}", **extra}


def _smarketing(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "smarketing"), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _log_lines(log: Path, prefix: str) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.startswith(prefix)]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("service")
    env = _env(data_dir)
    done = _smarketing("migrate", env=env)
    assert done.returncode == 0, done.stderr
    log = data_dir / "service.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(BIN / "smarketing"), "service"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    wait_for_text(log, "command service ready", 120, what="the command service", proc=process)
    yield data_dir, env, log, process
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def test_a_command_runs_in_the_service_with_the_output_of_a_fresh_process(service):
    data_dir, env, log, _ = service
    # given the service listening on the data folder
    assert (data_dir / "run" / "commands.sock").exists()
    # when the user runs a command, and the same command with the service turned off
    served = _smarketing("playbook", "show", env=env)
    alone = _smarketing("playbook", "show", env={**env, "SMARKETING_COMMAND_SERVICE": "off"})
    # then both print the same, and only the first ran in the service (its log names it)
    assert served.returncode == alone.returncode == 0, served.stderr + alone.stderr
    assert served.stdout == alone.stdout
    assert "Revenue team playbook" in served.stdout
    assert len(_log_lines(log, "ran `playbook show`")) == 1


def test_errors_and_exit_status_are_the_callers(service):
    _, env, log, _ = service
    # when a command fails on bad input
    served = _smarketing("funnel", "--from", "nowhere", "--to", "customer", env=env)
    alone = _smarketing("funnel", "--from", "nowhere", "--to", "customer",
                        env={**env, "SMARKETING_COMMAND_SERVICE": "off"})
    # then the caller gets the same message on stderr and the same status
    assert served.returncode == alone.returncode != 0
    assert served.stderr == alone.stderr
    assert "nowhere" in served.stderr
    assert re.search(rf"exit {served.returncode} in [0-9.]+s$", _log_lines(log, "ran `funnel --from nowhere")[-1])


def test_the_same_data_folder_named_another_way_runs_in_the_service(service):
    # given a service started with its data folder's absolute path (as `make demo` tells other terminals to use)
    data_dir, env, log, _ = service
    before = len(_log_lines(log, "ran `playbook show`"))
    # when a terminal in the folder above names it by a relative path
    relative = {**env, "SMARKETING_DATA_DIR": data_dir.name}
    done = subprocess.run([str(BIN / "smarketing"), "playbook", "show"], env=relative, cwd=data_dir.parent,
                          capture_output=True, text=True, timeout=120, check=False)
    # then the service runs it: the same folder is the same configuration
    assert done.returncode == 0, done.stderr
    assert len(_log_lines(log, "ran `playbook show`")) == before + 1


def test_another_configuration_runs_in_its_own_process(service):
    _, env, log, _ = service
    before = len(_log_lines(log, "ran `playbook show`"))
    # when a command's settings differ from the service's (here its API rate)
    done = _smarketing("playbook", "show", env={**env, "SMARKETING_API_RATE": "10/m"})
    # then it still answers, in its own process: the service refused it
    assert done.returncode == 0, done.stderr
    assert len(_log_lines(log, "ran `playbook show`")) == before
    assert "refused a command: another-configuration" in log.read_text()


def test_help_and_commands_in_parallel(service):
    _, env, log, _ = service
    # when several commands run at once
    processes = [subprocess.Popen([str(BIN / "smarketing"), *args], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
                 for args in (["--help"], ["playbook", "show"], ["funnel", "--from", "mql", "--to", "customer", "--json"], ["--help"])]
    outputs = [p.communicate(timeout=120) for p in processes]
    # then each gets its own answer
    assert all(p.returncode == 0 for p in processes), [o[1] for o in outputs]
    assert "Usage: smarketing" in outputs[0][0] and outputs[0][0] == outputs[3][0]
    assert outputs[2][0].lstrip().startswith("{")


def test_the_caller_has_its_answer_before_the_child_finishes_what_it_keeps(service):
    data_dir, env, log, _ = service
    # when an analytics command runs in the service (it keeps the sorted touches for the next command, written in
    # the background)
    served = _smarketing("attribution", "--model", "linear", "--json", env=env)
    # then the caller has its answer, and the child finishes the writing and exits (it waits for nothing else: not
    # for the kernels' idle threads)
    assert served.returncode == 0, served.stderr
    wait_for_text(log, "ran `attribution --model linear --json`", 60, what="the service's child")
    assert "finishing)" in _log_lines(log, "ran `attribution --model linear --json`")[-1]
    assert [p.name.split("-")[0] for p in (data_dir / "cache" / "touches").iterdir()] == ["contact"]


def test_ctrl_c_reaches_the_command_in_the_service(service):
    _, env, log, _ = service
    # given a long command running in the service (seeding the medium company takes tens of seconds)
    client = subprocess.Popen([str(BIN / "smarketing"), "seed", "--size", "medium", "--force"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_text(log, "running `seed --size medium --force`", 120, what="the command service")
    time.sleep(1)
    # when the user presses Ctrl+C
    client.send_signal(signal.SIGINT)
    _, err = client.communicate(timeout=60)
    # then the command stops (nothing is written: seeding is one transaction) with the status of an interrupt
    assert client.returncode != 0
    ran = _log_lines(log, "ran `seed --size medium --force`")
    assert ran and " exit 0 " not in ran[-1], log.read_text()[-2000:]


def test_a_socket_left_by_a_stopped_service_is_ignored(tmp_path):
    # given a data folder whose socket file has no service behind it
    env = _env(tmp_path)
    assert _smarketing("migrate", env=env).returncode == 0
    (tmp_path / "run").mkdir()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(tmp_path / "run" / "commands.sock"))
    stale.close()
    # when the user runs a command
    done = _smarketing("playbook", "show", env=env)
    # then it runs in its own process as if no service were there
    assert done.returncode == 0, done.stderr
    assert "Revenue team playbook" in done.stdout


def test_the_code_stamp_changes_when_a_module_changes(tmp_path, monkeypatch):
    # given a package folder
    (tmp_path / "pkg").mkdir()
    module = tmp_path / "pkg" / "a.py"
    module.write_text("x = 1\n")
    monkeypatch.setattr("smarketing.core.command_service.PACKAGE_ROOT", tmp_path)
    first = code_stamp()
    # when a module is edited, or another added
    os.utime(module, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    edited = code_stamp()
    (tmp_path / "pkg" / "b.py").write_text("y = 2\n")
    added = code_stamp()
    # then the stamp moves each time, so a service started before refuses to run the new code
    assert first != edited != added
    assert added[0] == 2


def test_sigterm_stops_the_service_and_removes_its_socket(tmp_path):
    env = _env(tmp_path)
    assert _smarketing("migrate", env=env).returncode == 0
    process = subprocess.Popen([str(BIN / "smarketing"), "service"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    socket_path = tmp_path / "run" / "commands.sock"
    deadline = time.monotonic() + 120
    while not socket_path.exists():
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    # a second service on the same folder is refused
    second = _smarketing("service", env=env)
    assert second.returncode == 2 and "already listens" in second.stderr
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0, out
    assert not socket_path.exists()
    assert "command service stopped" in out


RECORD_TOUCHES = """
import django, sys, time
django.setup()
from datetime import UTC, datetime, timedelta
from smarketing.campaigns.services import touchpoints_record_many
from smarketing.crm.models import Contact
batches, n = int(sys.argv[1]), int(sys.argv[2])
contacts = list(Contact.objects.order_by("id").values_list("id", "account_id")[:50])
t0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
print("ready", flush=True)
for b in range(batches):
    touchpoints_record_many(touchpoints=[
        {"contact_id": contacts[i % len(contacts)][0], "account_id": contacts[i % len(contacts)][1],
         "channel": "email", "kind": "email_click", "occurred_at": t0 + timedelta(minutes=b * n + i),
         "source": "test", "source_id": f"b{b}-{i}"} for i in range(n)])
    time.sleep(0.3)
"""


def _copier_helpers() -> dict[int, tuple[int, str]]:
    """Every running process of a store helper started fresh (not forked): pid -> (parent pid, command line)."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        words = [w.decode(errors="replace") for w in cmdline if w]
        if "smarketing.analytics.store.copier" in words and "--fork-server" not in words:
            found[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), " ".join(words))
    return found


def _sync_pair(env: dict[str, str], fresh: dict[int, tuple[int, str]]) -> None:
    """Two `store sync` commands at once, watching for store helpers started fresh meanwhile."""
    commands = [subprocess.Popen([str(BIN / "smarketing"), "store", "sync", "--json"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    while any(p.poll() is None for p in commands):
        fresh.update(_copier_helpers())  # (a fresh helper lives a few tenths of a second at least)
        time.sleep(0.005)
    for p in commands:
        assert p.returncode == 0, p.communicate()[1]


def test_commands_catching_up_at_once_use_helpers_forked_by_the_service_and_copy_every_row_once(tmp_path):
    # given a seeded demo with its store copied, and the service on it
    env = _env(tmp_path)
    alone = {**env, "SMARKETING_COMMAND_SERVICE": "off"}
    assert _smarketing("migrate", env=alone).returncode == 0
    seeded = _smarketing("seed", "--size", "small", env=alone, timeout=600)
    assert seeded.returncode == 0, seeded.stderr
    log = tmp_path / "service.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(BIN / "smarketing"), "service"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        wait_for_text(log, "command service ready", 120, what="the command service", proc=process)
        match = re.search(r"store helpers forked by pid (\d+)", log.read_text())
        assert match, log.read_text()
        fork_server = int(match.group(1))
        # when touches are recorded, batch after batch, while pairs of commands catch the store up at once
        writer = subprocess.Popen([str(BIN / "python"), "-c", RECORD_TOUCHES, "8", "100"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n", writer.communicate()[1]
        fresh: dict[int, tuple[int, str]] = {}
        while writer.poll() is None:
            _sync_pair(env, fresh)
        assert writer.returncode == 0, writer.communicate()[1]
        _sync_pair(env, fresh)
        # then every row is in the store once
        status = json.loads(_smarketing("store", "status", "--json", env=alone).stdout)
        assert [(r["table"], r["lake_rows"]) for r in status] == [(r["table"], r["database_rows"]) for r in status]
        assert next(r for r in status if r["table"] == "touchpoints")["behind"] == 0
        # and the commands' catch-ups copied with helpers forked by the service's fork server, none started afresh
        text = log.read_text()
        children = {int(pid) for pid in re.findall(r"^running `.*` \(pid (\d+)\)$", text, re.M)}
        forked_for = [int(pid) for pid in re.findall(r"^store helper \d+ forked for pid (\d+)$", text, re.M)]
        assert forked_for and set(forked_for) <= children, text
        assert not {pid: p for pid, p in fresh.items() if p[0] in children}, fresh
        assert not _gone(fork_server)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    # and the fork server stopped with the service
    assert _gone(fork_server)


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
