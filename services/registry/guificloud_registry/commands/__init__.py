"""What a member does in the registry, as functions of a unit of work.

Each command checks, changes, emits the event with the changed fields and commits; the API
and the CLI are thin layers over these. A command that creates leaves the commit to its
caller, which stores the response in the same transaction (``Idempotency-Key``).
"""

from guificloud_registry.commands.devices import (
    add_device,
    get_device,
    hardware_of,
    list_devices,
    remove_device,
    update_device,
)
from guificloud_registry.commands.nodes import (
    create_node,
    delete_node,
    get_node,
    move_node,
    update_node,
)
from guificloud_registry.commands.services import (
    add_service,
    get_service,
    remove_service,
    update_service,
)
from guificloud_registry.commands.zones import create_zone, delete_zone, get_zone, update_zone

__all__ = [
    "add_device",
    "add_service",
    "create_node",
    "create_zone",
    "delete_node",
    "delete_zone",
    "get_device",
    "get_node",
    "get_service",
    "get_zone",
    "hardware_of",
    "list_devices",
    "move_node",
    "remove_device",
    "remove_service",
    "update_device",
    "update_node",
    "update_service",
    "update_zone",
]
