"""`safetynet rotate-pii-key`: everything re-encrypted and re-hashed with the new key, or nothing."""

from __future__ import annotations

import datetime

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from safetynet.members import crypto
from safetynet.members.models import Person
from safetynet.members.selectors import person_find_by_id_number
from safetynet.members.services import person_register
from safetynet.members.tests.factories import make_id_number


def test_rotation_re_encrypts_and_re_hashes(registry, city, make_staff, settings):
    numbers = [make_id_number(n) for n in range(1, 8)]
    for n, number in enumerate(numbers):
        person_register(
            actor=None,
            name=f"职工{n}",
            id_number=number,
            enterprise=registry.acme,
            employed_from=datetime.date(2010, 1, 1),
            phone="13800001111" if n % 2 else "",
        )
    before = {p.pk: (p.id_number_encrypted, p.id_number_hash) for p in Person.objects.all()}
    new_key = Fernet.generate_key().decode()
    # "--new-key=…": a Fernet key may begin with "-", which argparse would take for an option.
    call_command("rotate-pii-key", f"--new-key={new_key}", "--batch-size", "3")
    settings.PII_KEY = new_key
    for person in Person.objects.all():
        assert person.id_number_encrypted != before[person.pk][0]
        assert person.id_number_hash != before[person.pk][1]
        assert crypto.decrypt(person.id_number_encrypted) in numbers
        assert person.id_number_hash == crypto.lookup_hash(crypto.decrypt(person.id_number_encrypted))
    assert Person.objects.filter(phone_hash=crypto.lookup_hash("13800001111")).count() == 3
    assert Person.objects.filter(phone_hash="").count() == 4
    staff = make_staff("zs", city.zhongshan, "viewer")
    assert person_find_by_id_number(staff, numbers[0]).name == "职工0"


def test_rotation_refuses_a_bad_or_identical_key_and_changes_nothing(registry, settings):
    person_register(
        actor=None,
        name="王小明",
        id_number=make_id_number(1),
        enterprise=registry.acme,
        employed_from=datetime.date(2010, 1, 1),
    )
    before = list(Person.objects.values_list("id_number_encrypted", flat=True))
    with pytest.raises(CommandError, match="Fernet"):
        call_command("rotate-pii-key", "--new-key", "not-a-key")
    with pytest.raises(CommandError, match="相同"):
        call_command("rotate-pii-key", f"--new-key={settings.PII_KEY or crypto._development_key()}")
    assert list(Person.objects.values_list("id_number_encrypted", flat=True)) == before
    # A second person written under another key cannot be decrypted: the whole rotation is refused.
    person_register(
        actor=None,
        name="李红",
        id_number=make_id_number(2),
        enterprise=registry.acme,
        employed_from=datetime.date(2010, 1, 1),
    )
    Person.objects.filter(name="李红").update(
        id_number_encrypted=Fernet(Fernet.generate_key()).encrypt(b"x").decode()
    )
    stored = sorted(Person.objects.values_list("id_number_encrypted", "id_number_hash"))
    with pytest.raises(CommandError, match="未作任何修改"):
        call_command("rotate-pii-key", f"--new-key={Fernet.generate_key().decode()}", "--batch-size", "1")
    assert sorted(Person.objects.values_list("id_number_encrypted", "id_number_hash")) == stored
