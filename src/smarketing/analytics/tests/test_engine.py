"""The engine opens by configuration and serves the same typed datasets from Django data or frames."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from smarketing.analytics.datasets import SCHEMAS, frames_from
from smarketing.analytics.engine import open_engine
from smarketing.analytics.registry import run_query
from smarketing.analytics.tests.test_engines_agree import SPECS, company  # noqa: F401 - the shared fixture
from smarketing.core.errors import ValidationFailed
from smarketing.testing.factories import ContactFactory, OpportunityFactory, TouchpointFactory


@pytest.mark.django_db
def test_duckdb_engine_reads_django_tables_with_typed_schemas():
    # given a contact with a touchpoint and an opportunity in the application database
    tp = TouchpointFactory(value=12.5)
    OpportunityFactory(account=tp.contact.account, primary_contact=tp.contact, amount=1000)
    # when the default engine opens
    with open_engine("duckdb") as engine:
        # then every dataset has its declared schema and the rows
        for name, schema in SCHEMAS.items():
            assert engine.table(name).schema() == schema, name
        touch = engine.execute(engine.table("touchpoints"))
        contacts = engine.execute(engine.table("contacts"))
        opps = engine.execute(engine.table("opportunities"))
    assert touch["value"].tolist() == [12.5]
    assert touch["occurred_at"].iloc[0] == pd.Timestamp(datetime(2026, 2, 1, 15, tzinfo=UTC))
    assert contacts["segment"].tolist() == ["mid_market"]
    assert opps["amount"].tolist() == [1000.0]


def test_engine_from_frames_fills_missing_columns_and_datasets():
    # given frames naming only some columns
    frames = frames_from(contacts=pd.DataFrame({"id": [1, 2], "lead_source": ["web", None]}))
    # when read back
    with open_engine("duckdb", frames=frames) as engine:
        contacts = engine.execute(engine.table("contacts").order_by("id"))
        changes = engine.execute(engine.table("stage_changes"))
    # then the missing columns are null and the missing datasets are empty
    assert contacts["lead_source"].tolist()[0] == "web"
    assert contacts["account_id"].isna().all()
    assert len(changes) == 0


def test_unknown_column_in_frame_is_named():
    with pytest.raises(ValidationFailed) as err:
        frames_from(contacts=pd.DataFrame({"id": [1], "colour": ["red"]}))
    assert err.value.field == "colour"


def test_unknown_engine_and_dataset_are_named(settings):
    settings.SMARKETING = {**settings.SMARKETING, "ANALYTICS_ENGINE": "oracle"}
    with pytest.raises(ValidationFailed) as err:
        open_engine()
    assert err.value.field == "ANALYTICS_ENGINE"
    with open_engine("duckdb", frames=frames_from()) as engine, pytest.raises(ValidationFailed) as err2:
        engine.table("deals")
    assert err2.value.field == "dataset"


@pytest.mark.django_db
def test_postgres_engine_needs_postgresql(settings):
    from django.db import connection

    if connection.vendor == "postgresql":
        # given PostgreSQL, the engine runs in place over the same transaction
        ContactFactory()
        engine = open_engine("postgres")
        assert len(engine.execute(engine.table("contacts"))) == 1
    else:
        with pytest.raises(ValidationFailed) as err:
            open_engine("postgres")
        assert err.value.field == "ANALYTICS_ENGINE"


@pytest.mark.django_db(transaction=True)
def test_the_store_engine_compiles_each_query_once_per_process(company, settings, tmp_path, monkeypatch):  # noqa: F811
    from ibis.backends.duckdb import Backend

    from smarketing.analytics import engine as engine_module

    # Given a company whose history is read from the store
    settings.SMARKETING = {**settings.SMARKETING, "LAKE_URL": str(tmp_path / "lake"), "ANALYTICS_STORE": "lake"}
    engine_module._COMPILED.clear()
    with open_engine("duckdb") as eng:
        first = run_query(SPECS[0], engine=eng).model_dump(mode="json", exclude={"data_as_of"})
    compiled = dict(engine_module._COMPILED)
    calls: list[object] = []
    compile_sql = Backend.compile
    monkeypatch.setattr(Backend, "compile", lambda self, expr, *a, **k: calls.append(expr) or compile_sql(self, expr, *a, **k))
    # When another engine (a later command or page) runs the same query
    with open_engine("duckdb") as eng:
        again = run_query(SPECS[0], engine=eng).model_dump(mode="json", exclude={"data_as_of"})
    # Then it compiles nothing new and answers the same
    assert compiled and compiled == engine_module._COMPILED and calls == []
    assert again == first and first["total"]["entered"] == 12
