from guificloud.entrypoint import service_cli
from guificloud_imagestore.cli import add_seed_command
from guificloud_imagestore.service import DEFINITION

add_seed_command(service_cli(DEFINITION))()
