from __future__ import annotations

from tendering.core.auth.passwords import hash_password, needs_rehash, verify_password


def test_passwords_are_hashed_with_argon2id_and_salted():
    first, second = hash_password("correct-horse"), hash_password("correct-horse")
    assert first.startswith("$argon2id$")
    assert first != second
    assert not needs_rehash(first)


def test_verify_accepts_only_the_right_password():
    stored = hash_password("correct-horse")
    assert verify_password(stored, "correct-horse")
    assert not verify_password(stored, "correct-horsE")


def test_verify_is_false_for_a_missing_or_broken_hash():
    assert not verify_password(None, "not-a-real-password")  # the dummy hash's own password
    assert not verify_password("plain-text", "plain-text")
