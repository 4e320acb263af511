from guificloud.entrypoint import service_cli
from guificloud_registry.service import DEFINITION
from guificloud_registry.settings import RegistrySettings

service_cli(DEFINITION, RegistrySettings)()
