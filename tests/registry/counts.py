"""What a CNML file holds, counted with ElementTree, apart from the importer's own parser."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path


def expected_counts(path: Path) -> dict[str, int]:
    root = ET.parse(path).getroot()
    return {
        "zones": len({z.get("id") for z in root.iter("zone")}),
        "nodes": len({n.get("id") for n in root.iter("node")}),
        "devices": len({d.get("id") for d in root.iter("device")}),
        "radios": len({(r.get("device_id"), r.get("id")) for r in root.iter("radio")}),
        "interfaces": len({i.get("id") for i in root.iter("interface")}),
        "links": len({link.get("id") for link in root.iter("link")}),
        "services": len({s.get("id") for s in root.iter("service")}),
    }


def elements(path: Path, tag: str) -> list[ET.Element]:
    return list(ET.parse(path).getroot().iter(tag))
