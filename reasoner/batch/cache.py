"""The local store of unit records: a rerun recomputes only what changed, an interrupted run resumes.

Input: a path (`--cache PATH`; default `scan.sqlite` in the user's cache directory, `grammars.cache_dir()`),
unit keys (`digest.py`) and record lines (`units.record_line`).
Output: `Store.get(key) -> str | None`, `Store.put(key, line)`; `Store.open(None)` is a store that keeps nothing
(`--no-cache`).
Guarantee: SQLite from the standard library, one table `records(key PRIMARY KEY, line, stored)`, written in
WAL mode and committed every `COMMIT_EVERY` records and at close, so a run interrupted (Ctrl-C, a killed
process) loses at most the records of the last uncommitted batch, and the next run with the same inputs finds
every committed one (it resumes where the interrupted one stopped). A key is a hash of everything the record
depends on, so a record is never reused for an input that changed. A store that cannot be opened is an
INPUT error at the start of the run, never a silent run without a cache. Records of units whose worker died
are never stored (a rerun tries them again).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

from reasoner.errors import InputError

#: Records written between two commits.
COMMIT_EVERY = 64
#: The store's file in the cache directory when `--cache` is not given.
DEFAULT_NAME = "scan.sqlite"


def default_path() -> Path | None:
    from reasoner.front.grammars import cache_dir

    where = cache_dir()
    return None if where is None else where / DEFAULT_NAME


class Store:
    """A key -> record-line store (module docstring)."""

    def __init__(self, db: sqlite3.Connection | None, path: Path | None) -> None:
        self._db = db
        self.path = path
        self._pending = 0
        self.hits = 0
        self.stored = 0

    @staticmethod
    def open(path: str | Path | None) -> Store:
        if path is None:
            return Store(None, None)
        p = Path(path)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(p), timeout=30.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, line TEXT NOT NULL, "
                       "stored REAL NOT NULL)")
            db.execute("BEGIN")
        except (OSError, sqlite3.Error) as exc:
            raise InputError(f"cannot open the scan cache `{p}`: {exc}", code="INPUT004",
                             help="give another file with `--cache PATH`, or run without one: `--no-cache`") from None
        return Store(db, p)

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def get(self, key: str) -> str | None:
        if self._db is None:
            return None
        row = self._db.execute("SELECT line FROM records WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        self.hits += 1
        return str(row[0])

    def put(self, key: str, line: str) -> None:
        if self._db is None:
            return
        self._db.execute("INSERT OR REPLACE INTO records (key, line, stored) VALUES (?, ?, ?)",
                         (key, line, time.time()))
        self.stored += 1
        self._pending += 1
        if self._pending >= COMMIT_EVERY:
            self.commit()

    def commit(self) -> None:
        if self._db is None:
            return
        self._db.execute("COMMIT")
        self._db.execute("BEGIN")
        self._pending = 0

    def close(self) -> None:
        if self._db is None:
            return
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("COMMIT")
        self._db.close()
        self._db = None
