"""Settings: a missing or malformed one is named in one clear line; staff are numeric ids only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.consultation_source import consultation_for
from bot.settings import DEFAULT_API_BASE_URL, DEFAULT_DATABASE_URL, SettingsError, read_settings

TOKEN = "123456:" + "A" * 35


def test_defaults_point_at_telegram_and_the_bundled_database() -> None:
    settings = read_settings({"BOT_TOKEN": TOKEN})
    assert settings.api_base_url == DEFAULT_API_BASE_URL
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.broadcast_rate == 20
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "BOT_TOKEN"),
        ({"BOT_TOKEN": "not-a-token"}, "BOT_TOKEN"),
        ({"BOT_TOKEN": TOKEN, "ADMIN_IDS": "12, @alice"}, "ADMIN_IDS"),
        ({"BOT_TOKEN": TOKEN, "STAFF_IDS": "bob"}, "STAFF_IDS"),
        ({"BOT_TOKEN": TOKEN, "DATABASE_URL": "postgres://x"}, "DATABASE_URL"),
        ({"BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "api.telegram.org"}, "TELEGRAM_API_BASE_URL"),
        ({"BOT_TOKEN": TOKEN, "CONSULTATION_CLOSES_AT": "next friday"}, "CONSULTATION_CLOSES_AT"),
        ({"BOT_TOKEN": TOKEN, "BROADCAST_RATE": "fast"}, "BROADCAST_RATE"),
        ({"BOT_TOKEN": TOKEN, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_a_bad_setting_is_named_in_one_line(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as refused:
        read_settings(env)
    assert str(refused.value).startswith(named)
    assert "\n" not in str(refused.value)


def test_staff_and_admins_are_recognised_by_numeric_id() -> None:
    settings = read_settings({"BOT_TOKEN": TOKEN, "ADMIN_IDS": "111", "STAFF_IDS": "222, 333"})
    assert settings.is_admin(111) and settings.is_staff(111)
    assert settings.is_staff(222) and not settings.is_admin(222)
    assert not settings.is_staff(444)


def test_rehearsal_dates_are_read_in_the_consultations_time_zone() -> None:
    settings = read_settings({"BOT_TOKEN": TOKEN, "CONSULTATION_OPENS_AT": "2026-06-01T09:00",
                              "CONSULTATION_CLOSES_AT": "2026-06-30T17:00"})
    consultation = consultation_for(settings)
    assert consultation.opens_at.astimezone(UTC) == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # 09:00 BST
    assert consultation.closes_at.astimezone(UTC) == datetime(2026, 6, 30, 16, 0, tzinfo=UTC)


def test_an_override_that_closes_before_it_opens_is_refused() -> None:
    settings = read_settings({"BOT_TOKEN": TOKEN, "CONSULTATION_CLOSES_AT": "2020-11-01T09:00"})
    with pytest.raises(SettingsError, match="CONSULTATION_CLOSES_AT"):
        consultation_for(settings)
