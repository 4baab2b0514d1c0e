"""A private, single-node Slurm cluster on this machine, for tests (tests/test_slurm.py).

Everything lives in one temporary folder and on free ports, so it clashes with no system service:

- munged with its own key (128 random bytes, as `mungekey` makes; mode 0400, owned by the user
  munged runs as, i.e. us), socket, pid and seed files (in the foreground it logs to
  log/munged.out);
- MariaDB (a fresh data folder, TCP on 127.0.0.1 only) and slurmdbd on it: Slurm's real job
  accounting, which `sacct` reads. submitit polls job states with `sacct`, and without slurmdbd
  `sacct` only answers "Slurm accounting storage is disabled" (jobcomp/filetxt feeds `sacct -c`
  alone, which submitit does not call);
- slurmctld and slurmd, with this host (`hostname -s`) as controller and only node, as many CPUs
  as this process may use, proctrack/linuxproc, task/none and no cgroups, select/cons_tres with
  CR_CPU, all as root (SlurmUser=root), in one partition, `leadsim`.

Every Slurm command finds the cluster through the `SLURM_CONF` variable in `SlurmCluster.env`.
The daemons run in the foreground (-D, -F) as child processes in their own process groups, and
`stop()` cancels every job and ends each of them by its process group id (and any job processes
that Slurm still lists, by pid); it is safe to call more than once and after a failed start.
Nothing here is a stand-in: every command is Debian's Slurm, munge and MariaDB.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

# Debian packages: slurm-wlm (slurmctld, slurmd, client commands), munge, slurmdbd, mariadb-server
DAEMONS = ("munged", "mariadbd", "mariadb-install-db", "slurmdbd", "slurmctld", "slurmd")
CLIENTS = ("munge", "sacctmgr", "sbatch", "squeue", "scancel", "scontrol", "sinfo", "sacct")
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/bin"])
PARTITION = "leadsim"
CLUSTER = "leadsim"
TERMINAL = ("COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED",
            "BOOT_FAIL", "DEADLINE")


def tool(name: str) -> str | None:
    return shutil.which(name, path=SEARCH_PATH)


def missing_tools() -> list[str]:
    return [name for name in DAEMONS + CLIENTS if tool(name) is None]


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports that are free on 127.0.0.1 right now."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class SlurmCluster:
    def __init__(self, cpus: int | None = None):
        self.cpus = cpus or len(os.sched_getaffinity(0))
        self.host = socket.gethostname().split(".")[0]
        self.root: Path | None = None
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.timings: dict[str, float] = {}

    # ----- paths and environment --------------------------------------------------------------

    @property
    def conf(self) -> Path:
        return self.root / "etc" / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        """The environment for any command that should talk to this cluster."""
        return {**os.environ, "SLURM_CONF": str(self.conf), "PATH": SEARCH_PATH}

    def run(self, *command: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
        done = subprocess.run(list(command), env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stdout}{done.stderr}"
                               + self.logs())
        return done

    # ----- start ------------------------------------------------------------------------------

    def start(self) -> SlurmCluster:
        started = time.perf_counter()
        # short path: munge's and MariaDB's unix sockets must stay under 108 characters; munged
        # wants its socket folder reachable by everyone (0755)
        self.root = Path(tempfile.mkdtemp(prefix="leadsim-slurm-", dir="/tmp"))
        for sub in ("", "etc", "munge", "db", "log", "state", "spool", "run"):
            (self.root / sub).mkdir(exist_ok=True)
            (self.root / sub).chmod(0o755)
        ctld_port, slurmd_port, dbd_port, db_port = free_ports(4)
        try:
            self._start_munge()
            self._start_mariadb(db_port)
            self._start_slurmdbd(dbd_port, db_port)
            self._write_slurm_conf(ctld_port, slurmd_port, dbd_port)
            self._wait(lambda: self.run("sacctmgr", "-i", "add", "cluster", CLUSTER, check=False).returncode == 0,
                       "sacctmgr add cluster")
            self._spawn("slurmctld", [tool("slurmctld"), "-D", "-i"])
            self._wait(lambda: "is UP" in self.run("scontrol", "ping", check=False).stdout, "slurmctld")
            self._spawn("slurmd", [tool("slurmd"), "-D"])
            self._wait(lambda: self.run("sinfo", "-h", "-p", PARTITION, "-o", "%t", check=False).stdout.strip()
                       == "idle", "slurmd (node idle)")
        except BaseException:
            self.stop()
            raise
        self.timings["start"] = time.perf_counter() - started
        return self

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        out = open(self.root / "log" / f"{name}.out", "ab")
        proc = subprocess.Popen(command, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        self.procs.append((name, proc))
        return proc

    def _wait(self, ready, what: str, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            for name, proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode} while waiting for {what}" + self.logs())
            if ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"timed out after {timeout} s waiting for {what}" + self.logs())

    def _start_munge(self) -> None:
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(128))  # what `mungekey` makes: 1024 random bits
        key.chmod(0o400)  # munged runs as us (root in CI), so we own the key
        self.munge_socket = self.root / "munge" / "munge.socket"
        self._spawn("munged", [tool("munged"), "--foreground", f"--socket={self.munge_socket}",
                               f"--key-file={key}", f"--pid-file={self.root / 'run' / 'munged.pid'}",
                               f"--log-file={self.root / 'log' / 'munged.log'}",
                               f"--seed-file={self.root / 'munge' / 'munged.seed'}", "--num-threads=4"])
        def probe():  # munged answers on its socket
            return subprocess.run([tool("munge"), "-n", "-S", str(self.munge_socket)],
                                  capture_output=True).returncode == 0

        self._wait(probe, "munged")

    def _start_mariadb(self, port: int) -> None:
        data = self.root / "db" / "data"
        done = subprocess.run([tool("mariadb-install-db"), "--no-defaults", f"--datadir={data}", "--user=root",
                               "--auth-root-authentication-method=normal", "--skip-test-db"],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed: {done.stdout}{done.stderr}")
        init = self.root / "db" / "init.sql"
        init.write_text("CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'leadsim';\n"
                        "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';\n")
        self._spawn("mariadbd", [tool("mariadbd"), "--no-defaults", f"--datadir={data}", "--user=root",
                                 f"--socket={self.root / 'db' / 'mysqld.sock'}", f"--port={port}",
                                 "--bind-address=127.0.0.1", "--skip-name-resolve",
                                 f"--pid-file={self.root / 'run' / 'mysqld.pid'}",
                                 f"--log-error={self.root / 'log' / 'mariadb.log'}", f"--init-file={init}",
                                 "--innodb-use-native-aio=0",  # no Linux AIO under some sandboxes
                                 "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M"])
        self._wait(lambda: port_open(port), "mariadbd")

    def _start_slurmdbd(self, dbd_port: int, db_port: int) -> None:
        # slurmdbd reads slurmdbd.conf beside $SLURM_CONF; it must be private to SlurmUser
        dbd = self.root / "etc" / "slurmdbd.conf"
        dbd.write_text("\n".join([
            "AuthType=auth/munge", f"AuthInfo=socket={self.munge_socket}",
            "DbdHost=localhost", "DbdAddr=127.0.0.1", f"DbdPort={dbd_port}", "SlurmUser=root",
            f"PidFile={self.root / 'run' / 'slurmdbd.pid'}", f"LogFile={self.root / 'log' / 'slurmdbd.log'}",
            "StorageType=accounting_storage/mysql", "StorageHost=127.0.0.1", f"StoragePort={db_port}",
            "StorageUser=slurm", "StoragePass=leadsim", "StorageLoc=slurm_acct_db", ""]))
        dbd.chmod(0o600)
        self._spawn("slurmdbd", [tool("slurmdbd"), "-D"])
        self._wait(lambda: port_open(dbd_port), "slurmdbd")

    def _write_slurm_conf(self, ctld_port: int, slurmd_port: int, dbd_port: int) -> None:
        r = self.root
        (r / "etc" / "plugstack.conf").write_text("")  # not the system's /etc/slurm/plugstack.conf
        self.conf.write_text("\n".join([
            f"ClusterName={CLUSTER}",
            f"SlurmctldHost={self.host}(127.0.0.1)",
            f"SlurmctldPort={ctld_port}", f"SlurmdPort={slurmd_port}",
            "SlurmUser=root", "SlurmdUser=root",
            "AuthType=auth/munge", "CredType=cred/munge", f"AuthInfo=socket={self.munge_socket}",
            f"StateSaveLocation={r / 'state'}", f"SlurmdSpoolDir={r / 'spool'}",
            f"SlurmctldPidFile={r / 'run' / 'slurmctld.pid'}", f"SlurmdPidFile={r / 'run' / 'slurmd.pid'}",
            f"SlurmctldLogFile={r / 'log' / 'slurmctld.log'}", f"SlurmdLogFile={r / 'log' / 'slurmd.log'}",
            f"PlugStackConfig={r / 'etc' / 'plugstack.conf'}",
            "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "JobAcctGatherType=jobacct_gather/none",
            "SelectType=select/cons_tres", "SelectTypeParameters=CR_CPU",
            "SchedulerType=sched/backfill", "MpiDefault=none", "MailProg=/bin/true",
            "ReturnToService=2", "SlurmdParameters=config_overrides",
            # a cancelled job gets SIGTERM (which submitit's job ignores), then SIGKILL this much later
            "KillWait=2",
            "MinJobAge=3600",  # slurmctld (so `squeue -t all`) remembers ended jobs for the whole test
            # real accounting: slurmctld sends every job's record to slurmdbd, which `sacct` reads.
            # AccountingStoragePass names the munge socket used on the slurmdbd connection
            "AccountingStorageType=accounting_storage/slurmdbd", "AccountingStorageHost=localhost",
            f"AccountingStoragePort={dbd_port}", f"AccountingStoragePass={self.munge_socket}",
            f"NodeName={self.host} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory=1000 State=UNKNOWN",
            f"PartitionName={PARTITION} Nodes={self.host} Default=YES MaxTime=INFINITE State=UP",
            ""]))

    # ----- jobs -------------------------------------------------------------------------------

    def queue(self, every_state: bool = False) -> list[str]:
        """Ids of the jobs that Slurm still has pending or running (array tasks one by one); with
        `every_state`, of every job slurmctld knows, ended ones too (kept for MinJobAge)."""
        out = self.run("squeue", "-h", "-r", "-o", "%i", *(["-t", "all"] if every_state else [])).stdout
        return [line.strip() for line in out.splitlines() if line.strip()]

    def cancel_all(self, timeout: float = 60) -> None:
        """Cancel every job on the cluster and wait until none is left."""
        self.run("scancel", f"--partition={PARTITION}", check=False)
        deadline = time.time() + timeout
        while self.queue():
            if time.time() > deadline:
                raise RuntimeError(f"jobs still queued after scancel: {self.queue()}" + self.logs())
            time.sleep(0.2)

    def accounting(self) -> dict[str, str]:
        """Every job's (array task's) id and state, as Slurm's accounting (slurmdbd) records them."""
        out = self.run("sacct", "-X", "-n", "-P", "-a", "-o", "JobID,State").stdout
        states = {}
        for line in out.splitlines():
            job, _, state = line.partition("|")
            state = state.split()[0] if state else state  # "CANCELLED by 0" -> CANCELLED
            main, _, tasks = job.partition("_")
            if tasks.startswith("["):  # array tasks that never started, in one record: 7_[2-3,5%256]
                for part in tasks.strip("[]").split("%")[0].split(","):
                    low, _, high = part.partition("-")
                    for task in range(int(low), int(high or low) + 1):
                        states[f"{main}_{task}"] = state
            else:
                states[job] = state
        return states

    def accounting_when(self, ready, timeout: float = 60) -> dict[str, str]:
        """`accounting()` once `ready(states)` holds, or after `timeout` seconds (slurmctld sends
        its records to slurmdbd in the background, so they arrive a little after the fact)."""
        deadline = time.time() + timeout
        while True:
            states = self.accounting()
            if ready(states) or time.time() > deadline:
                return states
            time.sleep(0.3)

    # ----- stop -------------------------------------------------------------------------------

    def logs(self, lines: int = 15) -> str:
        if self.root is None or not (self.root / "log").is_dir():
            return ""
        text = []
        for path in sorted((self.root / "log").iterdir()):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            text.append(f"\n--- {path.name} ---\n" + "\n".join(tail))
        return "".join(text)

    def stop(self) -> None:
        if not self.procs and self.root is None:
            return
        names = [name for name, proc in self.procs if proc.poll() is None]
        if "slurmctld" in names and "slurmd" in names:
            try:
                self.cancel_all(timeout=20)
            except Exception:
                pass
        if "slurmd" in names:  # job processes that Slurm still knows of on this node, by pid
            try:
                # lines of "PID JOBID STEPID LOCALID GLOBALID" under a header
                listed = self.run("scontrol", "listpids", check=False, timeout=10).stdout.splitlines()[1:]
                for pid in (int(line.split()[0]) for line in listed if line.split() and line.split()[0].isdigit()):
                    if pid > 1 and pid != os.getpid():
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
            except Exception:
                pass
        for name, proc in reversed(self.procs):
            # each daemon leads its own process group (start_new_session); end it by that id
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if proc.poll() is not None:
                    break
                try:
                    os.killpg(proc.pid, sig)
                    proc.wait(timeout=10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # helpers left in the group (slurmctld's slurmscriptd)
            except (ProcessLookupError, PermissionError):
                pass
        self.procs = []
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
