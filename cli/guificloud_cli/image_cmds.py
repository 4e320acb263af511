"""``guificloud image …``: push, list and pull images, and manage the publisher keys.

    guificloud image push distro.tar.gz --name guifi-community-distro --version 1.1.0 \\
        --key ~/.config/guificloud/publisher.key --group guifi-publishers
    guificloud image ls --name guifi-community-distro
    guificloud image pull guifi-community-distro:1.1.0 -o distro.tar.gz
    guificloud image keys generate ~/.config/guificloud/publisher.key
    guificloud image keys add ~/.config/guificloud/publisher.key.pub --publisher guifi.net \\
        --names 'guifi-*,guifi-community-distro'
    guificloud image deprecate guifi-community-distro:1.0.0 --admin-token-file ~/.gc-admin
    guificloud image rm guifi-community-distro:1.0.0        # GUIFICLOUD_ADMIN_TOKEN set
    guificloud image gc

Every command acts as the stored login (``guificloud login``). Publishing (push) needs the
publisher role in the group named with ``--group`` (operators need no group); the store
takes only images signed by a key trusted for their name (``keys add --names``), unless it
runs with signatures off (a development setting). Changing the store (keys, deprecate, rm,
gc) is for operators: an operator's login, or the admin token from a file only its owner can
read (``--admin-token-file``; ``guificloud dev`` keeps one in ``.guificloud/admin-token``)
or ``GUIFICLOUD_ADMIN_TOKEN``, never from an argument.

Push and pull resume where an interrupted run stopped: run the same command again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from guificloud.credentials import LoginRequired, caller_auth
from guificloud.secret_files import AdminTokenFile
from guificloud.settings import DEFAULT_PORTS
from guificloud.signing import generate_key, key_id
from guificloud_cli.identity_cmds import group_id
from guificloud_cli.imagestore_client import CHUNK, ImagestoreClient, ImagestoreError, PushRequest
from guificloud_cli.output import Output, OutputOption, show
from guificloud_cli.registry_cmds import Failed

DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORTS['imagestore']}"
FORMATS = {
    ".tar": "tar",
    ".tar.gz": "tar.gz",
    ".tgz": "tar.gz",
    ".tar.xz": "tar.xz",
    ".txz": "tar.xz",
}
PRIVATE_HEADER = "# guificloud ed25519 private key: keep it secret"

image_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Images of the image store: push, list, pull, deprecate, delete; the keys that sign them.",
)
keys_app = typer.Typer(no_args_is_help=True, help="Publisher keys: ed25519, base64 files.")
image_app.add_typer(keys_app, name="keys")

out = Console()
err = Console(stderr=True)

UrlOpt = typer.Option(DEFAULT_URL, "--url", envvar="GUIFICLOUD_IMAGESTORE_URL", help="The store.")


@contextmanager
def client(url: str, token_file: Path | None = None) -> Iterator[ImagestoreClient]:
    """The client, as the stored login or with the admin token (:func:`caller_auth`), with
    its failures said in one line and exit status 1."""
    try:
        with ImagestoreClient(url, auth=caller_auth(token_file)) as c:
            yield c
    except (ImagestoreError, LoginRequired) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    except httpx.HTTPError as exc:
        err.print(f"[red]error:[/red] image store at {url}: {exc}")
        raise typer.Exit(1) from exc


def transfer_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
    )


def tracker(progress: Progress, description: str) -> Callable[[int, int], None]:
    task = progress.add_task(description, total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return update


def guess_format(path: Path) -> str:
    for suffix, fmt in sorted(FORMATS.items(), key=lambda kv: -len(kv[0])):
        if path.name.endswith(suffix):
            return fmt
    raise typer.BadParameter(
        "cannot tell the format from the file name: give --format tar|tar.gz|tar.xz",
        param_hint="--format",
    )


def read_key(path: Path, *, param_hint: str = "--key") -> tuple[str, bool]:
    """The base64 key a file holds, and whether it says it is a private key."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}", param_hint=param_hint) from exc
    values = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if len(values) != 1:
        raise typer.BadParameter(f"{path} does not hold one base64 key", param_hint=param_hint)
    return values[0], any(line.startswith(PRIVATE_HEADER) for line in lines)


@image_app.command("push")
def push(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    name: str = typer.Option(..., "--name", help="Image name, e.g. guifi-community-distro."),
    version: str = typer.Option(..., "--version", help="A new version: published ones stay."),
    arch: str = typer.Option("amd64", "--arch"),
    channel: str = typer.Option("stable", "--channel"),
    format: str | None = typer.Option(None, "--format", help="Default: from the file name."),
    key: Path | None = typer.Option(None, "--key", help="Private key file: sign the image."),
    chunk_size: int = typer.Option(CHUNK, "--chunk-size", min=1, help="Bytes per request."),
    group: str | None = typer.Option(
        None, "--group", help="Publish for this group (name or id), where you are a publisher."
    ),
    url: str = UrlOpt,
) -> None:
    """Upload FILE as a new image version (resumable: run it again after an interruption)."""
    try:
        publisher_group = group_id(group) if group else None
    except (Failed, LoginRequired) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    req = PushRequest(
        path=file,
        name=name,
        version=version,
        arch=arch,
        format=format or guess_format(file),
        channel=channel,
        private_key=read_key(key)[0] if key else None,
        group_id=publisher_group,
    )
    with client(url) as c, transfer_bar() as progress:
        image = c.push(
            req,
            chunk_size=chunk_size,
            hashing=tracker(progress, "hashing"),
            progress=tracker(progress, "uploading"),
            resumed=lambda offset: progress.console.print(f"resuming at byte {offset}"),
        )
    signed = f", signed with key {image['key_id']}" if image.get("key_id") else ""
    out.print(
        f"published {image['name']} {image['version']} ({image['arch']}): "
        f"id={image['id']} digest={image['digest']} size={image['size']}{signed}",
        highlight=False,
        soft_wrap=True,
    )


@image_app.command("ls")
def ls(
    name: str | None = typer.Option(None, "--name"),
    channel: str | None = typer.Option(None, "--channel"),
    arch: str | None = typer.Option(None, "--arch"),
    state: str | None = typer.Option(None, "--state", help="Default: active and deprecated."),
    output: Output | None = OutputOption,
    url: str = UrlOpt,
) -> None:
    """List images, newest first."""
    with client(url) as c:
        images = c.images(name=name, channel=channel, arch=arch, state=state)
    show(images, IMAGE_COLUMNS, _image_row, title=f"images ({len(images)})", output=output)


IMAGE_COLUMNS = ("name", "version", "arch", "channel", "state", "size", "digest", "key")


def _image_row(i: Mapping[str, Any]) -> list[Any]:
    digest = (i["digest"] or "")[:19]
    return [
        i["name"],
        i["version"],
        i["arch"],
        i["channel"],
        i["state"],
        i["size"],
        digest,
        i["key_id"],
    ]


@image_app.command("pull")
def pull(
    ref: str = typer.Argument(..., help="sha256:<hex>, or NAME:VERSION"),
    output: Path | None = typer.Option(None, "-o", "--output", help="Default: from the image."),
    arch: str | None = typer.Option(None, "--arch", help="When the version has several."),
    url: str = UrlOpt,
) -> None:
    """Download an image, checking its digest (resumable: run it again after an interruption)."""
    with client(url) as c:
        image = c.resolve(ref, arch)
        target = output or default_output(image)
        with transfer_bar() as progress:
            c.pull(image, target, progress=tracker(progress, "downloading"))
    out.print(f"{target}: {image['digest']}", highlight=False, soft_wrap=True)


def default_output(image: dict[str, Any]) -> Path:
    if "name" in image:
        return Path(f"{image['name']}-{image['version']}-{image['arch']}.{image['format']}")
    return Path(image["digest"].replace(":", "-"))


def find_image(c: ImagestoreClient, ref: str, arch: str | None) -> dict[str, Any]:
    """An image by id or NAME:VERSION (not by digest: several images may share one)."""
    try:
        return c.image(str(UUID(ref)))
    except ValueError:
        pass
    if ref.startswith("sha256:"):
        raise typer.BadParameter("give the image's id or NAME:VERSION", param_hint="REF")
    return c.resolve(ref, arch)


def described(image: dict[str, Any]) -> str:
    return f"{image['name']} {image['version']} ({image['arch']}) id={image['id']}"


@image_app.command("deprecate")
def deprecate(
    ref: str = typer.Argument(..., help="Image id, or NAME:VERSION"),
    arch: str | None = typer.Option(None, "--arch", help="When the version has several."),
    url: str = UrlOpt,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """No longer offer an image for new deployments (operator only); it stays downloadable."""
    with client(url, token_file) as c:
        image = c.deprecate(find_image(c, ref, arch)["id"])
    out.print(f"deprecated {described(image)}", highlight=False, soft_wrap=True)


@image_app.command("rm")
def rm(
    ref: str = typer.Argument(..., help="Image id, or NAME:VERSION"),
    arch: str | None = typer.Option(None, "--arch", help="When the version has several."),
    url: str = UrlOpt,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """Delete an image nothing uses (operator only); its version is never reused."""
    with client(url, token_file) as c:
        image = c.delete(find_image(c, ref, arch)["id"])
    out.print(f"deleted {described(image)}", highlight=False, soft_wrap=True)


@image_app.command("gc")
def gc(url: str = UrlOpt, token_file: Path | None = AdminTokenFile) -> None:
    """Collect garbage now (operator only): unused blobs and upload leftovers."""
    with client(url, token_file) as c:
        report = c.collect_garbage()
    out.print(
        f"removed {len(report['removed_blobs'])} blob(s), kept {report['kept_blobs']}; "
        f"expired {report['expired_sessions']} upload session(s), "
        f"removed {report['removed_uploads']} upload file(s)",
        highlight=False,
    )


@keys_app.command("generate")
def keys_generate(
    private_file: Path = typer.Argument(..., help="Written 0600; the public key goes to .pub"),
) -> None:
    """Make a new ed25519 key pair for signing images."""
    if private_file.exists():
        raise typer.BadParameter(f"{private_file} exists; not overwritten", param_hint="FILE")
    private, public = generate_key()
    fd = os.open(private_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"{PRIVATE_HEADER}\n{private}\n")
    private_file.with_name(private_file.name + ".pub").write_text(public + "\n")
    out.print(f"key {key_id(public)}: public key {public}", highlight=False, soft_wrap=True)


@keys_app.command("add")
def keys_add(
    public_key: str = typer.Argument(..., help="base64 public key, or a file holding it"),
    publisher: str = typer.Option(..., "--publisher", help="Who signs with it."),
    names: str = typer.Option(
        ...,
        "--names",
        help="Comma-separated image names or patterns ('guifi-*') it may sign; "
        "the distro's name only when given exactly.",
    ),
    url: str = UrlOpt,
    token_file: Path | None = AdminTokenFile,
) -> None:
    """Trust a publisher key for the image names it may sign (operator only); boxes
    receive it with their configuration."""
    value = public_key
    if Path(public_key).is_file():
        value, private = read_key(Path(public_key), param_hint="PUBLIC_KEY")
        if private:
            raise typer.BadParameter(
                "that is a private key: give its .pub file", param_hint="PUBLIC_KEY"
            )
    with client(url, token_file) as c:
        key = c.add_key(publisher, value, [n.strip() for n in names.split(",") if n.strip()])
    bound = ", ".join(key["names"])
    out.print(f"trusted key {key['key_id']} of {key['publisher']} for {bound}", highlight=False)


@keys_app.command("ls")
def keys_ls(
    include_revoked: bool = typer.Option(False, "--all", help="Revoked keys too."),
    output: Output | None = OutputOption,
    url: str = UrlOpt,
) -> None:
    """The publisher keys the store trusts."""
    with client(url) as c:
        keys = c.keys(include_revoked=include_revoked)
    columns = ("key id", "publisher", "names", "public key", "added", "revoked")
    show(keys, columns, _key_row, title=f"keys ({len(keys)})", output=output)


def _key_row(k: Mapping[str, Any]) -> list[Any]:
    names = ", ".join(k["names"])
    return [k["key_id"], k["publisher"], names, k["public_key"], k["created_at"], k["revoked_at"]]


@keys_app.command("rm")
def keys_rm(key_id: str, url: str = UrlOpt, token_file: Path | None = AdminTokenFile) -> None:
    """Revoke a publisher key (operator only): its signatures are no longer accepted."""
    with client(url, token_file) as c:
        c.revoke_key(key_id)
    out.print(f"revoked key {key_id}", highlight=False)


if __name__ == "__main__":
    image_app()
