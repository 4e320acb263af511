# The box agent, for running simulated boxes next to a compose deployment.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 GUIFICLOUD_LOG_FORMAT=json
WORKDIR /src
COPY pyproject.toml constraints.txt ./
COPY libs libs
COPY cli cli
COPY services services
RUN pip install --no-cache-dir -c constraints.txt .
ENTRYPOINT ["python", "-m", "guificloud_agent"]
