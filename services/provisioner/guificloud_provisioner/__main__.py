from guificloud.entrypoint import service_cli
from guificloud_provisioner.service import DEFINITION
from guificloud_provisioner.settings import ProvisionerSettings

service_cli(DEFINITION, ProvisionerSettings)()
