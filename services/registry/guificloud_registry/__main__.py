from guificloud.entrypoint import service_cli
from guificloud_registry.service import DEFINITION

service_cli(DEFINITION)()
