"""A hot query compiled once per process, then run with new values.

The ORM compiles a queryset into SQL on every evaluation; for a one-row lookup by
key that is more CPU than the database's answer (a relayed request's device
lookup: about 0.4 ms to compile, 0.3 ms to run and build the instance; docs/streams.md,
"Short requests"). ``CompiledLookup`` compiles the queryset once, with stand-in values
for its parameters, and afterwards only swaps in the real values: the SQL is the
ORM's own, so the rows, the conditions and the instances are what ``.first()`` of
the same queryset gives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import connections, models, router

M = TypeVar("M", bound=models.Model)


class CompiledLookup(Generic[M]):
    """``build(**marks)`` returns the queryset; ``marks`` are stand-in values, each
    distinct from any real one, that ``first(**values)`` replaces."""

    def __init__(self, model: type[M], build: Callable[..., models.QuerySet[M]], **marks: Any):
        self._model = model
        self._build = build
        self._marks = marks
        self._compiled: dict[str, tuple[str, list[Any], list[str], dict, Any]] = {}
        self._lock = threading.Lock()

    def first(self, **values: Any) -> M | None:
        alias = router.db_for_read(self._model)
        connection = connections[alias]
        sql, params, names, converters, fields = self._for(alias)
        actual = list(params)
        for index, name in fields.items():
            actual[index] = self._field(name).get_db_prep_value(
                self._field(name).get_prep_value(values[name]), connection
            )
        with connection.cursor() as cursor:
            cursor.execute(sql, actual)
            row = cursor.fetchone()
        if row is None:
            return None
        row = list(row)
        for index, (functions, expression) in converters.items():
            for convert in functions:
                row[index] = convert(row[index], expression, connection)
        return self._model.from_db(alias, names, row)

    def _field(self, name: str) -> models.Field:
        field = self._model._meta.pk if name == "pk" else self._model._meta.get_field(name)
        if not isinstance(field, models.Field):
            raise ValueError(f"{name} is not a column of {self._model.__name__}")
        return field

    def _for(self, alias: str):
        compiled = self._compiled.get(alias)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(alias) or self._compile(alias)
                self._compiled[alias] = compiled
        return compiled

    def _compile(self, alias: str):
        connection = connections[alias]
        queryset = self._build(**self._marks).order_by()[:1]
        compiler = queryset.query.get_compiler(alias)
        sql, params = compiler.as_sql()
        fields: dict[int, str] = {}
        for name, mark in self._marks.items():
            prepared = self._field(name).get_db_prep_value(
                self._field(name).get_prep_value(mark), connection
            )
            positions = [index for index, param in enumerate(params) if param == prepared]
            if len(positions) != 1:
                # A value the ORM folded or repeated: this helper cannot swap it safely.
                raise ValueError(f"{name}: {len(positions)} parameters match its stand-in")
            fields[positions[0]] = name
        if len(fields) != len(params):
            raise ValueError("the query has parameters that are not stand-ins")
        names = [column.target.attname for column, _sql, _alias in compiler.select]
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        return sql, list(params), names, converters, fields
