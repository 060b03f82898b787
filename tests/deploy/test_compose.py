"""docker-compose.yml names a service for every integration the production settings read, wired the same way.

No Docker engine runs on these machines, so the file is read with PyYAML and Compose's variable
interpolation is applied here (``${VAR}``, ``${VAR:-default}``, ``${VAR:?message}``).
"""

import ast
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "config" / "settings"
APP_SERVICES = ("web", "worker", "beat", "migrate")
# The variables that point the app at another service -> (the compose service, its image).
SERVICE_URLS = {
    "DATABASE_URL": ("db", "postgres:"),
    "REDIS_URL": ("redis", "redis:"),
    "CHROMA_HOST": ("chroma", "chromadb/chroma:"),
    "LLM_BASE_URL": ("vllm", "vllm/vllm-openai:"),
    "VERIFIER_JUDGE_BASE_URL": ("judge", "vllm/vllm-openai:"),
}
# What a deployer must set in .env; everything else has a default.
REQUIRED = {"DJANGO_SECRET_KEY": "s" * 60, "DJANGO_ALLOWED_HOSTS": "tutor.example.org", "POSTGRES_PASSWORD": "pw"}
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def _interpolate(value, env: dict[str, str]):
    if isinstance(value, dict):
        return {key: _interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        current = env.get(name)
        unset = current is None or (current == "" and op is not None and op.startswith(":"))
        if op and op.endswith("?") and unset:
            raise KeyError(f"{name}: {arg}")
        if op and op.endswith("-") and unset:
            return arg
        return current or ""

    return _VARIABLE.sub(substitute, value.replace("$$", "\0")).replace("\0", "$")


def _compose(**env: str) -> dict:
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return _interpolate(raw, {**REQUIRED, **env})


def _env_reads(module: str) -> dict[str, bool]:
    """The variables a settings module reads -> whether each read has a default."""
    found: dict[str, bool] = {}
    for node in ast.walk(ast.parse((SETTINGS / module).read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env"
        )
        if is_env and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            found[node.args[0].value] = any(keyword.arg == "default" for keyword in node.keywords)
    return found


def _settings_variables() -> dict[str, bool]:
    """Every variable the production settings read (base + production) -> whether it has a default there."""
    return {**_env_reads("base.py"), **_env_reads("production.py")}


def test_every_service_the_production_settings_point_at_is_in_the_compose_file():
    # given the variables the settings read and the compose file with only the required secrets set
    variables = _settings_variables()
    compose = _compose()
    services = compose["services"]

    for variable, (service, image) in SERVICE_URLS.items():
        # then the settings still read the variable (a rename would leave the compose file stale)
        assert variable in variables, variable
        for app in APP_SERVICES:
            value = services[app]["environment"][variable]
            host = urlsplit(value).hostname if "://" in value else value
            # and each app process points it at a service of this file running the right image
            assert host == service, (app, variable, value)
            assert services[service]["image"].startswith(image), service


def test_the_app_sets_every_required_setting_and_no_unknown_one():
    # given the settings' variables, those without a default being required in production
    variables = _settings_variables()
    required = {name for name, has_default in variables.items() if not has_default}
    assert {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"} <= required

    environment = _compose()["services"]["web"]["environment"]
    # then each required one is set, and every variable set is one the settings read (no typos)
    assert required <= set(environment)
    assert set(environment) - set(variables) == {"DJANGO_SETTINGS_MODULE"}
    assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"


def test_the_compose_file_refuses_to_start_without_the_secrets():
    # given no .env at all
    for missing in REQUIRED:
        env = {name: value for name, value in REQUIRED.items() if name != missing}
        # then interpolation fails and names the variable, as `docker compose` does
        with pytest.raises(KeyError, match=missing):
            _interpolate(yaml.safe_load((ROOT / "docker-compose.yml").read_text()), env)


def test_web_worker_and_commands_run_one_image_after_the_migrations():
    services = _compose()["services"]
    images = {(services[app]["build"], services[app]["image"]) for app in APP_SERVICES}
    assert len(images) == 1
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["web"]["command"][0] == "uvicorn"
    assert services["worker"]["command"][0] == "celery"
    for app in ("web", "worker", "beat"):
        assert services[app]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_one_beat_runs_the_periodic_tasks():
    # given the compose file
    services = _compose()["services"]
    # then a beat service runs celery beat, without a replica count that would enqueue tasks twice
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert "deploy" not in services["beat"] or services["beat"]["deploy"].get("replicas", 1) == 1


@pytest.mark.parametrize(
    ("service", "model_variable", "profile"), [("vllm", "LLM_MODEL", None), ("judge", "VERIFIER_JUDGE_MODEL", "judge")]
)
def test_the_llm_servers_reserve_a_gpu_cache_prefixes_and_serve_the_model_the_app_asks_for(
    service, model_variable, profile
):
    # given the model named in the environment
    compose = _compose(**{model_variable: "example/Model-7B"})
    server = compose["services"][service]
    command = server["command"]

    # then vLLM serves that model under that name, which is the name the app sends
    assert command[command.index("--model") + 1] == "example/Model-7B"
    assert command[command.index("--served-model-name") + 1] == "example/Model-7B"
    assert compose["services"]["web"]["environment"][model_variable] == "example/Model-7B"
    assert "--enable-prefix-caching" in command
    # on a GPU of its own
    devices = server["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]
    assert server.get("profiles", [None])[0] == profile


def test_the_answer_model_and_the_judge_get_different_gpus_by_default():
    services = _compose()["services"]
    gpus = [services[s]["deploy"]["resources"]["reservations"]["devices"][0]["device_ids"] for s in ("vllm", "judge")]
    assert gpus[0] != gpus[1]


def test_every_compose_variable_is_documented_in_the_env_example():
    compose_variables = set(_VARIABLE.findall((ROOT / "docker-compose.yml").read_text()))
    names = {name for name, _op, _arg in compose_variables}
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert names - documented == set()
