"""Passwords are stored in BetterAuth's format so existing accounts keep signing in."""

from cognova.services.auth import hash_password, verify_password

# Made outside this project with Node.js:
#   crypto.scryptSync(pw.normalize("NFKC"), saltHex, 64, {N: 16384, r: 16, p: 1})
# The password contains "ﬁ" (U+FB01), which NFKC turns into "fi".
KNOWN_PASSWORD = "Très sécret \ufb01le"
KNOWN_HASH = (
    "00112233445566778899aabbccddeeff:"
    "e183b8a199c9aab6767650abf5f6e63d70b91c252f37d4e91435f423f5b168c1"
    "e3e048237cd14c292381c8918856a0f3ed4420feb3e03be595eef47882fb92fe"
)


def test_a_hash_made_by_the_typescript_algorithm_verifies():
    assert verify_password(KNOWN_PASSWORD, KNOWN_HASH)


def test_the_normalised_form_of_the_password_verifies_too():
    assert verify_password("Très sécret file", KNOWN_HASH)


def test_a_wrong_password_does_not_verify():
    assert not verify_password("Très sécret fil", KNOWN_HASH)


def test_new_hashes_use_a_fresh_hex_salt_and_a_64_byte_key():
    first, second = hash_password("hunter2hunter2"), hash_password("hunter2hunter2")
    assert first != second
    salt, key = first.split(":")
    assert len(salt) == 32 and len(key) == 128
    assert salt == salt.lower() and key == key.lower()
    assert verify_password("hunter2hunter2", first)


def test_malformed_stored_values_never_verify():
    for stored in (None, "", "nocolon", "abc:nothex"):
        assert not verify_password("whatever1", stored)
