"""Inserting many new rows at once: PostgreSQL's COPY where it is there, ``bulk_create`` elsewhere.

A scan writes about 300 verdict rows per repository. Django's ``bulk_create`` compiles an
``INSERT … VALUES`` with one placeholder per value, which cost a worker more time per repository
than the database spent storing them; COPY streams the same values, prepared by the same field
methods (so a JSON column gets JSON, a boolean a boolean), as one statement.

Rows may be model instances or plain :func:`row_type` tuples: building 300 model instances per
scan (Django's ``Model.__init__`` walks every field and sends signals) cost a worker more than the
COPY of their values, so the scan writes tuples with the model's attribute names instead.
"""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models

__all__ = ["insert_instances", "insert_rows", "row_type"]


@functools.cache
def row_type(model: type[models.Model]) -> Any:
    """A named tuple with one field per column ``model`` inserts (attribute names, primary key left out).

    Every value must be given: the model's defaults are not applied.
    """
    return namedtuple(f"{model.__name__}Row", [f.attname for f in _insert_fields(model)])


@functools.cache
def _insert_fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key)


def insert_rows(model: type[models.Model], rows: Sequence[Any], *, batch_size: int | None = None) -> None:
    """Insert ``rows`` (new instances of ``model`` with primary keys unset, or :func:`row_type` tuples)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        instances = [r if isinstance(r, models.Model) else model(**r._asdict()) for r in rows]
        model.objects.bulk_create(instances, batch_size=batch_size)
        return
    fields = _insert_fields(model)
    attnames = [f.attname for f in fields]
    tuples = row_type(model)
    _copy(
        model, fields, (list(row) if isinstance(row, tuples) else [getattr(row, n) for n in attnames] for row in rows)
    )


def _copy(model: type[models.Model], fields: Sequence[models.Field], rows: Iterable[list[Any]]) -> None:
    """COPY ``rows`` (lists of attribute values in the order of ``fields``) into ``model``'s table."""
    # Text, numbers, booleans and keys go to psycopg as they are (that is all their preparation
    # does); the others (JSON, dates) through their field, as an INSERT would send them.
    prepared = [(i, f) for i, f in enumerate(fields) if not isinstance(f, _AS_THEY_ARE)]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        # Django's cursor wraps psycopg's; COPY is psycopg's own.
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for values in rows:
                for i, f in prepared:
                    values[i] = f.get_db_prep_save(values[i], connection)
                copy.write_row(values)


def insert_instances(model: type[models.Model], instances: Sequence[models.Model]) -> None:
    """Insert new ``instances`` and give them their primary keys, as ``bulk_create`` does.

    On PostgreSQL the keys are taken from the table's sequence first (one query) and the rows go
    in with COPY: Django 5.2's ``bulk_create`` sends each column as an array, and psycopg quotes
    those in Python character by character, 1.1 s for 500 scans whose JSON columns hold a few
    kilobytes each (an organisation scan recording its unchanged repos).
    """
    if not instances:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(instances)
        return
    pk = model._meta.pk
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk.column, len(instances)],
        )
        for instance, (key,) in zip(instances, cursor.fetchall(), strict=True):
            instance.pk = key
            instance._state.adding = False
            instance._state.db = connection.alias
    fields = (pk, *_insert_fields(model))
    # pre_save as an INSERT does it: auto_now_add fields get their time.
    _copy(model, fields, [[f.pre_save(i, True) for f in fields] for i in instances])


_AS_THEY_ARE = (models.CharField, models.TextField, models.BooleanField, models.IntegerField, models.ForeignKey)
