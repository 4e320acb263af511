from guificloud.entrypoint import service_cli
from guificloud_monitor.service import DEFINITION
from guificloud_monitor.settings import MonitorSettings

service_cli(DEFINITION, MonitorSettings)()
