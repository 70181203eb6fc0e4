"""What `deploy/` ships works as written: the units run commands that exist, with variables the environment file sets,
and the load balancer's configuration is one nginx accepts."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.cli import build_parser

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def _directives(unit: Path, name: str) -> list[str]:
    return [line.split("=", 1)[1] for line in unit.read_text(encoding="utf-8").splitlines() if line.startswith(f"{name}=")]


def _defined_variables(unit: Path) -> set[str]:
    example = (DEPLOY / "acollida.env.example").read_text(encoding="utf-8")
    names = {line.split("=", 1)[0] for line in example.splitlines() if "=" in line and not line.startswith("#")}
    return names | {value.split("=", 1)[0] for value in _directives(unit, "Environment")}


def test_every_unit_runs_a_command_that_exists_with_variables_that_are_set():
    assert {unit.name for unit in UNITS} >= {"acollida-rasa@.service", "acollida-actions@.service", "acollida-telegram@.service"}
    for unit in UNITS:
        for command in _directives(unit, "ExecStart"):
            missing = set(re.findall(r"\$\{(\w+)\}", command)) - _defined_variables(unit)
            assert not missing, f"{unit.name} uses {missing}, which deploy/acollida.env.example does not set"
            program, *arguments = command.replace("%i", "5005").split()
            assert program.startswith("/opt/acollida/.venv/bin/"), unit.name
            if program.endswith("/acollida"):
                build_parser().parse_args(arguments)  # exits (SystemExit) on a command that does not exist


def test_the_rasa_unit_passes_arguments_rasa_run_accepts():
    from rasa.__main__ import create_argument_parser

    (command,) = _directives(DEPLOY / "systemd" / "acollida-rasa@.service", "ExecStart")
    arguments = command.replace("%i", "5005").replace("${RASA_TOKEN}", "t").replace("${ACOLLIDA_ENDPOINTS}", "endpoints.production.yml").split()[1:]
    parsed = create_argument_parser().parse_args(arguments)
    assert parsed.enable_api and parsed.endpoints == "endpoints.production.yml" and parsed.port == 5005


def test_nginx_accepts_the_load_balancer_configuration(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).is_file():
        pytest.fail("nginx is missing: `make test` installs Debian's nginx package")
    # The TLS server needs a certificate this machine does not have: the same server without TLS, on a spare port.
    site = (DEPLOY / "nginx" / "acollida.conf").read_text(encoding="utf-8")
    site = re.sub(r"\s*ssl_certificate(_key)? [^;]+;", "", site).replace("listen 443 ssl;", "listen 127.0.0.1:18443;", 1).replace("listen 443 ssl;", "listen 127.0.0.1:18444;")
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path};\n  include {tmp_path}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    checked = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
