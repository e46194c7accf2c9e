import copy
import json
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
@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """A real PostgreSQL server (the pgserver wheel's binaries) in a temporary folder, for the session."""
    import warnings

    import sys
    if sys.version_info >= (3, 13):  # pgserver ships no wheel for 3.13 (pyproject.toml's marker)
        pytest.importorskip("pgserver", reason="pgserver has no Python 3.13 build; the PostgreSQL tests run "
                                              "on 3.11 and 3.12 (.ci/run tests those too)")
    import pgserver
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
