from guificloud.entrypoint import service_cli
from guificloud_monitor.service import DEFINITION

service_cli(DEFINITION)()
