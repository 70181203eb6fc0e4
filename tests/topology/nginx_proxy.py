"""Debian's nginx as the load balancer in front of the replicas, run in the foreground from a tmp dir."""
from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from bot.stack import stop

NGINX = Path("/usr/sbin/nginx")


@dataclass(frozen=True)
class Route:
    """Requests under `location` go round-robin to `ports`; `next_upstream` says when one that
    failed is passed to the next server (nginx never passes a POST on once it was sent to one,
    unless told ``non_idempotent``)."""

    location: str
    upstream: str
    ports: tuple[int, ...]
    next_upstream: str
    # The path the location's prefix is replaced with ("" keeps the request's path as it is).
    strip_to: str = ""
    read_timeout_seconds: int = 60


def configuration(folder: Path, port: int, routes: list[Route]) -> str:
    upstreams = "\n".join(
        f"    upstream {route.upstream} {{\n"
        + "".join(f"        server 127.0.0.1:{upstream_port} max_fails=1 fail_timeout=2s;\n" for upstream_port in route.ports)
        + "    }"
        for route in routes
    )
    locations = "\n".join(
        f"        location {route.location} {{\n"
        f"            proxy_pass http://{route.upstream}{route.strip_to};\n"
        f"            proxy_next_upstream {route.next_upstream};\n"
        f"            proxy_read_timeout {route.read_timeout_seconds}s;\n"
        "        }"
        for route in routes
    )
    return f"""daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log notice;
events {{
    worker_connections 1024;
}}
http {{
    log_format routed '$time_iso8601 $request_method $request_uri $status upstream=$upstream_addr upstream_status=$upstream_status seconds=$request_time';
    access_log {folder}/access.log routed;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    # Bodies and answers stay in memory: nginx's workers (user nobody under root) could not
    # write temp files inside a tmp dir only its owner may enter.
    client_body_buffer_size 1m;
    proxy_max_temp_file_size 0;
    # A replica that is down refuses at once on loopback; one that hangs is given up quickly.
    proxy_connect_timeout 1s;
{upstreams}
    server {{
        listen 127.0.0.1:{port};
{locations}
    }}
}}
"""


@contextlib.contextmanager
def running_nginx(folder: Path, port: int, routes: list[Route]) -> Iterator[Path]:
    """nginx listening on 127.0.0.1:`port`; yields its folder (access.log, error.log)."""
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "nginx.conf"
    conf.write_text(configuration(folder, port, routes), encoding="utf-8")
    with (folder / "nginx.out").open("wb") as output:
        # Its own process group, as bot.stack starts the servers, so that `stop` ends its workers too.
        process = subprocess.Popen(
            [str(NGINX), "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log")],
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _wait_until_listening(port, process, folder)
        yield folder
    finally:
        stop(process)


def _wait_until_listening(port: int, process: subprocess.Popen, folder: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx stopped (exit code {process.returncode}): {(folder / 'error.log').read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nginx did not listen on {port} within {timeout:.0f} s; see {folder / 'error.log'}")
