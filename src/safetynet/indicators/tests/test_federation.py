"""The national view over several instances (``safetynet indicators-federate``).

The pure functions (validation, sums, configuration) are tested on rows written here. The command is tested
against two real running instances, each with its own database (SQLite files; on PostgreSQL, when
DATABASE_URL names one, the databases sn_fed_a and sn_fed_b, created and dropped here): 大连市 (2102) and
沈阳市 (2101), loaded through ``safetynet import`` with different enterprises, unions and rosters, each served by
``safetynet runserver`` on a free port, each with a viewer's API token obtained through POST
/api/v1/auth/token/. The national figures must equal the sums of what ``safetynet indicators`` computes
directly on each instance's database.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from safetynet.indicators.federation import (
    ConfigurationError,
    FederationError,
    Instance,
    InstanceAnswer,
    check_instances,
    fetch_rows,
    instance_from_option,
    instances_from_file,
    national_rows,
    rate_of,
    validate,
)
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs.tests.factories import make_credit_code

DAY = datetime.date(2012, 12, 31)
SAFETYNET = str(Path(sys.executable).parent / "safetynet")
PASSWORD = "Federation-2012-viewer"

# --- the pure functions --------------------------------------------------------------------------------------


def row(unit: str, indicator: str, numerator: int, denominator: int, level: int = 1, **extra: Any) -> dict:
    return {
        "unit": unit,
        "unit_name": f"单位{unit}",
        "level": level,
        "indicator": indicator,
        "label": {"union_rate": "建会率", "membership_rate": "入会率"}.get(indicator, indicator),
        "as_of": DAY.isoformat(),
        "numerator": numerator,
        "denominator": denominator,
        "rate": rate_of(numerator=numerator, denominator=denominator),
        "target": None,
        **extra,
    }


def answer(name: str, unit: str | None, rows: list[dict]) -> InstanceAnswer:
    instance = Instance(
        name=name, base_url=f"http://{name}.example", token="t", units=(unit,) if unit else ()
    )
    return InstanceAnswer(instance=instance, unit=unit, rows=rows)


def test_national_figures_add_numerators_and_denominators_of_the_roots_only():
    liaoning = answer(
        "辽宁",
        "2102",
        [
            row("2102", "union_rate", 8, 10),
            row("2102", "membership_rate", 90, 120),
            row("210202", "union_rate", 5, 6, level=2),
            row("210202", "membership_rate", 50, 60, level=2),
        ],
    )
    jilin = answer("吉林", "2201", [row("2201", "union_rate", 3, 5), row("2201", "membership_rate", 0, 0)])
    rows = national_rows(federation=validate(answers=[liaoning, jilin], day=DAY))
    figures = {(r.scope, r.instance, r.indicator): (r.numerator, r.denominator, r.rate) for r in rows}
    # The national rate is the ratio of the sums (11/15), not the mean of the two rates.
    assert figures["national", "", "union_rate"] == (11, 15, 0.7333)
    assert figures["national", "", "membership_rate"] == (90, 120, 0.75)
    assert figures["instance", "辽宁", "union_rate"] == (8, 10, 0.8)
    assert figures["instance", "吉林", "membership_rate"] == (0, 0, None)
    assert [r.indicator for r in rows] == ["union_rate"] * 3 + ["membership_rate"] * 3
    assert rows[1].unit == "2102" and rows[1].unit_name == "单位2102"


def test_an_instance_with_several_root_units_adds_them():
    first = answer("辽宁", "2101", [row("2101", "union_rate", 1, 2)])
    second = InstanceAnswer(instance=first.instance, unit="2102", rows=[row("2102", "union_rate", 3, 4)])
    rows = national_rows(federation=validate(answers=[first, second], day=DAY), national_name="辽宁省")
    assert [(r.unit_name, r.numerator, r.denominator) for r in rows] == [
        ("辽宁省", 4, 6),
        ("单位2101、单位2102", 4, 6),
    ]


def test_without_a_configured_root_the_highest_unit_is_the_root():
    rows = national_rows(
        federation=validate(
            answers=[
                answer(
                    "辽宁",
                    None,
                    [row("210202", "union_rate", 1, 4, level=2), row("2102", "union_rate", 2, 5)],
                )
            ],
            day=DAY,
        )
    )
    assert (rows[0].numerator, rows[0].denominator) == (2, 5)


def test_refuses_a_unit_reported_by_two_instances():
    first = answer(
        "甲", "2102", [row("2102", "union_rate", 1, 2), row("210202", "union_rate", 1, 1, level=2)]
    )
    second = answer("乙", "210202", [row("210202", "union_rate", 1, 1, level=2)])
    with pytest.raises(FederationError) as caught:
        validate(answers=[first, second], day=DAY)
    (problem,) = caught.value.problems
    assert "“甲”和“乙”都报告了单位 210202（单位210202）" in problem and "重叠" in problem


def test_refuses_nested_root_units_within_one_instance():
    first = answer(
        "甲", "2102", [row("2102", "union_rate", 1, 2), row("210202", "union_rate", 1, 1, level=2)]
    )
    nested = InstanceAnswer(instance=first.instance, unit="210202", rows=[row("210202", "union_rate", 1, 1)])
    with pytest.raises(FederationError, match="根单位互相包含"):
        validate(answers=[first, nested], day=DAY)


def test_refuses_an_indicator_the_others_do_not_have():
    first = answer("甲", "2102", [row("2102", "union_rate", 1, 2), row("2102", "membership_rate", 1, 2)])
    second = answer("乙", "2101", [row("2101", "union_rate", 1, 2)])
    with pytest.raises(FederationError) as caught:
        validate(answers=[first, second], day=DAY)
    assert caught.value.problems == [
        "实例“乙”没有指标 membership_rate（甲 有）：各实例的指标不一致，无法相加。"
        "请让各实例运行同一版本，或用 --indicator 只汇总共有的指标。"
    ]


def test_refuses_rows_without_counts_for_another_day_or_with_groups():
    bare = {k: v for k, v in row("2102", "union_rate", 1, 2).items() if k != "numerator"}
    with pytest.raises(FederationError, match="缺少 numerator"):
        validate(answers=[answer("甲", "2102", [bare])], day=DAY)
    with pytest.raises(FederationError, match="不是所要的 2012-12-31"):
        validate(
            answers=[answer("甲", "2102", [row("2102", "union_rate", 1, 2, as_of="2012-12-30")])], day=DAY
        )
    with pytest.raises(FederationError, match="不是非负整数"):
        validate(answers=[answer("甲", "2102", [row("2102", "union_rate", -1, 2)])], day=DAY)
    with pytest.raises(FederationError, match="分组"):
        validate(answers=[answer("甲", "2102", [row("2102", "union_rate", 1, 2, group="规模以上")])], day=DAY)
    with pytest.raises(FederationError, match="没有根单位 2102 本身的行"):
        validate(answers=[answer("甲", "2102", [row("210202", "union_rate", 1, 2, level=2)])], day=DAY)


def test_every_problem_is_listed_at_once():
    first = answer("甲", "2102", [row("2102", "union_rate", 1, 2), row("2102", "membership_rate", 1, 2)])
    second = answer("乙", "2102", [row("2102", "union_rate", 1, 2)])
    with pytest.raises(FederationError) as caught:
        validate(answers=[first, second], day=DAY)
    assert len(caught.value.problems) == 2


def test_config_files_in_toml_and_json(tmp_path):
    toml = tmp_path / "instances.toml"
    toml.write_text(
        '[[instances]]\nname = "辽宁"\nurl = "https://ln.example.org/"\nunits = ["2101", "2102"]\n'
        'token_env = "SN_TOKEN_LN"\n\n[[instances]]\nname = "吉林"\nurl = "http://jl.example.org"\n'
        'unit = "2201"\ntoken = "abc"\n',
        encoding="utf-8",
    )
    liaoning, jilin = instances_from_file(path=toml, environ={"SN_TOKEN_LN": "secret"})
    assert liaoning == Instance(
        name="辽宁", base_url="https://ln.example.org", token="secret", units=("2101", "2102")
    )
    assert jilin.units == ("2201",) and jilin.token == "abc"
    assert "secret" not in repr(liaoning)
    as_json = tmp_path / "instances.json"
    as_json.write_text(json.dumps({"instances": [{"name": "吉林", "url": "http://jl", "token": "x"}]}))
    assert instances_from_file(path=as_json, environ={})[0].units == ()
    with pytest.raises(ConfigurationError, match="SN_TOKEN_LN 中，但该变量为空"):
        instances_from_file(path=toml, environ={})
    as_json.write_text('{"instances": [{"name": "吉林", "url": "ftp://jl", "token": "x"}]}')
    with pytest.raises(ConfigurationError, match="不是 http:// 或 https:// 开头"):
        instances_from_file(path=as_json, environ={})
    as_json.write_text('{"instances": [{"name": "吉林", "url": "http://jl", "token": "x", "unit": "21a"}]}')
    with pytest.raises(ConfigurationError, match="不是区划代码"):
        instances_from_file(path=as_json, environ={})
    as_json.write_text('{"instances": [{"name": "吉林", "url": "http://jl", "tokn": "x"}]}')
    with pytest.raises(ConfigurationError, match="不认识的键：tokn"):
        instances_from_file(path=as_json, environ={})
    as_json.write_text("{nope")
    with pytest.raises(ConfigurationError, match="不是有效的 JSON"):
        instances_from_file(path=as_json, environ={})
    with pytest.raises(ConfigurationError, match="无法读取配置文件"):
        instances_from_file(path=tmp_path / "missing.toml", environ={})


def test_instance_option_and_duplicate_names():
    first = instance_from_option(value="辽宁,https://ln.example.org,2101+2102,env:T", environ={"T": "k"})
    assert (first.units, first.token) == (("2101", "2102"), "k")
    assert instance_from_option(value="吉林,http://jl,,tok", environ={}).units == ()
    with pytest.raises(ConfigurationError, match="应为四段"):
        instance_from_option(value="辽宁,https://ln.example.org", environ={})
    with pytest.raises(ConfigurationError, match="出现了两次"):
        check_instances(instances=[first, first])
    twin = Instance(name="辽宁二", base_url=first.base_url, token="k", units=("2102",))
    with pytest.raises(ConfigurationError, match="同一地址上的同一根单位"):
        check_instances(instances=[first, twin])
    with pytest.raises(ConfigurationError, match="没有指定任何实例"):
        check_instances(instances=[])


def test_command_refuses_unusable_arguments_with_exit_2(tmp_path):
    with pytest.raises(CommandError, match="不是 YYYY-MM-DD") as caught:
        call_command("indicators-federate", "--as-of", "2012-13-01", "--instance", "a,http://a,2102,t")
    assert caught.value.returncode == 2
    with pytest.raises(CommandError, match="没有指定任何实例") as caught:
        call_command("indicators-federate", "--as-of", "2012-12-31")
    assert caught.value.returncode == 2


# --- two real instances ---------------------------------------------------------------------------------------

UNITS = {
    "a": [
        ("2102", "大连市", "", "市"),
        ("210202", "中山区", "2102", "区市县"),
        ("210203", "西岗区", "2102", "区市县"),
        ("210202001", "青泥洼桥街道", "210202", "乡镇街道"),
    ],
    "b": [
        ("2101", "沈阳市", "", "市"),
        ("210102", "和平区", "2101", "区市县"),
        ("210102001", "太原街街道", "210102", "乡镇街道"),
    ],
}
# (number, name, unit, ownership, headcount, founded); the credit code is made from the number and the district.
ENTERPRISES = {
    "a": [
        (1, "大连甲机械有限公司", "210202001", "私营", 120, "2005-03-01"),
        (2, "大连乙港务有限公司", "210202", "国有", 60, "2001-01-01"),
        (3, "大连丙商贸有限公司", "210203", "私营", 30, "2010-06-01"),
        (4, "大连丁便利店", "210203", "个体", 8, "2011-01-01"),
    ],
    "b": [
        (1, "沈阳甲重工有限公司", "210102001", "国有", 300, "1998-01-01"),
        (2, "沈阳乙软件有限公司", "210102", "私营", 40, "2009-05-01"),
        (3, "沈阳丙餐饮有限公司", "210102", "私营", 26, "2012-02-01"),
    ],
}
# (union name, unit, founded, enterprise numbers covered)
UNIONS = {
    "a": [
        ("大连甲机械有限公司工会", "210202001", "2006-01-01", [1]),
        ("大连乙港务有限公司工会", "210202", "2002-01-01", [2]),
    ],
    "b": [("沈阳甲重工有限公司工会", "210102001", "1999-01-01", [1])],
}
# (person number, name, 户籍类型, 用工形式, enterprise number, employed from, joined on)
MEMBERS = {
    "a": [
        (1, "王芳", "城镇", "劳动合同", 1, "2010-01-01", "2010-03-01"),
        (2, "李强", "农村", "劳务派遣", 1, "2011-01-01", ""),
        (3, "张伟", "农村", "劳动合同", 1, "2011-05-01", "2011-06-01"),
        (4, "刘洋", "城镇", "劳动合同", 2, "2008-01-01", "2008-02-01"),
    ],
    "b": [
        (1, "陈静", "城镇", "劳动合同", 1, "2005-01-01", "2005-02-01"),
        (2, "杨磊", "农村", "劳务派遣", 1, "2012-03-01", ""),
    ],
}
ROOTS = {"a": "2102", "b": "2101"}
REGIONS = {"a": "210202", "b": "210102"}


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _write_files(key: str, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)

    def code(number: int) -> str:
        return make_credit_code(number, REGIONS[key])

    _write_csv(directory / "units.csv", ["区划代码", "名称", "上级区划代码", "层级"], UNITS[key])
    _write_csv(
        directory / "enterprises.csv",
        ["统一社会信用代码", "企业名称", "所属区划代码", "经济类型", "职工人数", "成立日期"],
        [[code(n), name, unit, own, head, founded] for n, name, unit, own, head, founded in ENTERPRISES[key]],
    )
    _write_csv(
        directory / "unions.csv",
        ["工会名称", "工会类型", "所属区划代码", "成立日期", "覆盖企业"],
        [
            [name, "单独", unit, founded, ";".join(code(n) for n in covered)]
            for name, unit, founded, covered in UNIONS[key]
        ],
    )
    _write_csv(
        directory / "members.csv",
        ["姓名", "身份证号", "户籍类型", "用工形式", "企业统一社会信用代码", "入职日期", "入会日期"],
        [
            [name, make_id_number(n, address=REGIONS[key]), household, kind, code(e), since, joined]
            for n, name, household, kind, e, since, joined in MEMBERS[key]
        ],
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(args: list[str], env: dict[str, str], *, stdin: str = "", timeout: float = 180) -> str:
    done = subprocess.run(args, env=env, input=stdin, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{' '.join(args[:3])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


def _environment(home: Path, database_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "safetynet.settings",
        "SAFETYNET_HOME": str(home),
        "DATABASE_URL": database_url,
        "SAFETYNET_DEBUG": "0",
        "SAFETYNET_SSL_REDIRECT": "0",
        "SAFETYNET_SECURE_COOKIES": "0",
        "SAFETYNET_HSTS_SECONDS": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    return env


class _Databases:
    """Two empty, migrated databases: migrated once, then copied (a SQLite backup, a PostgreSQL template)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        url = os.environ.get("DATABASE_URL", "")
        self.postgres = url.startswith(("postgres://", "postgresql://"))
        if self.postgres:
            import dj_database_url

            settings = dj_database_url.parse(url)
            self.server = {
                "host": settings["HOST"] or "127.0.0.1",
                "port": int(settings["PORT"] or 5432),
                "user": settings["USER"] or "postgres",
                "password": settings["PASSWORD"] or None,
            }
            base = urllib.parse.urlsplit(url)
            self.url_of = {key: base._replace(path=f"/sn_fed_{key}").geturl() for key in ("a", "b")}
        else:
            self.url_of = {"a": "", "b": ""}

    def _admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=10, **self.server) as conn:
            for statement in statements:
                conn.execute(statement)

    def create(self) -> None:
        if self.postgres:
            self._admin(
                "DROP DATABASE IF EXISTS sn_fed_a WITH (FORCE)",
                "DROP DATABASE IF EXISTS sn_fed_b WITH (FORCE)",
            )
            self._admin("CREATE DATABASE sn_fed_a")
            _run(
                [SAFETYNET, "migrate", "-v0", "--skip-checks"],
                _environment(self.root / "a", self.url_of["a"]),
                timeout=300,
            )
            self._admin("CREATE DATABASE sn_fed_b TEMPLATE sn_fed_a")
            return
        template = self.root / "template"
        _run([SAFETYNET, "migrate", "-v0", "--skip-checks"], _environment(template, ""), timeout=300)
        source = sqlite3.connect(template / "var" / "safetynet.sqlite3")
        for key in ("a", "b"):
            (self.root / key / "var").mkdir(parents=True, exist_ok=True)
            target = sqlite3.connect(self.root / key / "var" / "safetynet.sqlite3")
            source.backup(target)
            target.close()
        source.close()

    def drop(self) -> None:
        if self.postgres:
            self._admin(
                "DROP DATABASE IF EXISTS sn_fed_a WITH (FORCE)",
                "DROP DATABASE IF EXISTS sn_fed_b WITH (FORCE)",
            )


@dataclass
class LiveInstance:
    key: str
    root: str
    url: str
    token: str
    env: dict[str, str]
    direct: dict[str, tuple[int, int]]  # `safetynet indicators` on its own database: indicator → root figures


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server at {url} stopped:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the server at {url} did not answer /healthz in 90 s")


def _token(url: str) -> str:
    request = urllib.request.Request(
        f"{url}/api/v1/auth/token/",
        data=json.dumps({"username": "federation", "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["token"]


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[dict[str, LiveInstance]]:
    root = tmp_path_factory.mktemp("federation")
    databases = _Databases(root)
    servers: list[subprocess.Popen] = []
    try:
        databases.create()
        envs = {key: _environment(root / key, databases.url_of[key]) for key in ("a", "b")}
        loaders = {}
        for key in ("a", "b"):
            _write_files(key, root / key / "files")
            loaders[key] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "safetynet.indicators.tests.federation_instance",
                    str(root / key / "files"),
                    ROOTS[key],
                    "federation",
                ],
                env=envs[key],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        for key, loader in loaders.items():
            output, _ = loader.communicate(PASSWORD + "\n", timeout=180)
            assert loader.returncode == 0, f"loading instance {key} failed:\n{output}"
        urls = {}
        for key in ("a", "b"):
            port = _free_port()
            urls[key] = f"http://127.0.0.1:{port}"
            log = root / key / "server.log"
            servers.append(
                subprocess.Popen(
                    [SAFETYNET, "runserver", "--noreload", f"127.0.0.1:{port}"],
                    env=envs[key],
                    stdout=log.open("w"),
                    stderr=subprocess.STDOUT,
                )
            )
        # The direct computation on each database, side by side while the servers start.
        computing = {
            key: subprocess.Popen(
                [
                    SAFETYNET,
                    "indicators",
                    "--as-of",
                    DAY.isoformat(),
                    "--unit",
                    ROOTS[key],
                    "--format",
                    "json",
                ],
                env=envs[key],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for key in ("a", "b")
        }
        direct = {}
        for key, process in computing.items():
            output, errors = process.communicate(timeout=180)
            assert process.returncode == 0, f"safetynet indicators on instance {key} failed:\n{errors}"
            direct[key] = {
                r["indicator"]: (r["numerator"], r["denominator"])
                for r in json.loads(output)
                if r["unit"] == ROOTS[key]
            }
        instances = {}
        for key, server in zip(("a", "b"), servers, strict=True):
            _wait_until_serving(urls[key], server, root / key / "server.log")
            instances[key] = LiveInstance(
                key, ROOTS[key], urls[key], _token(urls[key]), envs[key], direct[key]
            )
        yield instances
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        databases.drop()


def _option(name: str, instance: LiveInstance, *, unit: str | None = None, token: str | None = None) -> str:
    return f"{name},{instance.url},{unit or instance.root},{token or instance.token}"


def _refusal(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("indicators-federate", "--as-of", DAY.isoformat(), *args, stdout=io.StringIO())
    assert caught.value.returncode == 1
    message = str(caught.value)
    assert message.startswith("无法汇总，未输出任何数字")
    return message


def test_national_figures_equal_the_sums_of_each_instances_direct_figures(live, tmp_path):
    dalian, shenyang = live["a"], live["b"]
    config = tmp_path / "instances.toml"
    config.write_text(
        f'[[instances]]\nname = "大连"\nurl = "{dalian.url}"\nunit = "2102"\ntoken_env = "SN_FED_TOKEN_A"\n\n'
        f'[[instances]]\nname = "沈阳"\nurl = "{shenyang.url}"\nunit = "2101"\ntoken_env = "SN_FED_TOKEN_B"\n',
        encoding="utf-8",
    )
    env = {**_environment(tmp_path, ""), "SN_FED_TOKEN_A": dalian.token, "SN_FED_TOKEN_B": shenyang.token}
    output = _run(
        [
            SAFETYNET,
            "indicators-federate",
            "--as-of",
            DAY.isoformat(),
            "--config",
            str(config),
            "--format",
            "json",
        ],
        env,
    )
    rows = json.loads(output)
    national = {r["indicator"]: r for r in rows if r["scope"] == "national"}
    own = {(r["instance"], r["indicator"]): r for r in rows if r["scope"] == "instance"}
    assert set(national) == set(dalian.direct) == set(shenyang.direct)
    for code, figure in national.items():
        a_numerator, a_denominator = dalian.direct[code]
        b_numerator, b_denominator = shenyang.direct[code]
        assert (figure["numerator"], figure["denominator"]) == (
            a_numerator + b_numerator,
            a_denominator + b_denominator,
        )
        assert figure["rate"] == rate_of(numerator=figure["numerator"], denominator=figure["denominator"])
        assert (own["大连", code]["numerator"], own["大连", code]["denominator"]) == dalian.direct[code]
        assert (own["沈阳", code]["numerator"], own["沈阳", code]["denominator"]) == shenyang.direct[code]
    # The data differ, so the test would notice one instance counted twice or left out.
    assert dalian.direct["union_rate"] == (2, 3) and shenyang.direct["union_rate"] == (1, 3)
    assert (national["union_rate"]["numerator"], national["union_rate"]["denominator"]) == (3, 6)
    assert dalian.direct["membership_rate"] == (3, 4) and shenyang.direct["membership_rate"] == (1, 2)
    assert (national["membership_rate"]["numerator"], national["membership_rate"]["denominator"]) == (4, 6)
    assert own["大连", "union_rate"]["unit"] == "2102" and own["沈阳", "union_rate"]["unit_name"] == "沈阳市"


def test_table_csv_and_output_file(live, tmp_path):
    options = ["--instance", _option("大连", live["a"]), "--instance", _option("沈阳", live["b"])]
    stdout = io.StringIO()
    call_command(
        "indicators-federate",
        "--as-of",
        DAY.isoformat(),
        *options,
        "--indicator",
        "union_rate",
        stdout=stdout,
    )
    table = stdout.getvalue().splitlines()
    assert table[0] == "2012-12-31 汇总（2 个实例，分子分母相加）"
    assert table[3].startswith("建会率（union_rate）") and table[3].endswith("50.00 %")
    assert "大连" in table[4] and "2102 大连市" in table[4] and table[4].endswith("66.67 %")
    target = tmp_path / "national.csv"
    call_command(
        "indicators-federate",
        "--as-of",
        DAY.isoformat(),
        *options,
        "--format",
        "csv",
        "--output",
        str(target),
        "--name",
        "辽宁省",
        stderr=io.StringIO(),
    )
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    union = [r for r in rows if r["indicator"] == "union_rate"]
    assert [(r["scope"], r["instance"], r["unit_name"], r["numerator"], r["denominator"]) for r in union] == [
        ("national", "", "辽宁省", "3", "6"),
        ("instance", "大连", "大连市", "2", "3"),
        ("instance", "沈阳", "沈阳市", "1", "3"),
    ]


def test_refuses_an_unreachable_instance_with_a_nonzero_exit(live, tmp_path):
    closed = _free_port()
    done = subprocess.run(
        [
            SAFETYNET,
            "indicators-federate",
            "--as-of",
            DAY.isoformat(),
            "--instance",
            _option("大连", live["a"]),
            "--instance",
            f"沈阳,http://127.0.0.1:{closed},2101,token",
        ],
        env=_environment(tmp_path, ""),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert "实例“沈阳”" in done.stderr and "无法连接" in done.stderr


def test_refuses_a_rejected_token(live):
    message = _refusal(
        "--instance", _option("大连", live["a"]), "--instance", _option("沈阳", live["b"], token="0" * 40)
    )
    # The API answers 403 to a token it does not know (SessionAuthentication comes first: no 401 challenge).
    assert "实例“沈阳”" in message and "拒绝了令牌（HTTP 403，认证令牌无效。）" in message
    assert "大连" not in message


def test_refuses_a_token_answered_with_401(live, stub):
    url, _handler = stub
    message = _refusal("--instance", _option("大连", live["a"]), "--instance", f"杭州,{url},3301,wrong-token")
    assert "实例“杭州”" in message and "拒绝了令牌（HTTP 401，身份认证信息未提供。）" in message


def test_refuses_a_root_unit_the_instance_does_not_have(live):
    # 2101 is 沈阳市: instance a (大连) answers 404, as for any unit outside the token holder's scope.
    message = _refusal(
        "--instance", _option("大连", live["a"], unit="2101"), "--instance", _option("沈阳", live["b"])
    )
    assert "实例“大连”" in message and "答 404" in message and "2101" in message


def test_refuses_overlapping_subtrees(live):
    # The same instance under two names, once for the city and once for one of its districts: 中山区 and its
    # street would be counted twice.
    dalian = live["a"]
    message = _refusal(
        "--instance", _option("大连", dalian), "--instance", _option("中山", dalian, unit="210202")
    )
    assert "实例“大连”和“中山”都报告了单位 210202（中山区）、210202001（青泥洼桥街道）" in message


class _StubHandler(BaseHTTPRequestHandler):
    """An instance of another version: it answers fixed rows (paginated, two pages) for 浙江 3301."""

    rows: list[dict] = []
    redirect = False
    delay = 0.0

    def do_GET(self) -> None:
        time.sleep(self.delay)
        if self.headers.get("Authorization") != "Token stub-token":
            return self._send(401, {"code": "not_authenticated", "detail": "身份认证信息未提供。"})
        if self.redirect:
            self.send_response(302)
            self.send_header("Location", "https://elsewhere.example/api/v1/indicators/")
            self.end_headers()
            return None
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        page = int(query.get("page", ["1"])[0])
        base = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/indicators/"
        half = len(self.rows) // 2
        if page == 1:
            next_page = f"{base}?{urllib.parse.urlencode({**{k: v[0] for k, v in query.items()}, 'page': 2})}"
            return self._send(200, {"count": len(self.rows), "next": next_page, "results": self.rows[:half]})
        return self._send(200, {"count": len(self.rows), "next": None, "results": self.rows[half:]})

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (the timeout test)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[tuple[str, type[_StubHandler]]]:
    handler = type("Handler", (_StubHandler,), {"rows": [], "redirect": False, "delay": 0.0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_follows_pages_and_refuses_an_indicator_the_others_do_not_have(live, stub):
    url, handler = stub
    handler.rows = [
        row("3301", "union_rate", 7, 9),
        row("330102", "union_rate", 4, 5, level=2),
        row("330103", "union_rate", 3, 4, level=2),
    ]
    options = ["--instance", _option("大连", live["a"]), "--instance", f"杭州,{url},3301,stub-token"]
    stdout = io.StringIO()
    call_command(
        "indicators-federate",
        "--as-of",
        DAY.isoformat(),
        *options,
        "--indicator",
        "union_rate",
        "--format",
        "json",
        stdout=stdout,
    )
    national = [r for r in json.loads(stdout.getvalue()) if r["scope"] == "national"]
    assert [(r["numerator"], r["denominator"]) for r in national] == [(2 + 7, 3 + 9)]
    # Without the filter 大连 answers every indicator and the other instance only one.
    message = _refusal(*options)
    assert "实例“杭州”没有指标" in message and "membership_rate" in message and "（大连 有）" in message


def test_refuses_to_follow_a_redirect_with_the_token(live, stub):
    url, handler = stub
    handler.redirect = True
    message = _refusal("--instance", _option("大连", live["a"]), "--instance", f"杭州,{url},3301,stub-token")
    assert "答重定向（HTTP 302，至 https://elsewhere.example/api/v1/indicators/）" in message


def test_an_instance_that_does_not_answer_in_time(stub):
    url, handler = stub
    handler.delay = 1.5
    slow = Instance(name="慢", base_url=url, token="stub-token", units=("3301",))
    with pytest.raises(FederationError, match="实例“慢”.*在 0.5 秒内没有应答"):
        fetch_rows(instance=slow, day=DAY, unit="3301", timeout=0.5)
