from guificloud_agent.cli import app

app(prog_name="python -m guificloud_agent")
