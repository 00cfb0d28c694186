"""The deployment files in deploy/: parsed and checked here, without network or Docker.

The systemd unit, Dockerfile, compose file and nginx server block are what a province's IT
officer copies onto a server; a typo there only shows on that server. So each file is parsed
and its key settings asserted, the files are checked against each other (paths, port, the
environment file against the real settings), and the tools that can validate them offline
(`systemd-analyze verify`, `nginx -t`) are run when this machine has them.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "motcongmot.service"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
NGINX = DEPLOY / "nginx.conf"
ENV_EXAMPLE = DEPLOY / "motcongmot.env.example"

STATE_DIR = "/var/lib/motcongmot"
ENV_FILE = "/etc/motcongmot/motcongmot.env"
PORT = 8080
# Settings announced but not yet in bot.settings.Settings: allowed in the environment file.
UPCOMING = {"BACKUP_DIR", "BACKUP_KEEP", "BACKUP_HOUR", "TELEGRAM_MODE", "TELEGRAM_WEBHOOK_SECRET"}
# The only paths the internet may reach through nginx.
PROXIED = {"/zalo/webhook", "/telegram/webhook", "/files/", "/healthz"}
TELEGRAM_TOKEN = "123456789:AAHk-fake_token_for_deploy_tests"
ZALO_TOKEN = "1459232241454765289:fake-zalo-secret"
ROOT_USERS = {"root", "0"}


# ---------------------------------------------------------------- systemd


def unit_entries(path: Path = UNIT) -> dict[str, list[tuple[str, str]]]:
    """Every `Key=value` of a unit file by section, in order, repeated keys kept."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = pending + raw.strip()
        pending = ""
        if not line or line[0] in "#;":
            continue
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"{path.name}: {line!r} is outside any section"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: {line!r} is not Key=value"
        current.append((key.strip(), value.strip()))
    return sections


def unit_values(section: str, key: str) -> list[str]:
    return [v for k, v in unit_entries().get(section, []) if k == key]


def unit_value(section: str, key: str) -> str | None:
    """The effective value: systemd keeps the last assignment of a single-valued key."""
    values = unit_values(section, key)
    return values[-1] if values else None


def unit_environment() -> dict[str, str]:
    found: dict[str, str] = {}
    for value in unit_values("Service", "Environment"):
        for item in shlex.split(value):
            name, _, setting = item.partition("=")
            found[name] = setting
    return found


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(s|sec|min)?", value)
    assert match, f"unexpected time span {value!r}"
    return float(match[1]) * (60 if match[2] == "min" else 1)


def truthy(value: str | None) -> bool:
    return (value or "").lower() in {"yes", "true", "on", "1"}


def test_unit_parses_with_configparser() -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    assert {"Unit", "Service", "Install"} <= set(parser.sections())


def test_unit_runs_the_installed_console_script() -> None:
    exec_start = unit_values("Service", "ExecStart")
    assert len(exec_start) == 1, exec_start
    argv = shlex.split(exec_start[0])
    assert argv == ["/opt/motcongmot/.venv/bin/motcongmot", "run"]
    assert exec_start[0].endswith("motcongmot run")
    assert unit_value("Service", "Type") in (None, "simple", "exec")


def test_unit_restarts_on_failure_and_stops_in_time() -> None:
    assert unit_value("Service", "Restart") == "on-failure"
    assert seconds(unit_value("Service", "RestartSec") or "") == 5
    stop = seconds(unit_value("Service", "TimeoutStopSec") or "")
    # The bot stops within 10 s of SIGTERM: give it more, but not minutes.
    assert 10 < stop <= 30
    assert unit_value("Service", "KillSignal") in (None, "SIGTERM")
    # A configuration error exits 2: restarting it every 5 s would only fill the journal.
    assert "2" in (unit_value("Service", "RestartPreventExitStatus") or "").split()


def test_unit_reads_the_environment_file() -> None:
    assert unit_values("Service", "EnvironmentFile") == [ENV_FILE]


def test_unit_does_not_run_as_root() -> None:
    if truthy(unit_value("Service", "DynamicUser")):
        return
    user = unit_value("Service", "User")
    assert user, "without User= or DynamicUser=yes the service runs as root"
    assert user not in ROOT_USERS
    assert unit_value("Service", "Group") not in ROOT_USERS
    assert not (unit_value("Service", "AmbientCapabilities") or "").strip()


def test_unit_keeps_database_and_backups_in_the_state_directory() -> None:
    state = (unit_value("Service", "StateDirectory") or "").split()
    writable = (unit_value("Service", "ReadWritePaths") or "").split()
    assert "motcongmot" in state or STATE_DIR in writable
    if "motcongmot" in state:
        assert "motcongmot/backups" in state
    assert unit_value("Service", "WorkingDirectory") == STATE_DIR
    env = unit_environment()
    assert env["DATABASE_PATH"] == f"{STATE_DIR}/motcongmot.db"
    assert env["BACKUP_DIR"] == f"{STATE_DIR}/backups"
    assert env["WEBHOOK_LISTEN"] == f"127.0.0.1:{PORT}"  # nginx in front; nothing else sees it
    assert (unit_value("Service", "UMask") or "0022")[-2:] == "77"  # personal data


def test_unit_is_hardened() -> None:
    assert truthy(unit_value("Service", "NoNewPrivileges"))
    assert unit_value("Service", "ProtectSystem") == "strict"
    assert unit_value("Service", "ProtectHome") in ("yes", "true", "read-only", "tmpfs")
    assert truthy(unit_value("Service", "PrivateTmp"))
    assert truthy(unit_value("Service", "PrivateDevices"))
    assert unit_value("Service", "CapabilityBoundingSet") == ""


def test_unit_starts_at_boot_after_the_network() -> None:
    assert unit_value("Install", "WantedBy") == "multi-user.target"
    assert "network-online.target" in (unit_value("Unit", "After") or "").split()
    assert "network-online.target" in (unit_value("Unit", "Wants") or "").split()


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed")
    # verify insists that ExecStart exists: point it at this checkout's console script.
    binary = Path(sys.executable).parent / "motcongmot"
    command = f"{binary} run" if binary.exists() else f"{sys.executable} -m bot run"
    text = UNIT.read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^ExecStart=.*$", f"ExecStart={command}", text)
    assert count == 1
    copy = tmp_path / "motcongmot.service"
    copy.write_text(text, encoding="utf-8")
    run = subprocess.run(
        [tool, "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = run.stdout + run.stderr
    # Unknown keys and bad values are only warnings (exit 0): any line about our unit fails.
    ours = [line for line in output.splitlines() if "motcongmot.service" in line]
    assert run.returncode == 0 and not ours, output


# ---------------------------------------------------------------- Dockerfile


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; `\\` continuations joined, comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue  # comments (and parser directives) also inside continuations
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continuation"
    return found


def docker_args(value: str) -> list[str]:
    """Exec form (a JSON array) or shell form, as a list of words."""
    if value.startswith("["):
        parsed = json.loads(value)
        assert isinstance(parsed, list)
        return [str(v) for v in parsed]
    return shlex.split(value)


def dockerfile_healthcheck() -> list[str]:
    checks = [v for k, v in dockerfile_instructions() if k == "HEALTHCHECK"]
    assert len(checks) == 1, checks
    options, sep, command = checks[0].partition("CMD ")
    assert sep, checks[0]
    assert all(o.startswith("--") for o in options.split()), options
    return docker_args(command.strip())


def test_dockerfile_base_and_install() -> None:
    instructions = dockerfile_instructions()
    froms = [v for k, v in instructions if k == "FROM"]
    assert froms and froms[0].split()[0] == "python:3.11-slim"
    runs = " ".join(v for k, v in instructions if k == "RUN")
    assert re.search(r"pip install (?:\S+ )*--no-cache-dir (?:\S+ )*\.(?:\s|$)", runs), runs
    # Copying the whole context would put a local .env (the tokens) into the image.
    copies = [docker_args(v) for k, v in instructions if k in {"COPY", "ADD"}]
    sources = [a for args in copies for a in args[:-1] if not a.startswith("--")]
    assert not {".", "./", "*"} & set(sources), copies
    copied = {Path(source).parts[0] for source in sources}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {p.split(".")[0] for p in pyproject["tool"]["setuptools"]["packages"]}
    assert {"pyproject.toml", "README.md"} | packages <= copied


def test_dockerfile_runs_motcongmot_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    kinds = [k for k, _ in instructions]
    assert kinds.count("CMD") == 1
    cmd_at = kinds.index("CMD")
    users = [v for k, v in instructions[:cmd_at] if k == "USER"]
    assert users, "no USER before CMD: the bot would run as root"
    assert users[-1].split(":")[0] not in ROOT_USERS
    assert not [v for k, v in instructions[cmd_at:] if k == "USER"]
    assert docker_args(instructions[cmd_at][1]) == ["motcongmot", "run"]
    assert [v for k, v in instructions if k == "STOPSIGNAL"] == ["SIGTERM"]
    assert "ENTRYPOINT" not in kinds


def test_dockerfile_volume_environment_and_port() -> None:
    instructions = dockerfile_instructions()
    kinds = [k for k, _ in instructions]
    volumes = [docker_args(v) for k, v in instructions if k == "VOLUME"]
    assert any("/data" in v for v in volumes)
    # The volume's owner comes from the image: /data must be made and chowned before VOLUME.
    before = " ".join(v for k, v in instructions[: kinds.index("VOLUME")] if k == "RUN")
    assert "/data" in before and "chown" in before
    env: dict[str, str] = {}
    for value in (v for k, v in instructions if k == "ENV"):
        for item in shlex.split(value):
            name, _, setting = item.partition("=")
            env[name] = setting
    assert env["DATABASE_PATH"] == "/data/motcongmot.db"
    assert env["BACKUP_DIR"] == "/data/backups"
    assert env["WEBHOOK_LISTEN"] == f"0.0.0.0:{PORT}"
    assert [v for k, v in instructions if k == "EXPOSE"] == [str(PORT)]


def test_dockerfile_healthcheck_uses_python_not_curl() -> None:
    command = dockerfile_healthcheck()
    assert command[:2] == ["python", "-c"], command
    assert f"http://127.0.0.1:{PORT}/healthz" in command[2]
    assert "urllib" in command[2]
    compile(command[2], "HEALTHCHECK", "exec")


def test_docker_build_context_leaves_secrets_out() -> None:
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [line.strip() for line in ignore if line.strip() and not line.startswith("#")]
    assert rules[0] in {"*", "**"}, "exclude everything, then re-include what the build needs"
    assert not any(".env" in rule or ".venv" in rule for rule in rules if rule.startswith("!"))
    assert "motcongmot.env" in (DEPLOY / ".gitignore").read_text(encoding="utf-8").split()


# ---------------------------------------------------------------- compose


def _compose_with_yaml() -> dict[str, object] | None:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        return None
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def compose_healthcheck() -> list[str]:
    loaded = _compose_with_yaml()
    if loaded is not None:
        (service,) = loaded["services"].values()  # type: ignore[attr-defined]
        test = service["healthcheck"]["test"]
        assert isinstance(test, list) and test[0] == "CMD", test
        return [str(v) for v in test[1:]]
    # Without PyYAML: the block list under `test:` is this file's form.
    text = COMPOSE.read_text(encoding="utf-8")
    block = re.search(r"(?m)^\s+test:\s*\n((?:\s+- .*\n)+)", text)
    assert block, "no healthcheck test list in compose.yaml"
    items = [line.strip()[2:].strip() for line in block[1].splitlines()]
    items = [json.loads(i) if i.startswith('"') else i for i in items]
    assert items[0] == "CMD", items
    return items[1:]


def compose_environment() -> dict[str, str]:
    """The service's `environment:` mapping (it wins over env_file)."""
    loaded = _compose_with_yaml()
    if loaded is not None:
        (service,) = loaded["services"].values()  # type: ignore[attr-defined]
        return {str(k): str(v) for k, v in (service.get("environment") or {}).items()}
    text = COMPOSE.read_text(encoding="utf-8")
    block = re.search(r"(?m)^(\s+)environment:\s*\n((?:\1\s+[A-Z_]+:.*\n)+)", text)
    if block is None:
        return {}
    pairs = (line.strip().partition(":") for line in block[2].splitlines())
    return {name: value.strip().strip("\"'") for name, _, value in pairs}


def test_compose_service() -> None:
    loaded = _compose_with_yaml()
    if loaded is None:
        _check_compose_by_regex(COMPOSE.read_text(encoding="utf-8"))
        return
    services = loaded["services"]
    assert isinstance(services, dict) and len(services) == 1
    (service,) = services.values()
    assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    env_file = service["env_file"]
    assert (env_file if isinstance(env_file, list) else [env_file]) == ["motcongmot.env"]
    assert service["restart"] == "unless-stopped"
    assert service["ports"] == [f"127.0.0.1:{PORT}:{PORT}"]
    assert str(service["user"]).split(":")[0] not in ROOT_USERS
    mounts = [str(v).split(":") for v in service["volumes"]]
    named = [m[0] for m in mounts if m[1] == "/data"]
    assert named and named[0] in (loaded.get("volumes") or {}), "a named volume for /data"
    assert "healthcheck" in service
    assert seconds(str(service.get("stop_grace_period", "10s"))) > 10


def test_compose_keeps_state_on_the_volume_and_listens_on_the_published_port() -> None:
    environment = compose_environment()
    assert environment.get("DATABASE_PATH", "/data/motcongmot.db").startswith("/data/")
    assert environment.get("BACKUP_DIR", "/data/backups").startswith("/data/")
    assert environment.get("WEBHOOK_LISTEN", f"0.0.0.0:{PORT}") == f"0.0.0.0:{PORT}"


def _check_compose_by_regex(text: str) -> None:
    assert len(re.findall(r"(?m)^  [A-Za-z0-9_.-]+:\s*$", text.split("\nvolumes:")[0])) == 1
    assert re.search(r"(?m)^\s+context:\s*\.\.\s*$", text)
    assert re.search(r"(?m)^\s+dockerfile:\s*deploy/Dockerfile\s*$", text)
    assert re.search(r"(?m)^\s+env_file:\s*(?:- )?motcongmot\.env\s*$", text)
    assert re.search(r"(?m)^\s+restart:\s*unless-stopped\s*$", text)
    assert re.search(rf"(?m)^\s+- \"?127\.0\.0\.1:{PORT}:{PORT}\"?\s*$", text)
    user = re.search(r"(?m)^\s+user:\s*\"?([^\s\":]+)", text)
    assert user and user[1] not in ROOT_USERS
    volume = re.search(r"(?m)^\s+- ([A-Za-z0-9_-]+):/data\s*$", text)
    assert volume, "a named volume for /data"
    top = text.split("\nvolumes:", 1)
    assert len(top) == 2 and re.search(rf"(?m)^  {volume[1]}:", top[1])
    assert re.search(r"(?m)^\s+healthcheck:\s*$", text) and "/healthz" in text
    assert re.search(r"(?m)^\s+stop_grace_period:\s*(\d+)s", text)


def test_compose_healthcheck_matches_the_image() -> None:
    command = compose_healthcheck()
    assert command == dockerfile_healthcheck()


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        code = self.status if self.path == "/healthz" else 404
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[tuple[HTTPServer, type[_Health]]]:
    handler = type("Handler", (_Health,), {"status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def _run_check(command: list[str], port: int) -> int:
    code = command[2].replace(f"127.0.0.1:{PORT}", f"127.0.0.1:{port}")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30, check=False)
    return run.returncode


@pytest.mark.parametrize("source", ["Dockerfile", "compose.yaml"])
def test_healthcheck_command_follows_healthz(
    source: str, health_server: tuple[HTTPServer, type[_Health]]
) -> None:
    """The check itself, run against a stand-in /healthz: 200 healthy, 503 or nothing not."""
    command = dockerfile_healthcheck() if source == "Dockerfile" else compose_healthcheck()
    server, handler = health_server
    port = server.server_address[1]
    assert _run_check(command, port) == 0
    handler.status = 503
    assert _run_check(command, port) != 0
    server.shutdown()
    server.server_close()
    assert _run_check(command, port) != 0


# ---------------------------------------------------------------- nginx

Block = list["Directive"]
Directive = tuple[list[str], "Block | None"]


def nginx_parse(text: str) -> Block:
    """Directives as (words, children or None), comments dropped; enough for this file."""
    tokens = re.findall(r"\"[^\"]*\"|'[^']*'|[{};]|[^\s{};\"']+", re.sub(r"#[^\n]*", "", text))
    position = 0

    def block(closing: bool) -> Block:
        nonlocal position
        found: Block = []
        words: list[str] = []
        while position < len(tokens):
            token = tokens[position]
            position += 1
            if token == ";":
                found.append((words, None))
                words = []
            elif token == "{":
                found.append((words, block(True)))
                words = []
            elif token == "}":
                assert closing and not words, f"unexpected }} near {words}"
                return found
            else:
                words.append(token.strip("\"'"))
        assert not closing and not words, "nginx.conf ends inside a block or directive"
        return found

    return block(False)


def directives(children: Block, name: str) -> list[Directive]:
    return [d for d in children if d[0] and d[0][0] == name]


def servers() -> list[Block]:
    found = [kids for words, kids in nginx_parse(NGINX.read_text(encoding="utf-8"))]
    assert all(kids is not None for kids in found), "only server blocks at the top"
    return [kids for kids in found if kids is not None]


def listens(server: Block) -> list[list[str]]:
    return [words[1:] for words, _ in directives(server, "listen")]


def https_server() -> Block:
    found = [s for s in servers() if any("443" in w[0] for w in listens(s))]
    assert len(found) == 1
    return found[0]


def locations(server: Block) -> dict[str, Block]:
    found: dict[str, Block] = {}
    for words, kids in directives(server, "location"):
        assert kids is not None
        found[words[-1]] = kids
    return found


def test_nginx_redirects_http_to_https() -> None:
    plain = [s for s in servers() if any(w[0] in {"80", "[::]:80"} for w in listens(s))]
    assert len(plain) == 1
    server = plain[0]
    assert directives(server, "server_name")[0][0][1:] == ["bot.example.vn"]
    redirects = [server, *(kids for path, kids in locations(server).items() if path == "/")]
    assert any(
        words[1:] == ["301", "https://$host$request_uri"]
        for block in redirects
        for words, _ in directives(block, "return")
    )
    assert not any(directives(kids, "proxy_pass") for kids in locations(server).values())


def test_nginx_terminates_tls() -> None:
    server = https_server()
    assert all("ssl" in words for words in listens(server))
    assert directives(server, "server_name")[0][0][1:] == ["bot.example.vn"]
    certificate = directives(server, "ssl_certificate")[0][0][1]
    key = directives(server, "ssl_certificate_key")[0][0][1]
    assert certificate.endswith("fullchain.pem") and key.endswith("privkey.pem")
    assert directives(server, "client_max_body_size")[0][0][1:] == ["1m"]


def test_nginx_proxies_only_the_bot_paths() -> None:
    server = https_server()
    assert not directives(server, "proxy_pass"), "proxy_pass at server level proxies everything"
    found = locations(server)
    proxied = {path for path, kids in found.items() if directives(kids, "proxy_pass")}
    assert proxied == PROXIED
    for path in PROXIED:
        (target,) = directives(found[path], "proxy_pass")
        # No URI part: the path reaches the bot unchanged.
        assert target[0][1:] == [f"http://127.0.0.1:{PORT}"], path
        # nginx inherits proxy_set_header only when a location sets none of its own.
        own = directives(found[path], "proxy_set_header")
        headers = {w[1].lower(): w[2] for w, _ in own or directives(server, "proxy_set_header")}
        assert headers.get("host") == "$host", path
        assert headers.get("x-forwarded-for") == "$proxy_add_x_forwarded_for", path
        assert headers.get("x-forwarded-proto") == "$scheme", path
    health = found["/healthz"]
    assert ["allow", "127.0.0.1"] in [w for w, _ in directives(health, "allow")]
    assert ["deny", "all"] in [w for w, _ in directives(health, "deny")]
    assert [w[1:] for w, _ in directives(found["/"], "return")] == [["404"]]


def test_nginx_accepts_the_server_blocks(tmp_path: Path) -> None:
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    nginx = shutil.which("nginx", path=search)
    if nginx is None:
        pytest.skip("nginx is not installed")
    openssl = shutil.which("openssl", path=search)
    if openssl is None:
        pytest.skip("openssl is not installed (nginx -t loads the certificate)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-subj", "/CN=bot.example.vn", "-keyout", str(key), "-out", str(cert)),
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )
    site = NGINX.read_text(encoding="utf-8")
    site = re.sub(r"(?m)^(\s*ssl_certificate)\s+\S+;", rf"\1 {cert};", site)
    site = re.sub(r"(?m)^(\s*ssl_certificate_key)\s+\S+;", rf"\1 {key};", site)
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    temp = "\n".join(
        f"    {kind}_temp_path {tmp_path / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\n"
        f"error_log {tmp_path / 'error.log'};\n"
        "events {}\n"
        "http {\n"
        f"    access_log {tmp_path / 'access.log'};\n"
        f"{temp}\n"
        f"    include {tmp_path / 'site.conf'};\n"
        "}\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "[warn]" not in run.stderr and "[emerg]" not in run.stderr, run.stderr


# ---------------------------------------------------------------- environment file

_ASSIGNMENT = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def env_example() -> list[tuple[str, str, bool, str]]:
    """(name, value, active, the comment line above it) for every variable line."""
    found = []
    previous = ""
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = _ASSIGNMENT.match(line.strip())
        if match:
            found.append((match[2], match[3], match[1] is None, previous))
        previous = line.strip()
    return found


def real_settings() -> set[str]:
    assert not Settings.model_config.get("env_prefix"), "names below assume no prefix"
    return {name.upper() for name in Settings.model_fields}


def test_env_example_names_only_real_settings() -> None:
    names = [name for name, *_ in env_example()]
    assert len(names) == len(set(names)), "a variable appears twice"
    unknown = set(names) - real_settings() - UPCOMING
    assert not unknown, f"not settings of bot.settings.Settings: {sorted(unknown)}"


def test_env_example_lists_every_setting_with_a_comment() -> None:
    entries = env_example()
    missing = real_settings() - {name for name, *_ in entries}
    assert not missing, f"settings missing from {ENV_EXAMPLE.name}: {sorted(missing)}"
    for name, value, _, comment in entries:
        assert comment.startswith("#") and not _ASSIGNMENT.match(comment), name
        assert len(comment) > 10, name
        assert not value.startswith(("'", '"')) and " #" not in value, name


def _settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in real_settings() | UPCOMING:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize("runner", ["systemd", "compose"])
def test_env_example_once_filled_in_is_a_valid_configuration(
    runner: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit's (or compose's) fixed variables, then the file with only its secrets filled."""
    env = unit_environment() if runner == "systemd" else compose_environment()
    active = {name: value for name, value, on, _ in env_example() if on}
    env.update(active)
    env.update(
        TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
        ZALO_BOT_TOKEN=ZALO_TOKEN,
        ZALO_WEBHOOK_SECRET="a" * 32,
        DATABASE_PATH=str(tmp_path / "motcongmot.db"),
        BACKUP_DIR=str(tmp_path / "backups"),
    )
    settings = _settings_from(env, monkeypatch)
    assert settings.zalo_mode == "webhook"
    assert settings.public_base_url == "https://bot.example.vn"
    assert settings.webhook_listen is not None
    assert settings.webhook_listen.rpartition(":")[2] == str(PORT)
    # Left blank as shipped, the file refuses to start (no channel) rather than guess.
    blank = {**env, "TELEGRAM_BOT_TOKEN": "", "ZALO_BOT_TOKEN": ""}
    with pytest.raises(ValueError, match="no_channel"):
        _settings_from(blank, monkeypatch)
