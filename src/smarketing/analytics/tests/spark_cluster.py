"""A real Spark standalone cluster for the tests: one master and one worker started from the pyspark distribution's
own `bin/spark-class`, bound to the loopback, and a driver session on it.

Everything listens on 127.0.0.1 (`SPARK_LOCAL_IP`, `--host`, `spark.driver.host`, `spark.driver.bindAddress`): left
alone, the worker registers on the machine's outward address and the tests would talk to the network.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
# A cold JVM on a busy 2-core machine takes a while; these bound the wait, they are not measured.
START_TIMEOUT_S = 180.0


class ClusterFailed(RuntimeError):
    """The standalone cluster did not come up; the message says which process and shows its log's tail."""


@dataclass
class SparkCluster:
    master_url: str
    master_ui: str
    work_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def status(self) -> dict[str, Any]:
        """The master's own JSON view (workers, cores, applications), read from its web UI on the loopback."""
        with urllib.request.urlopen(f"{self.master_ui}/json/", timeout=5) as response:  # noqa: S310 - loopback
            return json.loads(response.read())

    def alive_workers(self) -> list[dict[str, Any]]:
        return [w for w in self.status().get("workers", []) if w.get("state") == "ALIVE"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def require_java() -> str:
    """The `java` the cluster runs on; missing, a failure that says how to install it (never a skip)."""
    java = shutil.which("java")
    if java is None and os.environ.get("JAVA_HOME"):
        candidate = Path(os.environ["JAVA_HOME"]) / "bin" / "java"
        java = str(candidate) if candidate.exists() else None
    if java is None:
        raise ClusterFailed("the Spark standalone cluster tests need Java (17 or newer) and none is on the PATH: "
                            "run `make java` (installs Debian's default-jre-headless)")
    return java


def _env(work_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "SPARK_HOME": str(spark_home()),
        "SPARK_LOCAL_IP": LOOPBACK,
        "SPARK_LOCAL_HOSTNAME": "localhost",
        "SPARK_LOG_DIR": str(work_dir / "logs"),
        "SPARK_WORKER_DIR": str(work_dir / "worker"),
        "PYSPARK_PYTHON": sys.executable,
        # The daemons are small: keep their heaps small on a shared machine.
        "SPARK_DAEMON_MEMORY": "256m",
    })
    env.pop("SPARK_CONF_DIR", None)
    return env


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    spark_class = spark_home() / "bin" / "spark-class"
    with open(log, "wb") as out:
        # Its own process group, so stopping it also stops the JVM spark-class starts under it.
        return subprocess.Popen([str(spark_class), *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)


def _die_with_parent() -> None:
    """In the child before exec: the kernel sends it SIGTERM when the test process dies, even by SIGKILL or a
    timeout, so no master or worker outlives its tests (spark-class execs the JVM, which keeps the setting)."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait(what: str, ready: Any, procs: list[tuple[subprocess.Popen[bytes], Path]]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for proc, log in procs:
            if proc.poll() is not None:
                raise ClusterFailed(f"{what}: {log.name} exited with {proc.returncode}:\n{_tail(log)}")
        with suppress(OSError, ValueError):
            if ready():
                return
        time.sleep(0.5)
    raise ClusterFailed(f"{what}: not ready after {START_TIMEOUT_S:.0f} s:\n"
                        + "\n".join(f"{log.name}:\n{_tail(log)}" for _, log in procs))


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextmanager
def standalone_cluster() -> Iterator[SparkCluster]:
    """Start a master and one worker (1 core, 1 GB) on free loopback ports; stop both on the way out, also on
    failure."""
    require_java()
    work_dir = Path(tempfile.mkdtemp(prefix="smk-spark-"))
    (work_dir / "logs").mkdir()
    (work_dir / "worker").mkdir()
    env = _env(work_dir)
    port, ui_port = free_port(), free_port()
    cluster = SparkCluster(f"spark://{LOOPBACK}:{port}", f"http://{LOOPBACK}:{ui_port}", work_dir)
    try:
        master_log = work_dir / "master.log"
        master = _spawn(["org.apache.spark.deploy.master.Master", "--host", LOOPBACK, "--port", str(port),
                         "--webui-port", str(ui_port)], env, master_log)
        cluster.processes.append(master)
        _wait("Spark master", lambda: cluster.status() is not None, [(master, master_log)])
        worker_log = work_dir / "worker.log"
        worker = _spawn(["org.apache.spark.deploy.worker.Worker", cluster.master_url, "--host", LOOPBACK,
                         "--port", str(free_port()), "--webui-port", str(free_port()), "--cores", "1",
                         "--memory", "1g", "--work-dir", str(work_dir / "worker")], env, worker_log)
        cluster.processes.append(worker)
        _wait("Spark worker registering with the master", lambda: bool(cluster.alive_workers()),
              [(master, master_log), (worker, worker_log)])
        yield cluster
    finally:
        for proc in reversed(cluster.processes):
            _stop(proc)
        shutil.rmtree(work_dir, ignore_errors=True)


def cluster_session(cluster: SparkCluster) -> Any:
    """A driver session on the cluster, bound to the loopback, configured as the product's own session is."""
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = LOOPBACK
    return (
        SparkSession.builder.master(cluster.master_url).appName("smarketing-tests")
        .config("spark.driver.host", LOOPBACK)
        .config("spark.driver.bindAddress", LOOPBACK)
        .config("spark.executor.memory", "768m")
        .config("spark.executor.cores", "1")
        .config("spark.cores.max", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
