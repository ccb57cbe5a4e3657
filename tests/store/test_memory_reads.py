"""The memory store's tables say which fields each index and derived value reads, and a row
update leaves alone the ones that read none of the fields it changes. A declaration that
misses a field would leave an index stale without a sound: these tests change every field a
declaration leaves out, on generated rows, and require each maker's answer to stay the same."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.domain.model import VMSnapshot
from harness.domain.states import VMSnapshotState, VMSnapshotType
from harness.store.memory_tables import MemoryStore

ENTITIES: dict[str, type] = {"vm_snapshots": VMSnapshot}

small = st.integers(min_value=1, max_value=4)
stamps = st.none() | st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2024, 1, 3))
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "int": small,
    "int | None": st.none() | small,
    "str": st.sampled_from(["a", "b"]),
    "str | None": st.none() | st.sampled_from(["a", "b"]),
    "bool | None": st.none() | st.booleans(),
    "datetime | None": stamps,
    "VMSnapshotType": st.sampled_from(list(VMSnapshotType)),
    "VMSnapshotState": st.sampled_from(list(VMSnapshotState)),
    "dict[str, str]": st.dictionaries(st.sampled_from(["k"]), st.sampled_from(["v"])),
}


def rows_of(entity: type) -> st.SearchStrategy[Any]:
    fields = {f.name: VALUES[str(f.type)] for f in dataclasses.fields(entity)}
    return st.fixed_dictionaries(fields).map(lambda values: entity(**values))


def test_every_table_that_declares_reads_is_checked() -> None:
    declaring = {name for name, table in MemoryStore().tables.items() if table.declared_reads()}
    assert declaring and declaring <= set(ENTITIES)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_field_a_declaration_leaves_out_never_changes_what_its_maker_answers(data: st.DataObject) -> None:
    for table_name, entity in ENTITIES.items():
        declared = MemoryStore().tables[table_name].declared_reads()
        row = data.draw(rows_of(entity))
        other = data.draw(rows_of(entity))
        for view, (make, reads) in declared.items():
            for f in dataclasses.fields(entity):
                if f.name in reads:
                    continue
                changed = dataclasses.replace(row, **{f.name: getattr(other, f.name)})
                assert make(changed) == make(row), f"{table_name}.{view} reads {f.name}, not declared"


def test_the_check_catches_a_missing_field() -> None:
    declared = MemoryStore().tables["vm_snapshots"].declared_reads()
    make, _ = declared["current"]
    row = VMSnapshot(1, "u", "n", "d", None, 7, 1, 1, 1, VMSnapshotType.Disk, VMSnapshotState.Ready, current=True)
    assert make(dataclasses.replace(row, removed=datetime(2024, 1, 1))) != make(row)  # "removed" must be declared
