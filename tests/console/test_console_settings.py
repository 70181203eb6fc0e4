"""The console's settings: working defaults on a loopback host, and a production console refused until it is safe."""
from __future__ import annotations

import stat

import pytest

from bot import settings
from bot.cli import main
from bot.console import config

CONSOLE_VARIABLES = ("ACOLLIDA_CONSOLE_HOST", "ACOLLIDA_CONSOLE_PORT", "ACOLLIDA_CONSOLE_SECRET_KEY", "ACOLLIDA_CONSOLE_ALLOWED_HOSTS",
                     "ACOLLIDA_CONSOLE_SECURE_COOKIES", "ACOLLIDA_CONSOLE_SESSION_HOURS")
STRONG_KEY = "s" * 48


@pytest.fixture(autouse=True)
def console_environment(monkeypatch, tmp_path):
    for name in CONSOLE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ACOLLIDA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'console.db'}")


def _production(monkeypatch, **variables: str) -> None:
    monkeypatch.setenv("ACOLLIDA_CONSOLE_HOST", "0.0.0.0")
    for name, value in variables.items():
        monkeypatch.setenv(f"ACOLLIDA_CONSOLE_{name}", value)


def test_on_a_loopback_host_the_defaults_work_and_a_key_is_generated_once(tmp_path):
    console = config.from_settings()
    assert (settings.console_host(), settings.console_port()) == ("127.0.0.1", 5080)
    assert console.allowed_hosts == ["127.0.0.1", "localhost"] and console.secure_cookies is False and console.session_hours == 8
    kept = tmp_path / "var" / "console-secret"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert len(console.secret_key) >= 32 and kept.read_text().strip() == console.secret_key
    assert config.from_settings().secret_key == console.secret_key


@pytest.mark.parametrize("host", ["localhost", "127.0.0.2", "::1"])
def test_loopback_addresses_are_not_production(monkeypatch, host):
    monkeypatch.setenv("ACOLLIDA_CONSOLE_HOST", host)
    assert not settings.console_in_production()


@pytest.mark.parametrize("variables, refused, fix", [
    ({}, "ACOLLIDA_CONSOLE_SECRET_KEY is not set", "32 characters or more"),
    ({"SECRET_KEY": "short-key"}, "ACOLLIDA_CONSOLE_SECRET_KEY is too weak (9 characters)", "secrets.token_urlsafe"),
    ({"SECRET_KEY": STRONG_KEY}, "ACOLLIDA_CONSOLE_ALLOWED_HOSTS is not set", "e.g. console.example.org"),
    ({"SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "*"}, "ACOLLIDA_CONSOLE_ALLOWED_HOSTS must name the hosts", "console.example.org"),
    ({"SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "console.example.org"}, "ACOLLIDA_CONSOLE_SECURE_COOKIES is off", "ACOLLIDA_CONSOLE_SECURE_COOKIES=true"),
    ({"SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "console.example.org", "SECURE_COOKIES": "false"}, "ACOLLIDA_CONSOLE_SECURE_COOKIES is off", "HTTPS"),
])
def test_a_production_console_is_refused_naming_the_variable_and_the_fix(monkeypatch, tmp_path, variables, refused, fix):
    _production(monkeypatch, **variables)
    with pytest.raises(settings.SettingsError) as error:
        config.from_settings()
    assert refused in str(error.value) and fix in str(error.value)
    assert not (tmp_path / "var" / "console-secret").exists()  # production never generates its own key


def test_a_production_console_with_safe_settings_starts(monkeypatch):
    _production(monkeypatch, SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="console.example.org, *.osona.example", SECURE_COOKIES="true")
    console = config.from_settings()
    assert console.allowed_hosts == ["console.example.org", "*.osona.example"] and console.secure_cookies and console.secret_key == STRONG_KEY


@pytest.mark.parametrize("name, value, read, message", [
    ("PORT", "eighty", settings.console_port, "ACOLLIDA_CONSOLE_PORT must be a whole number"),
    ("SESSION_HOURS", "0", settings.console_session_hours, "ACOLLIDA_CONSOLE_SESSION_HOURS must be more than 0"),
    ("SECURE_COOKIES", "maybe", settings.console_secure_cookies, "ACOLLIDA_CONSOLE_SECURE_COOKIES must be true or false"),
    ("ALLOWED_HOSTS", "console.*.org", settings.console_allowed_hosts, "a wildcard may only start one"),
])
def test_values_that_cannot_work_are_named(monkeypatch, name, value, read, message):
    monkeypatch.setenv(f"ACOLLIDA_CONSOLE_{name}", value)
    with pytest.raises(settings.SettingsError, match=message):
        read()


def test_acollida_console_refuses_to_start_in_production(monkeypatch, capsys):
    _production(monkeypatch, SECRET_KEY="weak")
    assert main(["console"]) == 2
    assert "cannot start the console: ACOLLIDA_CONSOLE_SECRET_KEY is too weak" in capsys.readouterr().err


def test_acollida_run_refuses_to_start_anything_with_a_production_console_that_is_not_safe(monkeypatch, capsys):
    _production(monkeypatch, SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="console.example.org")
    assert main(["run", "--no-chat"]) == 2
    captured = capsys.readouterr()
    assert "cannot start: ACOLLIDA_CONSOLE_SECURE_COOKIES is off" in captured.err and "starting" not in captured.out
