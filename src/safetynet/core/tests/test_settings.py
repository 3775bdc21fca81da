"""Production settings pass `safetynet check --deploy` with the variables of INTERFACES.md set."""

import os
import subprocess
import sys

from cryptography.fernet import Fernet

SAFETYNET = [sys.executable, "-m", "safetynet.cli"]


def run_check(tmp_path, **env):
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("SAFETYNET_", "DATABASE_URL", "DJANGO_"))
    }
    environment.update(SAFETYNET_HOME=str(tmp_path), **env)
    return subprocess.run(
        [*SAFETYNET, "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def production_env():
    return {
        "SAFETYNET_SECRET_KEY": "k" * 20 + "-production-secret-0123456789abcdefghijkl",
        "SAFETYNET_ALLOWED_HOSTS": "safetynet.example.org",
        "SAFETYNET_PII_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": "postgres://safetynet@db.example.org:5432/safetynet",
    }


def test_deploy_check_passes_with_production_variables(tmp_path):
    result = run_check(tmp_path, **production_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_fails_without_secret_or_pii_key(tmp_path):
    env = production_env()
    del env["SAFETYNET_SECRET_KEY"], env["SAFETYNET_PII_KEY"]
    result = run_check(tmp_path, **env)
    assert result.returncode != 0
    assert "security.W009" in result.stderr
    assert "safetynet.E001" in result.stderr
