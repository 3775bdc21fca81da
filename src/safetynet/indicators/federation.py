"""A national (or provincial) view over several Safetynet instances: fetch, validate, sum.

Each instance answers ``GET /api/v1/indicators/?as_of=…&unit=<root>`` with the rows of its root unit and every
unit below it. Every indicator is a ratio of two sums over rows that belong to exactly one org unit, so when
the instances' subtrees are disjoint the national numerator and denominator are exactly the sums of the
instances' root figures. Whatever would make that sum wrong (an instance that did not answer, a refused
token, an indicator that only some instances know, a unit reported by two instances) refuses the whole result
instead of printing a figure that looks right and is not.

Only the standard library's urllib is used: the command runs wherever Python does, with no extra dependency.
Messages are Chinese, for the federation's statisticians who run the command.
"""

from __future__ import annotations

import datetime
import json
import os
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

API_PATH = "/api/v1/indicators/"
# A paginated answer is followed at most this many pages (a province's rows fit in one answer today).
MAX_PAGES = 1000
# How many units of a refusal's overlap are named in the message.
NAMED_OVERLAP = 5
NATIONAL = "national"
INSTANCE = "instance"


class FederationError(Exception):
    """The figures cannot be summed exactly; ``problems`` are Chinese sentences, one per problem found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class ConfigurationError(ValueError):
    """The list of instances cannot be used (a config file or ``--instance`` value); the message is Chinese."""


@dataclass(frozen=True)
class Instance:
    """One Safetynet instance: its name in the output, its address, its API token and its root units.

    ``units`` empty means the token holder's own unit (the API's default)."""

    name: str
    base_url: str
    token: str = field(repr=False)
    units: tuple[str, ...] = ()

    @property
    def unit_label(self) -> str:
        return "+".join(self.units)


@dataclass(frozen=True)
class InstanceAnswer:
    """The rows one instance answered for one of its root units (``unit`` None: the token holder's own)."""

    instance: Instance
    unit: str | None
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class FigureRow:
    """One line of the result: the national sum of an indicator (scope ``national``) or an instance's own."""

    as_of: str
    indicator: str
    label: str
    scope: str
    instance: str
    unit: str
    unit_name: str
    numerator: int
    denominator: int
    rate: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "indicator": self.indicator,
            "label": self.label,
            "scope": self.scope,
            "instance": self.instance,
            "unit": self.unit,
            "unit_name": self.unit_name,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "rate": self.rate,
        }


FIGURE_FIELDS = list(FigureRow.__dataclass_fields__)


def rate_of(*, numerator: int, denominator: int) -> float | None:
    """The rate as every instance computes it: four decimals, None where the denominator is 0."""
    return round(numerator / denominator, 4) if denominator else None


# --- the list of instances -----------------------------------------------------------------------------------


def _check_url(name: str, url: str) -> str:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigurationError(
            f"实例“{name}”的地址“{url}”不是 http:// 或 https:// 开头的网址（例如 https://ln.example.org）。"
        )
    if parsed.query or parsed.fragment:
        raise ConfigurationError(f"实例“{name}”的地址“{url}”不应带查询参数，只写到站点根路径。")
    return url.rstrip("/")


def _check_units(name: str, units: Iterable[str]) -> tuple[str, ...]:
    checked = []
    for unit in units:
        unit = str(unit).strip()
        if not (unit.isascii() and unit.isdigit() and 4 <= len(unit) <= 12):
            raise ConfigurationError(f"实例“{name}”的根单位“{unit}”不是区划代码：应为 4 至 12 位数字。")
        if unit in checked:
            raise ConfigurationError(f"实例“{name}”的根单位“{unit}”写了两次。")
        checked.append(unit)
    return tuple(checked)


def _token(name: str, token: str | None, token_env: str | None, environ: Mapping[str, str]) -> str:
    if token_env:
        value = environ.get(token_env, "").strip()
        if not value:
            raise ConfigurationError(f"实例“{name}”的令牌应在环境变量 {token_env} 中，但该变量为空或不存在。")
        return value
    if not token or not str(token).strip():
        raise ConfigurationError(
            f"实例“{name}”没有令牌：请写 token（令牌本身）或 token_env（存放令牌的环境变量名）。"
        )
    return str(token).strip()


def instance_from_mapping(*, data: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Instance:
    """An instance from one entry of a config file: name, url, unit or units, token or token_env."""
    environ = os.environ if environ is None else environ
    name = str(data.get("name") or "").strip()
    if not name:
        raise ConfigurationError("配置中有一个实例没有名称（name）。")
    unknown = set(data) - {"name", "url", "unit", "units", "token", "token_env"}
    if unknown:
        raise ConfigurationError(
            f"实例“{name}”的配置有不认识的键：{'、'.join(sorted(unknown))}。"
            "可用的键：name、url、unit、units、token、token_env。"
        )
    if "unit" in data and "units" in data:
        raise ConfigurationError(f"实例“{name}”同时写了 unit 和 units，只写其中一个。")
    units = data.get("units", [data["unit"]] if data.get("unit") else [])
    if isinstance(units, str) or not isinstance(units, list):
        raise ConfigurationError(f'实例“{name}”的 units 应为区划代码的列表，例如 ["2101", "2102"]。')
    return Instance(
        name=name,
        base_url=_check_url(name, str(data.get("url") or "")),
        token=_token(name, data.get("token"), data.get("token_env"), environ),
        units=_check_units(name, units),
    )


def instance_from_option(*, value: str, environ: Mapping[str, str] | None = None) -> Instance:
    """``NAME,URL,UNITS,TOKEN``: UNITS one code or several joined by ``+`` (empty: the token holder's own unit);
    TOKEN the token or ``env:VARIABLE``."""
    environ = os.environ if environ is None else environ
    parts = [part.strip() for part in value.split(",")]
    if len(parts) != 4:
        raise ConfigurationError(
            f"--instance “{value[:60]}”应为四段，用英文逗号分隔：名称,地址,根单位,令牌"
            "（例如 辽宁,https://ln.example.org,2101+2102,env:SN_TOKEN_LN）。"
        )
    name, url, units, token = parts
    token_env = token[4:] if token.startswith("env:") else None
    return instance_from_mapping(
        data={
            "name": name,
            "url": url,
            "units": [u for u in units.split("+") if u],
            "token": None if token_env else token,
            "token_env": token_env,
        },
        environ=environ,
    )


def instances_from_file(*, path: Path, environ: Mapping[str, str] | None = None) -> list[Instance]:
    """The instances listed in a TOML (``[[instances]]`` tables) or JSON (``{"instances": […]}`` or a list)
    file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigurationError(f"无法读取配置文件“{path}”：{exc.strerror or exc}。") from None
    try:
        if path.suffix.lower() == ".json":
            data: Any = json.loads(text)
        else:
            data = tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise ConfigurationError(f"配置文件“{path}”不是有效的 {kind}：{exc}") from None
    entries = data.get("instances") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError(
            f'配置文件“{path}”中没有实例：TOML 请写若干 [[instances]] 表，JSON 请写 {{"instances": [...]}}。'
        )
    if not all(isinstance(entry, dict) for entry in entries):
        raise ConfigurationError(f"配置文件“{path}”的 instances 中每一项都应是一个表（对象）。")
    return [instance_from_mapping(data=entry, environ=environ) for entry in entries]


def check_instances(*, instances: Sequence[Instance]) -> None:
    """At least one instance, each name once, and no root unit listed twice at the same address."""
    if not instances:
        raise ConfigurationError("没有指定任何实例：请用 --config 文件或 --instance。")
    seen: set[str] = set()
    roots: dict[tuple[str, str], str] = {}
    for instance in instances:
        if instance.name in seen:
            raise ConfigurationError(f"实例名称“{instance.name}”出现了两次，每个实例的名称应唯一。")
        seen.add(instance.name)
        for unit in instance.units or ("",):
            key = (instance.base_url, unit)
            if key in roots:
                raise ConfigurationError(
                    f"实例“{roots[key]}”和“{instance.name}”是同一地址上的同一根单位，会重复计数。"
                )
            roots[key] = instance.name


# --- fetching ------------------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is refused, not followed: the token must not travel to an address nobody configured."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def indicators_url(
    *, instance: Instance, day: datetime.date, unit: str | None, indicators: Sequence[str] = ()
) -> str:
    query: list[tuple[str, str]] = [("as_of", day.isoformat())]
    if unit:
        query.append(("unit", unit))
    query.extend(("indicator", code) for code in indicators)
    return f"{instance.base_url}{API_PATH}?{urllib.parse.urlencode(query)}"


def _where(instance: Instance, unit: str | None) -> str:
    return f"实例“{instance.name}”（{instance.base_url}" + (f"，单位 {unit}）" if unit else "）")


def _detail(body: bytes) -> str:
    """The API's Chinese explanation in an error answer ({"code", "detail", "field"}), if there is one."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ""
    if isinstance(data, dict):
        detail = data.get("detail")
        if isinstance(detail, str):
            field_name = data.get("field")
            return f"{field_name}：{detail}" if isinstance(field_name, str) and field_name else detail
        return "；".join(f"{key}：{value}" for key, value in data.items())[:300]
    return ""


def _http_problem(instance: Instance, unit: str | None, status: int, body: bytes, location: str) -> str:
    where = _where(instance, unit)
    detail = _detail(body)
    if status in (401, 403):
        return (
            f"{where}拒绝了令牌（HTTP {status}{('，' + detail) if detail else ''}）：令牌无效、已作废或账号已停用。"
            "请在该实例上用查看员账号重新获取令牌（POST /api/v1/auth/token/），再更新配置。"
        )
    if status == 404:
        return (
            f"{where}答 404：根单位“{unit or '（令牌所属单位）'}”在该日不存在，或令牌所属账号无权查看它。"
            "请核对根单位代码，并确认账号属于该单位或其上级。"
        )
    if 300 <= status < 400:
        return (
            f"{where}答重定向（HTTP {status}，至 {location or '未知地址'}）：为保护令牌不跟随重定向，"
            "请在配置中直接写最终地址（例如 https://）。"
        )
    if status == 400:
        return f"{where}拒绝了请求（HTTP 400）：{detail or '参数有误'}。"
    return f"{where}出错（HTTP {status}）{('：' + detail) if detail else ''}，请联系该实例的管理员。"


def _page(instance: Instance, unit: str | None, url: str, timeout: float) -> Any:
    request = urllib.request.Request(
        url,
        headers={
            "Authorization": f"Token {instance.token}",
            "Accept": "application/json",
            "Accept-Language": "zh-hans",
            "User-Agent": "safetynet-indicators-federate",
        },
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise FederationError(
            [_http_problem(instance, unit, exc.code, exc.read() or b"", exc.headers.get("Location", ""))]
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise FederationError(
                [
                    f"{_where(instance, unit)}在 {timeout:g} 秒内没有应答。请稍后再试，或用 --timeout 放宽时限。"
                ]
            ) from None
        raise FederationError(
            [f"{_where(instance, unit)}无法连接：{reason}。请确认地址正确、服务正在运行、网络可达。"]
        ) from None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FederationError(
            [f"{_where(instance, unit)}的应答不是 JSON：地址可能不是 Safetynet 实例，请核对。"]
        ) from None


def fetch_rows(
    *,
    instance: Instance,
    day: datetime.date,
    unit: str | None,
    indicators: Sequence[str] = (),
    timeout: float = 60.0,
) -> list[dict[str, Any]]:
    """The rows one instance answers for one root unit on ``day`` (following pages of a paginated answer).
    Raises FederationError with one Chinese sentence when the instance cannot give them."""
    url: str | None = indicators_url(instance=instance, day=day, unit=unit, indicators=indicators)
    origin = urllib.parse.urlsplit(instance.base_url)[:2]
    rows: list[dict[str, Any]] = []
    for _page_number in range(MAX_PAGES):
        if url is None:
            return rows
        data = _page(instance, unit, url, timeout)
        if isinstance(data, list):
            rows.extend(data)
            return rows
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise FederationError([f"{_where(instance, unit)}的应答不是指标行的列表，请核对地址和版本。"])
        rows.extend(data["results"])
        url = data.get("next") or None
        if url is not None and urllib.parse.urlsplit(url)[:2] != origin:
            raise FederationError(
                [f"{_where(instance, unit)}的下一页指向另一个地址（{url}），为保护令牌未继续读取。"]
            )
    raise FederationError([f"{_where(instance, unit)}的应答超过 {MAX_PAGES} 页，已停止读取。"])


def fetch_all(
    *,
    instances: Sequence[Instance],
    day: datetime.date,
    indicators: Sequence[str] = (),
    timeout: float = 60.0,
    workers: int = 8,
) -> list[InstanceAnswer]:
    """Every instance's rows for every one of its root units, fetched side by side. All problems are collected
    and raised together, so one run names every instance that needs attention."""
    jobs = [(instance, unit) for instance in instances for unit in (instance.units or (None,))]

    def fetch(job: tuple[Instance, str | None]) -> InstanceAnswer | FederationError:
        instance, unit = job
        try:
            rows = fetch_rows(instance=instance, day=day, unit=unit, indicators=indicators, timeout=timeout)
        except FederationError as exc:
            return exc
        return InstanceAnswer(instance=instance, unit=unit, rows=rows)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        outcomes = list(pool.map(fetch, jobs))
    problems = [p for outcome in outcomes if isinstance(outcome, FederationError) for p in outcome.problems]
    if problems:
        raise FederationError(problems)
    return [outcome for outcome in outcomes if isinstance(outcome, InstanceAnswer)]


# --- validation and sums -------------------------------------------------------------------------------------


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _row_problems(answer: InstanceAnswer, day: datetime.date) -> list[str]:
    where = _where(answer.instance, answer.unit)
    problems = []
    for number, row in enumerate(answer.rows, start=1):
        if not isinstance(row, dict):
            problems.append(f"{where}的第 {number} 行不是对象。")
            continue
        missing = [key for key in ("unit", "indicator", "numerator", "denominator") if key not in row]
        if missing:
            problems.append(
                f"{where}的第 {number} 行缺少 {'、'.join(missing)}：该实例的版本可能过旧，请先升级该实例。"
            )
            continue
        if not (_is_count(row["numerator"]) and _is_count(row["denominator"])):
            problems.append(
                f"{where}的第 {number} 行（{row['unit']}，{row['indicator']}）的分子或分母不是非负整数。"
            )
        if "group" in row:
            problems.append(f"{where}的第 {number} 行带分组（group），汇总只接受不分组的指标行。")
        if row.get("as_of") not in (None, day.isoformat()):
            problems.append(f"{where}的第 {number} 行的日期是 {row.get('as_of')}，不是所要的 {day}。")
        if problems and len(problems) >= 10:
            problems.append(f"{where}的应答还有更多错误，未一一列出。")
            break
    return problems


def _root_rows(answer: InstanceAnswer) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows of the answer's root unit: the unit asked for, or (asked for none) the highest unit."""
    where = _where(answer.instance, answer.unit)
    if not answer.rows:
        return [], [f"{where}没有返回任何指标行。"]
    if answer.unit:
        root = [row for row in answer.rows if row["unit"] == answer.unit]
    else:
        top = min(row.get("level", 0) for row in answer.rows)
        root = [row for row in answer.rows if row.get("level", 0) == top]
        if len({row["unit"] for row in root}) > 1:
            return [], [f"{where}的应答有几个最高层单位，请在配置中写明根单位（unit 或 units）。"]
    if not root:
        return [], [f"{where}的应答中没有根单位 {answer.unit} 本身的行。"]
    codes = [row["indicator"] for row in root]
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        return [], [f"{where}对根单位的指标 {'、'.join(repeated)} 答了不止一行。"]
    return root, []


def _overlap_message(first: str, second: str, shared: set[str], names: Mapping[str, str]) -> str:
    listed = "、".join(
        f"{code}（{names[code]}）" if names.get(code) else code for code in sorted(shared)[:NAMED_OVERLAP]
    )
    more = f"等 {len(shared)} 个单位" if len(shared) > NAMED_OVERLAP else ""
    if first == second:
        return (
            f"实例“{first}”的几个根单位都报告了单位 {listed}{more}：根单位互相包含，相加会重复计数。"
            "请只写最上层的根单位。"
        )
    return (
        f"实例“{first}”和“{second}”都报告了单位 {listed}{more}：两者的单位范围重叠，"
        "相加会把这些单位的数字算两次，汇总不准确。请核对各实例的根单位，使每个单位只属于一个实例。"
    )


@dataclass(frozen=True)
class Federation:
    """The validated result: per instance, its own figure per indicator; and the indicators in order."""

    day: datetime.date
    indicators: list[tuple[str, str]]  # (code, label) in the first instance's order
    instances: list[Instance]
    own: dict[str, dict[str, tuple[int, int]]]  # instance name → indicator → (numerator, denominator)
    unit_names: dict[str, str]  # instance name → its root units' names


def validate(*, answers: Sequence[InstanceAnswer], day: datetime.date) -> Federation:
    """Checks that the answers can be summed exactly, and gives each instance's own figures.

    Refuses (FederationError, every problem listed) when a row lacks its counts, an instance did not answer
    its root unit, the instances do not all answer the same indicators, or a unit code appears in two
    instances (or in two root units of one instance): overlapping subtrees would be counted twice."""
    problems: list[str] = []
    instances: list[Instance] = []
    own: dict[str, dict[str, tuple[int, int]]] = {}
    unit_names: dict[str, list[str]] = {}
    indicator_sets: dict[str, set[str]] = {}
    labels: dict[str, str] = {}
    order: list[str] = []
    units_of: dict[str, set[str]] = {}
    names: dict[str, str] = {}
    for answer in answers:
        row_problems = _row_problems(answer, day)
        if row_problems:
            problems.extend(row_problems)
            continue
        root, root_problems = _root_rows(answer)
        problems.extend(root_problems)
        if not root:
            continue
        name = answer.instance.name
        if answer.instance not in instances:
            instances.append(answer.instance)
        answered = {row["indicator"] for row in root}
        if name in indicator_sets and indicator_sets[name] != answered:
            problems.append(f"实例“{name}”的几个根单位答出的指标不一致。")
        indicator_sets.setdefault(name, answered)
        sums = own.setdefault(name, {})
        for row in root:
            code = row["indicator"]
            if code not in labels:
                labels[code] = str(row.get("label") or code)
                order.append(code)
            numerator, denominator = sums.get(code, (0, 0))
            sums[code] = (numerator + row["numerator"], denominator + row["denominator"])
        unit_names.setdefault(name, []).append(str(root[0].get("unit_name") or root[0]["unit"]))
        codes = {row["unit"] for row in answer.rows}
        for row in answer.rows:
            names.setdefault(row["unit"], str(row.get("unit_name") or ""))
        shared = units_of.get(name, set()) & codes
        if shared:
            problems.append(_overlap_message(name, name, shared, names))
        units_of.setdefault(name, set()).update(codes)
    every = set(labels)
    for name, answered in indicator_sets.items():
        missing = every - answered
        if missing:
            others = [n for n, s in indicator_sets.items() if s & missing]
            problems.append(
                f"实例“{name}”没有指标 {'、'.join(sorted(missing))}（{'、'.join(others)} 有）："
                "各实例的指标不一致，无法相加。请让各实例运行同一版本，或用 --indicator 只汇总共有的指标。"
            )
    seen: list[str] = list(units_of)
    for index, first in enumerate(seen):
        for second in seen[index + 1 :]:
            shared = units_of[first] & units_of[second]
            if shared:
                problems.append(_overlap_message(first, second, shared, names))
    if problems:
        raise FederationError(problems)
    return Federation(
        day=day,
        indicators=[(code, labels[code]) for code in order],
        instances=instances,
        own=own,
        unit_names={name: "、".join(parts) for name, parts in unit_names.items()},
    )


def national_rows(*, federation: Federation, national_name: str = "全国") -> list[FigureRow]:
    """Per indicator: the national sum first, then each instance's own figure, in the instances' order."""
    rows: list[FigureRow] = []
    as_of = federation.day.isoformat()
    for code, label in federation.indicators:
        numerator = sum(federation.own[i.name][code][0] for i in federation.instances)
        denominator = sum(federation.own[i.name][code][1] for i in federation.instances)
        rows.append(
            FigureRow(
                as_of=as_of,
                indicator=code,
                label=label,
                scope=NATIONAL,
                instance="",
                unit="",
                unit_name=national_name,
                numerator=numerator,
                denominator=denominator,
                rate=rate_of(numerator=numerator, denominator=denominator),
            )
        )
        for instance in federation.instances:
            own_numerator, own_denominator = federation.own[instance.name][code]
            rows.append(
                FigureRow(
                    as_of=as_of,
                    indicator=code,
                    label=label,
                    scope=INSTANCE,
                    instance=instance.name,
                    unit=instance.unit_label,
                    unit_name=federation.unit_names[instance.name],
                    numerator=own_numerator,
                    denominator=own_denominator,
                    rate=rate_of(numerator=own_numerator, denominator=own_denominator),
                )
            )
    return rows


def federate(
    *,
    instances: Sequence[Instance],
    day: datetime.date,
    indicators: Sequence[str] = (),
    timeout: float = 60.0,
    national_name: str = "全国",
) -> list[FigureRow]:
    """Fetch every instance's figures for ``day``, check they can be added, and add them."""
    check_instances(instances=instances)
    answers = fetch_all(instances=instances, day=day, indicators=indicators, timeout=timeout)
    return national_rows(federation=validate(answers=answers, day=day), national_name=national_name)
