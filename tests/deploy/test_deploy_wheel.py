"""The wheel holds everything the services need at run time (what the image installs):
built from the files the image's build context copies, installed into a fresh virtual
environment, every service starts from it and reports SERVING over TLS, with its own NATS
key on a nats-server run with the containers' config (deploy/nats/node.conf)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

from services.common.natsserver import nats_server_binary
from services.common.settings import SERVICES
from tests.support.deploy import DEPLOY, ROOT, load_nats_config, make_node_secrets
from tests.support.ports import free_port

# What deploy/docker/Dockerfile copies into its build stage before `pip install .`.
BUILD_CONTEXT = ("pyproject.toml", "README.md", "protos", "services")
PIP_WHEEL = (sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q")


def build_wheel(directory: Path) -> Path:
    source = directory / "src"
    source.mkdir()
    for name in BUILD_CONTEXT:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [*PIP_WHEEL, "-w", str(directory / "dist"), str(source)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    (wheel,) = (directory / "dist").glob("copnet-*.whl")
    return wheel


def fresh_venv(directory: Path, wheel: Path) -> Path:
    """A new virtual environment with the wheel installed (no editable copy, no source
    tree on the path). Its dependencies come from this environment's site-packages (a
    path entry only: its .pth files, among them the editable install's, are not read),
    so no package index is needed."""
    venv = directory / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "zz-copnet-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def test_the_wheel_carries_the_package_data(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    for data in (ROOT / "services").rglob("*"):
        if (
            data.is_file()
            and data.suffix not in (".py", ".pyc")
            and "__pycache__" not in data.parts
        ):
            relative = data.relative_to(ROOT).as_posix()
            assert relative in names, f"{relative} is not in the wheel"


def test_every_service_starts_from_the_installed_wheel(tmp_path: Path) -> None:
    started = time.monotonic()
    venv = fresh_venv(tmp_path, build_wheel(tmp_path))
    where = subprocess.run(
        [str(venv / "bin/python"), "-c", "import services; print(services.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert Path(where).is_relative_to(venv), f"services imported from {where}, not the wheel"

    secrets = tmp_path / "secrets"
    users = make_node_secrets(secrets)
    config = (DEPLOY / "nats/node.conf").read_text()
    parsed = load_nats_config(config)
    nats_port = free_port()
    for old, new in (
        (parsed["listen"], f"127.0.0.1:{nats_port}"),
        (parsed["http"], f"127.0.0.1:{free_port()}"),
        (parsed["jetstream"]["store_dir"], str(tmp_path / "js")),
        (parsed["tls"]["cert_file"], str(secrets / "pki/nats.crt")),
        (parsed["tls"]["key_file"], str(secrets / "pki/nats.key")),
    ):
        config = config.replace(f'"{old}"', f'"{new}"')
    (tmp_path / "nats.conf").write_text(config)
    log = (tmp_path / "nats.log").open("wb")
    processes = [
        subprocess.Popen(
            [nats_server_binary(), "-c", str(tmp_path / "nats.conf")],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **users},
        )
    ]
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COPNET_", "PYTHON", "VIRTUAL_ENV"))
    }
    env = {
        **base,
        "COPNET_NODE_ID": "guys",
        "COPNET_REGION": "south-east-london",
        "COPNET_DATA_DIR": str(tmp_path / "data"),
        "COPNET_NATS_URL": f"tls://127.0.0.1:{nats_port}",
        "COPNET_TLS_CA": str(secrets / "pki/ca.crt"),
        "COPNET_TOKEN_KEY_FILE": str(secrets / "secrets/token-signing-key.pem"),
        "COPNET_NOTIFY_HTTP_ADDRESS": f"127.0.0.1:{free_port()}",
    }
    for service in SERVICES:
        env[f"COPNET_{service.upper()}_ADDRESS"] = f"127.0.0.1:{free_port()}"
    own: dict[str, dict[str, str]] = {}
    try:
        for service in SERVICES:
            own[service] = {
                **env,
                "COPNET_NATS_SEED_FILE": str(secrets / f"secrets/nats/{service}.nk"),
                "COPNET_TLS_CERT": str(secrets / f"pki/{service}.crt"),
                "COPNET_TLS_KEY": str(secrets / f"pki/{service}.key"),
            }
            with (tmp_path / f"{service}.log").open("wb") as out:
                processes.append(
                    subprocess.Popen(
                        [str(venv / "bin/python"), "-m", f"services.{service}", "all"],
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        env=own[service],
                        cwd=tmp_path,
                    )
                )
        waiting = set(SERVICES)
        deadline = time.monotonic() + 90
        while waiting:
            for service in sorted(waiting):
                logged = (tmp_path / f"{service}.log").read_text(errors="replace")
                assert processes[1 + SERVICES.index(service)].poll() is None, logged[-3000:]
                assert time.monotonic() < deadline, f"{service} not SERVING:\n{logged[-3000:]}"
                # The probe the containers run, from the wheel's own `copnet` command.
                probe = subprocess.run(
                    [str(venv / "bin/copnet"), "health", "--service", service, "--ready"],
                    capture_output=True,
                    text=True,
                    env=own[service],
                    cwd=tmp_path,
                    timeout=30,
                )
                if probe.returncode == 0:
                    assert "SERVING" in probe.stdout
                    waiting.discard(service)
            time.sleep(0.5)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        log.close()
    print(f"built, installed and started every service in {time.monotonic() - started:.1f}s")
