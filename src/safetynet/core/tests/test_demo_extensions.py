import pytest

from safetynet.core import demo


def test_extensions_are_discovered_in_app_order_and_run_once(monkeypatch):
    calls = []
    found = [
        ("甲", lambda *, seed, scale: calls.append(("甲", seed, scale)) or {"x": 1}),
        ("乙", lambda *, seed, scale: calls.append(("乙", seed, scale)) or {}),
    ]
    monkeypatch.setattr(demo, "demo_extensions", lambda: found)
    lines = []
    timings = demo.extend_demo(seed=7, scale="small", progress=lines.append)
    assert calls == [("甲", 7, "small"), ("乙", 7, "small")]
    assert list(timings) == ["甲", "乙"] and lines[0].startswith("甲：x 1")


@pytest.mark.django_db
def test_core_itself_is_not_an_extension():
    names = [name for name, _ in demo.demo_extensions()]
    assert "公共" not in names
