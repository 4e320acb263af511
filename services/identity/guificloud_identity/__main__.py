from guificloud_identity.cli import app

app()
