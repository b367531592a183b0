"""leadql for Python: open a workspace, run SQL, get Arrow, pandas or polars.

    import leadql
    ws = leadql.open("data/sample")          # or leadql.open(): $LEADQL_DATA, else the bundled sample
    t = ws.sql("SELECT * FROM score_leads('engagement')").to_arrow()   # pyarrow.Table
    df = ws.sql("SELECT ...").to_pandas()
    summary = ws.run(policy="default", as_of="2026-06-30", out="out")  # the main job

Everything `leadql sql` accepts works in `ws.sql`: CREATE MODEL, SHOW MODELS, DROP MODEL,
every table function. Results come from Rust as Arrow C streams (no CSV or IPC round
trip); queries run with the GIL released. Errors raise `leadql.Error` with the message
the command line prints.
"""

from __future__ import annotations

import datetime as _dt
import json as _json
import os as _os
import shutil as _shutil
from pathlib import Path as _Path
from typing import Any, Iterator, Optional, Union

import pyarrow as _pa

from . import _leadql
from ._leadql import Error

__all__ = ["open", "import_csv", "Workspace", "Result", "Error", "bundled_sample", "copy_sample"]
__version__ = _leadql.__version__

PathLike = Union[str, "_os.PathLike[str]"]
Instant = Union[str, _dt.datetime, _dt.date, None]


def bundled_sample() -> _Path:
    """The sample workspace of the clone leadql was built from (`data/sample`)."""
    return _Path(_leadql.bundled_sample()).resolve()


def copy_sample(target: PathLike) -> _Path:
    """Copies the bundled sample to `target` (a new or empty directory), without the
    state runs and training record in it (run history, activities, trained models), and
    returns the path: a workspace to change freely."""
    source = bundled_sample()
    target = _Path(target)
    if target.exists() and any(target.iterdir()):
        raise Error(f"{target}: not empty; copy_sample needs a new or empty directory")

    def skip(folder: str, names: list[str]) -> list[str]:
        rel = _Path(folder).relative_to(source)
        skipped = [n for n in names if n in (".leadql.lock", ".leadql-staging")]
        if rel == _Path("."):
            skipped += [n for n in names if n in ("qualification_history", "sales_activities")]
        if rel == _Path("models"):
            skipped += [n for n in names if (_Path(folder) / n).is_dir()]
        return skipped

    _shutil.copytree(source, target, ignore=skip, dirs_exist_ok=True)
    return target


def _instant(value: Instant, argument: str) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f" if value.microsecond else "%Y-%m-%d %H:%M:%S")
    if isinstance(value, _dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, str):
        return value
    raise TypeError(f"{argument}: expected a str, datetime or date, not {type(value).__name__}")


def open(  # noqa: A001 (leadql.open, like io.open)
    path: Optional[PathLike] = None,
    *,
    as_of: Instant = None,
    memory_limit: Union[int, str, None] = None,
) -> "Workspace":
    """Opens a workspace: `path`, else `$LEADQL_DATA`, else the bundled sample.

    `as_of` ('YYYY-MM-DD HH:MM:SS', a date or a datetime, UTC): see the workspace as it
    was known strictly before that instant. `memory_limit` (bytes, or '512M', '4G'):
    memory for sorts, joins and aggregations before they spill to disk.
    A relative `path` is resolved from the current directory."""
    if path is None:
        path = _leadql.default_data()
    return Workspace(_leadql.Workspace(_os.fspath(path), _instant(as_of, "as_of"), memory_limit))


def _pairs(value: Optional[dict], argument: str) -> list:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise TypeError(f"{argument}: expected a dict, not {type(value).__name__}")
    return [(str(k), str(v)) for k, v in value.items()]


def import_csv(
    data: PathLike,
    file: PathLike,
    *,
    mapping: Optional[PathLike] = None,
    map: Optional[dict] = None,  # noqa: A002 (the option of `leadql import csv`)
    set: Optional[dict] = None,  # noqa: A002
    keep_unmapped: bool = False,
    linkedin: bool = False,
    delimiter: Optional[str] = None,
    encoding: Optional[str] = None,
    date_format: Optional[str] = None,
    at: Instant = None,
    rejects: Optional[PathLike] = None,
    max_rejects: Optional[int] = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Imports leads from a CSV file into the workspace `data` (created when the
    directory is new or empty), as `leadql import csv` does, and returns what it did:
    rows read, imported, already imported and rejected, accounts and contacts matched
    or created, the columns kept by `keep_unmapped` with their inferred types.

    `mapping`: a mapping file; `map`: {lead field: file column}; `set`: {field: value}
    for every row; `keep_unmapped`: keep every other column as a typed extra lead
    column; `linkedin`: the file is a LinkedIn Lead Gen Forms export. Rows imported
    before are skipped; refused rows go to a rejects CSV (`rejects`)."""
    text = _leadql.import_file(
        _os.fspath(data),
        _os.fspath(file),
        "linkedin" if linkedin else "csv",
        None if mapping is None else _os.fspath(mapping),
        _pairs(map, "map"),
        _pairs(set, "set"),
        keep_unmapped,
        delimiter,
        encoding,
        date_format,
        _instant(at, "at"),
        None if rejects is None else _os.fspath(rejects),
        max_rejects,
        dry_run,
    )
    return _json.loads(text)


class Workspace:
    """A workspace opened for SQL (see `leadql.open`)."""

    def __init__(self, native: "_leadql.Workspace"):
        self._native = native

    @property
    def path(self) -> _Path:
        """The workspace directory."""
        return _Path(self._native.path)

    @property
    def as_of(self) -> Optional[str]:
        """The instant the workspace is seen at, or None (everything)."""
        return self._native.as_of

    def tables(self) -> list[str]:
        """The tables and views, sorted."""
        return self._native.tables()

    def sql(self, query: str, params: Union[list, tuple, dict, None] = None) -> "Result":
        """Runs one or more statements and returns the last one's result.

        `params` fill placeholders of the last statement: a list for `$1`, `$2`, …, a
        dict for `$name` (None, bool, int, float, str, datetime, date)."""
        return Result(self._native.sql(query, params))

    def run(
        self,
        policy: str = "default",
        as_of: Instant = None,
        *,
        out: PathLike = "out",
        retrain: bool = False,
        top: int = 5,
        report: bool = False,
    ) -> dict[str, Any]:
        """The main job (`leadql run`): trains or refreshes the policy's predictive
        model, scores, qualifies, creates and assigns sales activities, writes the
        tables to `out` (relative to the current directory) and records the run in the
        workspace; `report=True` also writes the HTML report (`report.html`) to `out`.
        Returns the summary as a dict (the figures `leadql run` prints).
        The workspace is re-read afterwards, so the recorded run is visible to `sql`."""
        text = self._native.run(policy, _os.fspath(out), _instant(as_of, "as_of"), retrain, top, report)
        return _json.loads(text)

    def import_csv(self, file: PathLike, **options: Any) -> dict[str, Any]:
        """Imports a CSV file into this workspace (`leadql.import_csv` with its
        options) and re-reads the workspace, so the new leads are visible."""
        if self.as_of is not None:
            raise Error(
                f"this workspace is open as of {self.as_of}: an import changes it now "
                "(open it without as_of, or use leadql.import_csv)"
            )
        result = import_csv(self.path, file, **options)
        self.refresh()
        return result

    def export(
        self,
        source: str,
        out: PathLike,
        *,
        format: Optional[str] = None,  # noqa: A002
        partition_by: Optional[list[str]] = None,
        raw: bool = False,
    ) -> int:
        """Writes a table, view or query to `out` atomically, as `leadql export` does
        (Parquet, CSV, JSON, NDJSON or Arrow, from `format` or the extension; Parquet
        files carry the query, as_of and model versions in their metadata);
        `partition_by` writes Hive-style folders. Returns the rows written."""
        return self._native.export(source, _os.fspath(out), format, list(partition_by or []), raw)

    def refresh(self) -> None:
        """Re-reads the workspace (what other processes wrote since it was opened);
        views and settings made with `sql` are dropped."""
        self._native.refresh()

    def __repr__(self) -> str:
        return repr(self._native)


class Result:
    """The result of `Workspace.sql`. Read it once, as a whole (`to_arrow`,
    `to_pandas`, `to_polars`, or any attribute of a `pyarrow.Table`: the whole result is
    then kept and can be read again) or streamed batch by batch in bounded memory
    (`to_reader`, iteration, `__arrow_c_stream__` for pyarrow, polars or DuckDB)."""

    _PREVIEW_ROWS = 20

    def __init__(self, native: "_leadql.Stream"):
        self._native = native
        self._table: Optional[_pa.Table] = None
        self._streamed = False

    @property
    def schema(self) -> _pa.Schema:
        """The result's Arrow schema."""
        if self._table is not None:
            return self._table.schema
        return _pa.schema(self._native)

    def to_arrow(self) -> _pa.Table:
        """The whole result as a pyarrow.Table."""
        if self._table is None:
            # Read in Rust with the GIL released; execution errors raise leadql.Error.
            batches = self._native.collect()
            self._table = _pa.RecordBatchReader.from_stream(batches).read_all()
        return self._table

    def to_pandas(self, **kwargs: Any):
        """The whole result as a pandas.DataFrame (keyword arguments go to
        `pyarrow.Table.to_pandas`)."""
        return self.to_arrow().to_pandas(**kwargs)

    def to_polars(self):
        """The whole result as a polars.DataFrame."""
        import polars as pl

        return pl.from_arrow(self.to_arrow())

    def to_reader(self) -> _pa.RecordBatchReader:
        """The result as a pyarrow.RecordBatchReader that pulls batches from the running
        query as it is read: bounded memory for any size of result."""
        if self._table is not None:
            return self._table.to_reader()
        reader = _pa.RecordBatchReader.from_stream(self._native)
        self._streamed = True
        return reader

    def __iter__(self) -> Iterator[_pa.RecordBatch]:
        """The batches, as the query produces them; an error while it runs raises
        `leadql.Error` (through `to_reader` it is pyarrow's exception)."""
        reader = self.to_reader()
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except _pa.ArrowException as e:
                message = str(e)
                if message.startswith("External error: "):
                    raise Error(message[len("External error: "):]) from e
                raise
            yield batch

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        if self._table is not None:
            return self._table.__arrow_c_stream__(requested_schema)
        capsule = self._native.__arrow_c_stream__(requested_schema)
        self._streamed = True
        return capsule

    def __arrow_c_schema__(self) -> Any:
        return self.schema.__arrow_c_schema__()

    def __getattr__(self, name: str) -> Any:
        # Everything else a pyarrow.Table offers: num_rows, column(), to_pylist(), …
        if name.startswith("_") or self._streamed:
            raise AttributeError(name)
        table = self.to_arrow()
        if not hasattr(table, name):
            raise AttributeError(name)
        return getattr(table, name)

    def __repr__(self) -> str:
        if self._streamed:
            return "<leadql.Result: read as a stream>"
        t = self.to_arrow()
        shown = t.slice(0, self._PREVIEW_ROWS)
        more = "" if t.num_rows <= self._PREVIEW_ROWS else f"\n… {t.num_rows:,} rows in all"
        return repr(shown) + more

    def _repr_html_(self) -> str:
        if self._streamed:
            return "<pre>&lt;leadql.Result: read as a stream&gt;</pre>"
        t = self.to_arrow()
        shown = t.slice(0, self._PREVIEW_ROWS)
        note = "" if t.num_rows <= self._PREVIEW_ROWS else f"<p>first {self._PREVIEW_ROWS} of {t.num_rows:,} rows</p>"
        try:
            import pandas  # noqa: F401
        except ImportError:
            return "<pre>" + _html_escape(repr(shown)) + "</pre>" + note
        return shown.to_pandas()._repr_html_() + note


def _html_escape(text: str) -> str:
    import html

    return html.escape(text)
