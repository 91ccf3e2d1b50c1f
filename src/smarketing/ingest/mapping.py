"""The mapping format: how one system's export files become accounts, contacts, opportunities and stage history.

A mapping is a YAML file (the shipped ones live in `ingest/mappings/`; `smarketing import csv FILE --mapping
FILE` takes any other). It names the system, then one entry per file kind: the headers that recognise the kind, the
external id column, the fields (target ← column, with a type), the attributes kept, the stage date columns
(stage → column) and the current-stage column read through the playbook's vocabulary. Loading validates it and
names every bad field by its path (`kinds.contacts.fields.email.type`).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from smarketing.core.errors import ValidationFailed
from smarketing.core.validation import TimeZoneName
from smarketing.lifecycle.enums import Stage

Entity = Literal["contact", "account", "opportunity", "campaign", "opportunity_history"]
FieldType = Literal["string", "email", "datetime", "date", "number", "integer", "bool", "list", "duration", "owner",
                    "ref", "vocabulary"]
VocabularyList = Literal["stages", "lead_statuses", "sources", "deal_stages"]

# What each entity takes (the crm's fields, by name); `ref` fields name another kind's external id.
TARGETS: dict[str, dict[str, tuple[str, ...]]] = {
    "contact": {"email": ("email",), "first_name": ("string",), "last_name": ("string",), "title": ("string",),
                "owner": ("owner",), "lead_source": ("vocabulary", "string"), "country": ("string",),
                "first_seen_at": ("datetime",), "account": ("ref",)},
    "account": {"name": ("string",), "domain": ("string",), "industry": ("string",), "employees": ("integer", "number"),
                "region": ("string",), "segment": ("string",), "owner": ("owner",)},
    "opportunity": {"name": ("string",), "amount": ("number",), "currency": ("string",), "stage": ("vocabulary",),
                    "opened_at": ("datetime",), "closed_at": ("datetime",), "loss_reason": ("string",),
                    "won_reason": ("string",), "owner": ("owner",), "product": ("string",),
                    "won": ("bool",), "lost": ("bool",), "account": ("ref",), "contacts": ("ref",),
                    "type": ("string",)},
    # channel and type take the campaigns' keys (translate the system's labels with `values:`)
    "campaign": {"name": ("string",), "channel": ("string",), "type": ("string",), "start_date": ("date",),
                 "end_date": ("date",), "budget": ("number",), "actual_cost": ("number",)},
    # one row per move of an opportunity (a stage-history report): many rows per opportunity, keyed by its id
    "opportunity_history": {"stage": ("vocabulary",), "at": ("datetime",), "from_stage": ("vocabulary", "string")},
}
REQUIRED = {"contact": (), "account": ("name",), "opportunity": ("name",), "campaign": ("name", "start_date"),
            "opportunity_history": ("stage", "at")}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    """One target filled from one column (or the first of several alternatives present in the file)."""

    column: str | list[str]
    type: FieldType = "string"
    vocabulary: VocabularyList | None = None
    kind: str | None = Field(default=None, description="for type ref: the file kind whose external id it names")
    required: bool = False
    values: dict[str, str] = Field(default={}, description="a fixed translation of the cells, read by the type "
                                                           "after it; a cell not listed is reported")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"column": data} if isinstance(data, str | list) else data

    @model_validator(mode="after")
    def _type_needs(self) -> FieldSpec:
        if self.type == "vocabulary" and self.vocabulary is None:
            raise ValueError("type vocabulary needs `vocabulary:` (stages, lead_statuses, sources or deal_stages)")
        if self.type == "ref" and not self.kind:
            raise ValueError("type ref needs `kind:` naming the file kind whose id it holds")
        if isinstance(self.column, list) and not self.column:
            raise ValueError("column needs at least one name")
        return self

    @property
    def columns(self) -> list[str]:
        return [self.column] if isinstance(self.column, str) else list(self.column)


class CurrentStage(_Strict):
    """The record's stage now, read through the vocabulary; recorded at `at` (first non-empty) when its own stage
    date is missing."""

    column: str
    vocabulary: Literal["stages", "lead_statuses"] = "stages"
    at: list[str] = Field(min_length=1)


class CampaignSpec(_Strict):
    """Campaign membership carried by a contacts export: each campaign id in `ids` (joined by ;) makes the contact
    a member of that campaign (created, named from the parallel `names` column, when it is new)."""

    ids: str
    names: str | None = None
    status: Literal["sent", "opened", "responded", "registered", "attended"] = "sent"
    at: str | None = Field(default=None, description="the membership's date column (else the import's time)")


class StageColumns(_Strict):
    """Deal stage dates in columns named by the stage (HubSpot's `Date entered "<stage> (<pipeline>)"`): each
    filled cell of an `entered` column is the move into that stage, its label read through the vocabulary."""

    entered: str = Field(description="the column name with {stage} (and {pipeline}) where the names vary")
    exited: str | None = Field(default=None, description="the matching exit column, kept with the move")
    vocabulary: Literal["deal_stages"] = "deal_stages"

    @field_validator("entered", "exited")
    @classmethod
    def _names_stage(cls, v: str | None) -> str | None:
        if v is not None and "{stage}" not in v:
            raise ValueError("the column pattern needs {stage} where the stage label is")
        return v

    def matcher(self, pattern: str) -> re.Pattern[str]:
        """A regular expression for the column names the pattern describes; group `stage` is the label."""
        parts = re.split(r"(\{stage\}|\{pipeline\})", pattern)
        body = "".join("(?P<stage>.+?)" if p == "{stage}" else r"(?P<pipeline>[^()]*)" if p == "{pipeline}"
                       else re.escape(p) for p in parts)
        return re.compile(body)


class KindMapping(_Strict):
    entity: Entity
    detect: list[str] = Field(min_length=1, description="headers that must all be present to recognise this kind")
    id: str = Field(min_length=1, description="the external id column")
    fields: dict[str, FieldSpec] = {}
    attributes: dict[str, FieldSpec] = {}
    stage_dates: dict[Stage, str | list[str]] = {}
    current_stage: CurrentStage | None = None
    campaigns: CampaignSpec | None = None
    stage_columns: StageColumns | None = None
    also: list[str] = Field(default=[], description="other kinds this file carries in its columns (a Pipedrive "
                                                    "deals export's Person and Organization columns)")

    @field_validator("attributes")
    @classmethod
    def _attribute_keys(cls, v: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        for key in v:
            if not key.replace("_", "").isalnum() or not key[:1].isalpha():
                raise ValueError(f"attribute key {key!r} must be letters, digits and _")
        return v


class Mapping(_Strict):
    system: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)
    name: str = ""
    timezone: TimeZoneName = "UTC"
    date_format: Literal["ymd", "mdy", "dmy"] | None = None
    owner_domain: str = ""
    kinds: dict[str, KindMapping] = Field(min_length=1)



def _problems(mapping: Mapping) -> list[dict[str, str]]:
    """What the shape alone cannot tell: targets the entity lacks, types they cannot take, refs to missing kinds."""
    out: list[dict[str, str]] = []
    for kind_name, kind in mapping.kinds.items():
        targets = TARGETS[kind.entity]
        an = "an" if kind.entity[0] in "aeiou" else "a"
        for target, spec in kind.fields.items():
            path = f"kinds.{kind_name}.fields.{target}"
            if target not in targets:
                out.append({"field": path, "message": f"{an} {kind.entity} has no field {target!r}; it takes "
                                                      f"{', '.join(sorted(targets))} (keep others as attributes)"})
                continue
            if spec.type not in targets[target]:
                out.append({"field": f"{path}.type", "message": f"{target} takes type "
                                                                f"{' or '.join(targets[target])}, not {spec.type}"})
            if spec.type == "ref" and spec.kind not in mapping.kinds:
                out.append({"field": f"{path}.kind", "message": f"no file kind {spec.kind!r} in this mapping"})
        for target in REQUIRED[kind.entity]:
            if target not in kind.fields:
                out.append({"field": f"kinds.{kind_name}.fields", "message": f"{an} {kind.entity} needs {target!r}"})
        for n, other in enumerate(kind.also):
            if other not in mapping.kinds or other == kind_name:
                out.append({"field": f"kinds.{kind_name}.also.{n}", "message": f"no other file kind {other!r} in "
                                                                               "this mapping"})
        if kind.stage_columns is not None and kind.entity != "opportunity":
            out.append({"field": f"kinds.{kind_name}.stage_columns", "message": (
                "stage columns name deal stages; only an opportunity kind takes them")})
        if kind.stage_dates and kind.entity in ("opportunity", "campaign", "opportunity_history"):
            out.append({"field": f"kinds.{kind_name}.stage_dates", "message": (
                "lifecycle stage dates belong to contacts and accounts; a deal's dates are opened_at and closed_at")})
    return out


def mapping_parse(data: Any, *, source: str) -> Mapping:
    """Validate raw data into a Mapping, or raise a ValidationFailed naming every bad field by its path."""
    if not isinstance(data, dict):
        raise ValidationFailed(f"{source}: a mapping is a YAML mapping with system and kinds", field="(root)")
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        problems = [{"field": ".".join(str(p) for p in e["loc"] if p != "[key]") or "(root)",
                     "message": e["msg"].removeprefix("Value error, ")} for e in exc.errors()]
    else:
        problems = _problems(mapping)
        if not problems:
            return mapping
    lines = "\n  ".join(f"{p['field']}: {p['message']}" for p in problems)
    raise ValidationFailed(f"{source}: the mapping is invalid:\n  {lines}", field=problems[0]["field"],
                           record=source, details=problems)


def mapping_load(path: Path) -> Mapping:
    """Read and validate a mapping file; YAML syntax errors name their line and column."""
    if not path.is_file():
        raise ValidationFailed(f"mapping {path.name} is not a file", field="mapping", record=str(path.name))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ValidationFailed(f"{path.name}: not valid YAML{where}: {getattr(exc, 'problem', exc)}",
                               field="mapping", record=path.name) from None
    except UnicodeDecodeError:
        raise ValidationFailed(f"{path.name}: a mapping file must be UTF-8 text", field="mapping",
                               record=path.name) from None
    return mapping_parse(data, source=path.name)


SHIPPED = ("hubspot", "salesforce", "pipedrive", "maven")


def _shipped_file(name: str) -> str | None:
    """The shipped mapping file named `name` (its file name, or the system it declares: maven → maven_crm)."""
    files = resources.files("smarketing.ingest").joinpath("mappings")
    names = sorted(p.name for p in files.iterdir() if p.name.endswith(".yaml"))
    if f"{name}.yaml" in names:
        return f"{name}.yaml"
    for file_name in names:
        data = yaml.safe_load(files.joinpath(file_name).read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("system") == name:
            return file_name
    return None


def mapping_shipped_path(name: str) -> Path | None:
    """The path of a shipped mapping by its name (`--mapping maven_crm`), None when no shipped mapping has it."""
    file_name = _shipped_file(name)
    if file_name is None:
        return None
    return Path(str(resources.files("smarketing.ingest").joinpath("mappings", file_name)))


def mapping_shipped(name: str) -> Mapping:
    """One of the mappings shipped in `ingest/mappings/` by its name (hubspot, salesforce, maven_crm or the
    system it declares)."""
    files = resources.files("smarketing.ingest").joinpath("mappings")
    file_name = _shipped_file(name)
    if file_name is None:
        available = sorted(p.name.removesuffix(".yaml") for p in files.iterdir() if p.name.endswith(".yaml"))
        raise ValidationFailed(f"no shipped mapping {name!r}; shipped: {', '.join(available)}", field="system")
    text = files.joinpath(file_name).read_text(encoding="utf-8")
    return mapping_parse(yaml.safe_load(text), source=f"mappings/{file_name}")


def mappings_shipped() -> list[Mapping]:
    """Every shipped mapping (the ones present in `ingest/mappings/`)."""
    files = resources.files("smarketing.ingest").joinpath("mappings")
    return [mapping_shipped(p.name.removesuffix(".yaml")) for p in sorted(files.iterdir(), key=lambda p: p.name)
            if p.name.endswith(".yaml")]
