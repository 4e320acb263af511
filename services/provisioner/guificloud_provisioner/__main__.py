from guificloud.entrypoint import service_cli
from guificloud_provisioner.service import DEFINITION

service_cli(DEFINITION)()
