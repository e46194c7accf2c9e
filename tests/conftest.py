import copy
import json
import os
import shutil
import tempfile

import pytest
import yaml


@pytest.fixture
def bases() -> dict:
    from adjudicator.engine.examples import load_bases
    return copy.deepcopy(load_bases())


@pytest.fixture
def write_claim(tmp_path):
    def _write(data: dict, name: str = "claim.yaml"):
        path = tmp_path / name
        if name.endswith(".json"):
            path.write_text(json.dumps(data, default=str), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return path
    return _write


# ---------------------------------------------------------------- ledgers on both backends
class SystemPostgres:
    """A throwaway PostgreSQL server from the system's binaries (Debian's `postgresql` package), for the
    Pythons pgserver ships no wheel for (3.13): same interface as pgserver's handle (get_uri), unix socket
    only, in its own temporary folder. As root it runs as the `postgres` user (initdb refuses root)."""

    def __init__(self, bindir: str):
        import subprocess
        self.bindir, self.folder = bindir, tempfile.mkdtemp(prefix="adjudicator-pg-")
        self.pgdata = os.path.join(self.folder, "data")
        self.as_user = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        run = lambda *cmd: subprocess.run([*self.as_user, *cmd], check=True, capture_output=True, timeout=120)
        run(f"{bindir}/initdb", "-D", self.pgdata, "-U", "postgres", "-A", "trust", "--no-sync")
        run(f"{bindir}/pg_ctl", "-D", self.pgdata, "-w", "-l", os.path.join(self.folder, "server.log"), "-o",
            f"-h '' -k {self.folder} -c synchronous_commit=off", "start")

    def get_uri(self) -> str:
        return f"postgresql://postgres@/postgres?host={self.folder}"

    def stop(self) -> None:
        import subprocess
        subprocess.run([*self.as_user, f"{self.bindir}/pg_ctl", "-D", self.pgdata, "-w", "stop", "-m", "immediate"],
                       capture_output=True, timeout=120)
        shutil.rmtree(self.folder, ignore_errors=True)


def _system_postgres_bin() -> str | None:
    import glob
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2])
                         if d.split("/")[-2].isdigit() else 0, reverse=True):
        if os.access(os.path.join(bindir, "initdb"), os.X_OK) and os.access(os.path.join(bindir, "pg_ctl"), os.X_OK):
            return bindir
    return None


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """A real PostgreSQL server in a temporary folder, for the session: the pgserver wheel's binaries, or
    where pgserver has no build (Python 3.13) the system's PostgreSQL (.ci/run installs it)."""
    import warnings

    try:
        import pgserver
    except ImportError:
        bindir = _system_postgres_bin()
        if bindir is None:
            pytest.skip("no PostgreSQL: pgserver has no build for this Python and the system has no "
                        "postgresql binaries (apt-get install postgresql)")
        srv = SystemPostgres(bindir)
        yield srv
        srv.stop()
        return
    import psycopg
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR is not set
        # a folder directly under the temporary directory: as root, pgserver runs the server as its own
        # user, who cannot enter pytest's root-only folders
        folder = tempfile.mkdtemp(prefix="adjudicator-pg-")
        srv = pgserver.get_server(folder, cleanup_mode="stop")
    # a throwaway server: commits need not wait for the disk (locks and transactions are unchanged)
    with psycopg.connect(srv.get_uri(), autocommit=True) as c:
        c.execute("ALTER SYSTEM SET synchronous_commit = off")
        c.execute("SELECT pg_reload_conf()")
    yield srv
    # a throwaway server: stop it without the shutdown checkpoint (after the whole suite that checkpoint
    # took over a minute on a loaded machine); srv.cleanup() then finds it stopped
    try:
        from pgserver._commands import pg_ctl
        pg_ctl(["-w", "stop", "-m", "immediate"], pgdata=srv.pgdata, user=srv.system_user)
        srv.cleanup_mode = None   # stopped: pgserver's cleanup (now and at exit) only forgets the handle
    except Exception:  # noqa: BLE001 - pgserver's own cleanup below stops (or kills) it either way
        pass
    srv.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_target(request, tmp_path) -> str:
    """Where a test's ledger lives: a SQLite file that does not exist yet, or an empty PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.sqlite")
    from ledger_support import new_pg_database
    return new_pg_database(request.getfixturevalue("pg_server"))
