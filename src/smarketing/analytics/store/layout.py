"""What the lake holds and where: the mirrored tables, their columns, the partition layout and the manifests.

Every table lives in its own folder under the lake URL. History tables are Hive-style partitions by the month of
their event time (`touchpoints/month=2026-11/part-<first id>-<last id>.parquet`); snapshot tables are one file per
refresh (`contacts/part-g<generation>.parquet`). Each folder has a `_manifest.json`, written last and atomically:
it names the files that make up the table and the marks they were copied up to. Files not named in a manifest are
leftovers of an interrupted copy; readers never read them and the next catch-up deletes them. (Names starting
with `_` are hidden from Spark's and Hive's partition discovery, so a reader that globs the folder sees the
same rows, as long as no copy was interrupted since the last catch-up.)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.fs as pafs

ColumnType = Literal["int", "str", "float", "ts", "date", "bool"]
TableKind = Literal["history", "snapshot"]
MANIFEST = "_manifest.json"
NO_MONTH = "none"  # the partition of rows whose event time is missing or unreadable
# Text columns with a value per row (keys, free text): Parquet's dictionary encoding only costs time on them.
FREE_TEXT = frozenset({"source_id", "source_key", "text", "name", "reason"})


@dataclass(frozen=True)
class LakeTable:
    """One mirrored table: its Django model, its columns in the lake and how it is kept up to date."""

    name: str
    model: str  # "app_label.ModelName"
    kind: TableKind
    columns: tuple[tuple[str, ColumnType], ...]
    # History: the event time that picks the month partition. Snapshot: unused.
    time_column: str = ""
    # The columns whose values analytics must be able to represent (the dataset's time and float columns).
    checked: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def db_table(self) -> str:
        from django.apps import apps

        return str(apps.get_model(self.model)._meta.db_table)

    @property
    def dictionary_columns(self) -> list[str]:
        """The columns with few distinct values (stages, channels, kinds, flags): dictionary-encoded in Parquet,
        which makes them smaller and faster to write; on the others it would only build a dictionary to drop."""
        return [c for c, t in self.columns if t in ("str", "bool") and c not in FREE_TEXT]

    def arrow_schema(self) -> pa.Schema:
        """The table's schema in the lake (plus `_ok`: whether analytics can represent the row)."""
        import pyarrow as pa

        types = {"int": pa.int64(), "str": pa.string(), "float": pa.float64(), "ts": pa.timestamp("us", tz="UTC"),
                 "date": pa.date32(), "bool": pa.bool_()}
        return pa.schema([(c, types[t]) for c, t in self.columns] + [("_ok", pa.bool_())])


def _cols(spec: str) -> tuple[tuple[str, ColumnType], ...]:
    out = []
    for item in spec.split():
        name, _, typ = item.partition(":")
        out.append((name, typ or "int"))
    return tuple(out)  # type: ignore[arg-type]


HISTORY: tuple[LakeTable, ...] = (
    LakeTable("stage_changes", "lifecycle.StageChange", "history",
              _cols("id contact_id account_id from_stage:str to_stage:str occurred_at:ts playbook_version_id "
                    "actor_id actor_kind:str source_key:str recorded_at:ts"),
              time_column="occurred_at", checked=("occurred_at",)),
    LakeTable("touchpoints", "campaigns.Touchpoint", "history",
              _cols("id contact_id account_id campaign_id channel:str kind:str occurred_at:ts value:float actor_id "
                    "source:str source_id:str recorded_at:ts"),
              time_column="occurred_at", checked=("occurred_at", "value")),
    LakeTable("handoff_decisions", "lifecycle.HandoffDecision", "history",
              _cols("id contact_id mql_change_id assignment_id decision:str reason_key:str to_stage:str "
                    "stage_change_id decided_by_id decided_at:ts recycle_until:date playbook_version_id "
                    "recorded_at:ts"),
              time_column="decided_at"),
    LakeTable("sla_events", "lifecycle.SlaEvent", "history",
              _cols("id clock_id kind:str side:str clock_kind:str contact_id owner_id team:str deadline:ts "
                    "occurred_at:ts period:str touchpoint_id playbook_version_id recorded_at:ts"),
              time_column="occurred_at"),
    LakeTable("feedback_items", "feedback.FeedbackItem", "history",
              _cols("id account_id contact_id opportunity_id author_id kind:str text:str occurred_at:ts source:str "
                    "source_id:str recorded_at:ts"),
              time_column="occurred_at"),
    # RevOps' reversals of bad history rows: the datasets leave the corrected stage changes and touchpoints out.
    LakeTable("stage_change_corrections", "lifecycle.StageChangeCorrection", "history",
              _cols("id stage_change_id corrected_by_id reason:str recorded_at:ts"), time_column="recorded_at"),
    LakeTable("touchpoint_corrections", "campaigns.TouchpointCorrection", "history",
              _cols("id touchpoint_id corrected_by_id reason:str recorded_at:ts"), time_column="recorded_at"),
)

SNAPSHOTS: tuple[LakeTable, ...] = (
    LakeTable("contacts", "crm.Contact", "snapshot",
              _cols("id account_id lead_source:str owner_id country:str buying_role:str lifecycle_stage:str "
                    "first_seen_at:ts created_at:ts updated_at:ts source:str"),
              checked=("first_seen_at", "created_at")),
    LakeTable("accounts", "crm.Account", "snapshot",
              _cols("id name:str segment:str industry:str region:str owner_id is_customer:bool lifecycle_stage:str "
                    "created_at:ts updated_at:ts"),
              checked=("created_at",)),
    LakeTable("opportunities", "crm.Opportunity", "snapshot",
              _cols("id account_id primary_contact_id type:str amount:float stage:str outcome:str opened_at:ts "
                    "closed_at:ts owner_id source:str created_at:ts updated_at:ts"),
              checked=("amount", "opened_at", "closed_at")),
    LakeTable("campaigns", "campaigns.Campaign", "snapshot",
              _cols("id name:str channel:str type:str start_date:date end_date:date budget:float actual_cost:float "
                    "owner_id created_at:ts updated_at:ts"),
              checked=("start_date", "end_date", "budget", "actual_cost")),
    LakeTable("campaign_members", "campaigns.CampaignMember", "snapshot",
              _cols("id campaign_id contact_id status:str first_responded_at:ts created_at:ts updated_at:ts "
                    "source:str source_id:str")),
)

TABLES: dict[str, LakeTable] = {t.name: t for t in (*HISTORY, *SNAPSHOTS)}


# ----------------------------------------------------------------------------------------------- the lake itself

REMOTE_SCHEMES = {"s3a": "s3", "s3": "s3", "hdfs": "hdfs", "abfss": "abfss", "abfs": "abfs", "gs": "gs"}


@dataclass(frozen=True)
class Lake:
    """The lake's location: a local folder, or a remote URL handed to pyarrow.fs (and to Spark as it is)."""

    url: str

    @property
    def is_local(self) -> bool:
        return urlparse(self.url).scheme in {"", "file"}

    @property
    def root(self) -> str:
        """The lake's root as pyarrow.fs sees it (a local path, or the URL's path for a remote store)."""
        parsed = urlparse(self.url)
        if parsed.scheme == "file":
            return parsed.path.rstrip("/") or "/"
        if parsed.scheme == "":
            return os.path.abspath(self.url).rstrip("/")
        return f"{parsed.netloc}{parsed.path}".rstrip("/")

    def filesystem(self) -> pafs.FileSystem:
        import pyarrow.fs as pafs

        if self.is_local:
            return pafs.LocalFileSystem()
        parsed = urlparse(self.url)
        fs, _ = pafs.FileSystem.from_uri(f"{REMOTE_SCHEMES.get(parsed.scheme, parsed.scheme)}://{parsed.netloc}"
                                         f"{parsed.path}")
        return fs

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])


def configured_lake() -> Lake:
    from django.conf import settings

    return Lake(str(settings.SMARKETING["LAKE_URL"]))


@dataclass
class Manifest:
    """What one table folder holds: its files and the marks they were copied up to (the last thing written)."""

    table: str
    files: list[str] = field(default_factory=list)  # paths relative to the table folder
    rows: int = 0
    skipped: int = 0  # rows analytics cannot represent (kept in the lake, left out of the datasets)
    high_water: int = 0  # history: every row with id <= high_water is in `files`, exactly once
    mark_id: int = 0  # history: the last row copied, and its recorded_at: a database reset or reseeded since
    mark_recorded_at: str = ""  # the last catch-up no longer has that row as it was, and the table is recopied
    updated_mark: str = ""  # snapshot: the newest updated_at copied
    generation: int = 0  # snapshot: bumps with each refresh
    # history: names one unbroken copy. Set when the table is first copied or copied again from nothing, kept by
    # every catch-up that appends and every compaction: two manifests of one lineage hold the same rows up to the
    # lower high-water mark, so a reader may add only the rows above it to what it read before.
    lineage: str = ""
    # Files replaced by a snapshot's refresh or a history compaction, kept until the next one for readers on them.
    retired: list[str] = field(default_factory=list)
    database: str = ""  # which database the rows came from
    synced_at: str = ""  # when rows were last copied in (UTC ISO); a catch-up that finds nothing new leaves it

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data: dict[str, Any] = json.loads(text)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def manifest_appended(was: str | None, now: str) -> Literal["same", "appended"] | None:
    """How a history table's manifest `now` (JSON) stands to one a reader read earlier (`was`): the same, appended to
    since (the same unbroken copy and database at a mark as high or higher: every row read then is still there and
    the rows above its mark are the new ones), or another copy (None). Kept touches and kept reads judge by it."""
    if was == now:
        return "same"
    try:
        old, new = Manifest.from_json(was or ""), Manifest.from_json(now)
    except (TypeError, ValueError):
        return None
    if old.lineage and old.lineage == new.lineage and old.database == new.database \
            and new.high_water >= old.high_water:
        return "appended"
    return None


def manifest_read(lake: Lake, table: str) -> Manifest:
    """The table's manifest, or an empty one when the table was never copied."""
    path = lake.path(table, MANIFEST)
    if lake.is_local:  # (plain file access: a catch-up that copies nothing need not load pyarrow)
        try:
            with open(path, "rb") as fh:
                return Manifest.from_json(fh.read().decode("utf-8"))
        except FileNotFoundError:
            return Manifest(table)
    import pyarrow.fs as pafs

    fs = lake.filesystem()
    if fs.get_file_info(path).type == pafs.FileType.NotFound:
        return Manifest(table)
    with fs.open_input_stream(path) as stream:
        return Manifest.from_json(stream.read().decode("utf-8"))


def manifest_write(lake: Lake, manifest: Manifest) -> None:
    """Write the manifest atomically: a temporary file, flushed, then renamed over the old one."""
    final = lake.path(manifest.table, MANIFEST)
    tmp = lake.path(manifest.table, f"_manifest.{os.getpid()}.tmp")
    data = manifest.to_json().encode("utf-8")
    if lake.is_local:
        os.makedirs(lake.path(manifest.table), exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        return
    fs = lake.filesystem()
    fs.create_dir(lake.path(manifest.table), recursive=True)
    with fs.open_output_stream(tmp) as out:
        out.write(data)
    fs.move(tmp, final)


def lake_files(lake: Lake, table: str) -> list[str]:
    """Every file under the table's folder, relative to it (named by its manifest or not)."""
    base = lake.path(table)
    if lake.is_local:
        return [os.path.relpath(os.path.join(folder, name), base).replace(os.sep, "/")
                for folder, _, names in os.walk(base) for name in names]
    import pyarrow.fs as pafs

    fs = lake.filesystem()
    if fs.get_file_info(base).type == pafs.FileType.NotFound:
        return []
    return [info.path[len(base) + 1:] for info in fs.get_file_info(pafs.FileSelector(base, recursive=True))
            if info.type == pafs.FileType.File]


def lake_delete(lake: Lake, table: str, rel_path: str) -> None:
    path = lake.path(table, rel_path)
    if lake.is_local:
        os.remove(path)
    else:
        lake.filesystem().delete_file(path)


def history_file_ids(rel_path: str) -> tuple[int, int] | None:
    """The ids a history file may hold, (first, last), as its name says (`part-<first>-<last>.parquet`: a copied id
    range, or the span of the files a compaction merged); None for a name that says none."""
    parts = rel_path.rsplit("/", 1)[-1].removeprefix("part-").removesuffix(".parquet").split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def manifest_above(manifest: Manifest, row_id: int) -> Manifest:
    """The history manifest with only the files that may hold rows with an id above `row_id` (by their names): what
    a reader of only the rows appended since a mark needs to open."""
    files = [f for f in manifest.files if (ids := history_file_ids(f)) is None or ids[1] > row_id]
    return Manifest(**{**manifest.__dict__, "files": files, "retired": []})


def table_files(lake: Lake, manifest: Manifest) -> list[str]:
    """The manifest's files as full paths (what readers read)."""
    return [lake.path(manifest.table, f) for f in manifest.files]
