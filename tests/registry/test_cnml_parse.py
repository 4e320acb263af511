"""Reading CNML: the real exports, their quirks, and malformed files refused with the line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from guificloud_registry.cnml.parse import CnmlError, parse_bytes
from guificloud_registry.cnml.values import format_date, parse_box, parse_date
from tests.registry.counts import elements, expected_counts

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", ["andoain", "world"])
def test_real_exports_give_the_counts_elementtree_finds(
    name: str, request: pytest.FixtureRequest
) -> None:
    path: Path = request.getfixturevalue(name)
    document = parse_bytes(path.read_bytes(), chunk_size=4096)
    assert document.counts() == expected_counts(path)
    assert document.level == ("detail" if name == "andoain" else "zones")


def test_an_interface_listed_twice_is_one_with_its_addresses(andoain: Path) -> None:
    document = parse_bytes(andoain.read_bytes())
    listed = [i for i in elements(andoain, "interface") if i.get("id") == "96778"]
    assert len(listed) == 4, "under its radio and under its device, with two addresses"
    interface = document.interfaces[96778]
    assert interface.radio_ordinal == 2
    assert set(interface.addresses) == {i.get("ipv4") for i in listed}
    assert sum(len(i.addresses) for i in document.interfaces.values()) == len(
        {(i.get("id"), i.get("ipv4")) for i in elements(andoain, "interface")}
    )


def test_a_link_listed_at_both_ends_is_one_with_two_ends(andoain: Path) -> None:
    document = parse_bytes(andoain.read_bytes())
    both = document.links[70400]
    assert sorted(e[1] for e in both.ends) == [51771, 62292]
    outside = document.links[128438]  # its far end is in another zone
    assert {e[1] for e in outside.ends} == {50965, 78762}


def test_quirks_of_dates_boxes_and_descriptions(andoain: Path, world: Path) -> None:
    assert parse_date("20160201 0629") == datetime(2016, 2, 1, 6, 29, tzinfo=UTC)
    assert format_date(parse_date("20150228 1049")) == "20150228 1049"
    assert parse_box(",,43.331421,43.368000") is None, "partly empty box is no box"
    assert parse_box("-2.04,43.2,-1.99,43.23") == (-2.04, 43.2, -1.99, 43.23)
    zones = parse_bytes(world.read_bytes()).zones
    boxes = [z.get("box", "") for z in elements(world, "zone")]
    partial = [b for b in boxes if b.startswith(",")]
    empty = [b for b in boxes if b == "179.9,89.9,-179.9,-89.9"]  # the exporter's "no nodes"
    assert partial and empty
    assert sum(1 for z in zones if z.fields["min_lon"] is None) == len(partial) + len(empty)
    root = zones[0]
    assert root.ext == 3671 and root.fields["description"].startswith("<p>=ca=</p>")
    devices = {d.ext: d for d in parse_bytes(andoain.read_bytes()).devices}
    assert devices[62292].fields["description"] is None, "&nbsp; says nothing"
    assert devices[48349].fields["description"] == "Andoaingo grafika zerbitzaria<br />"


def _broken(andoain: Path, line: int, old: str, new: str) -> bytes:
    lines = andoain.read_text().splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new)
    return "".join(lines).encode()


@pytest.mark.parametrize(
    ("line", "old", "new", "reason"),
    [
        (300, "<link ", "<link <", "not well-formed"),
        (6, 'lat="43.209975"', 'lat="93.2"', "node lat '93.2' is outside ±90"),
        (6, 'status="Working"', 'status="Broken"', "node status 'Broken'"),
        (7, 'created="20150228 1055"', 'created="2015-02-28"', "not a CNML date"),
        (252, 'id="54621"', 'id="x"', "service id 'x' is not a number"),
        (6, 'antenna_elevation="12"', 'antenna_elevation="99999"', "at most 10000"),
        (16, 'id="82620"', 'id="76951"', "node 76951 is listed twice"),
        (5, 'dns_servers="10.69.12.18"', f'dns_servers="{"d" * 65}"', "longer than 64"),
    ],
)
def test_malformed_files_are_refused_with_line_and_reason(
    andoain: Path, line: int, old: str, new: str, reason: str
) -> None:
    with pytest.raises(CnmlError) as refused:
        parse_bytes(_broken(andoain, line, old, new), chunk_size=1000)
    assert refused.value.line == line
    assert reason in refused.value.reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"<html><body/></html>", "not <cnml>"),
        (b'<!DOCTYPE cnml [<!ENTITY a "b">]><cnml/>', "document type declarations"),
        (b'<cnml><class node_description="12"/></cnml>', "single-node export"),
        (b"<cnml><network/></cnml>", "no <class"),
        (
            b'<cnml><class network_description="zones"/><network>'
            b'<zone id="1" title="a"><zone id="2" parent_id="9" title="b"/></zone>'
            b"</network></cnml>",
            "says parent_id=9 but sits inside zone 1",
        ),
    ],
)
def test_what_is_not_a_zone_export_is_refused(body: bytes, reason: str) -> None:
    with pytest.raises(CnmlError) as refused:
        parse_bytes(body)
    assert reason in str(refused.value)
