"""The stored login: it lives in :mod:`guificloud.credentials`, where the agent's commands
find it too."""

from guificloud.credentials import (
    CREDENTIALS_ENV,
    DEFAULT_IDENTITY_URL,
    IDENTITY_URL_ENV,
    TOKEN_ENV,
    AdminTokenAuth,
    BearerAuth,
    LoginRequired,
    StoredLogin,
    caller_auth,
    client_auth,
    credentials_file,
    exchange,
    forget,
    load,
    save,
)

__all__ = [
    "CREDENTIALS_ENV",
    "DEFAULT_IDENTITY_URL",
    "IDENTITY_URL_ENV",
    "TOKEN_ENV",
    "AdminTokenAuth",
    "BearerAuth",
    "LoginRequired",
    "StoredLogin",
    "caller_auth",
    "client_auth",
    "credentials_file",
    "exchange",
    "forget",
    "load",
    "save",
]
