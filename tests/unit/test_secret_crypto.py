"""Secrets encryption matches existing Cognova databases (API.md §14.3).

The vectors below were produced outside this project with Node.js:

    node -e 'const c=require("crypto");
      const key=c.scryptSync("vector-secret-4f9a","second-brain-secrets-salt",32,
                             {N:16384,r:8,p:1});
      const iv=Buffer.from("000102030405060708090a0b0c0d0e0f","hex");
      const x=c.createCipheriv("aes-256-gcm",key,iv);
      const ct=Buffer.concat([x.update("sk-ant-test-Ünïcødé ✓ value","utf8"),x.final()]);
      console.log(key.toString("hex"), ct.toString("hex")+":"+x.getAuthTag().toString("hex"))'
"""

from __future__ import annotations

import pytest

from cognova.services import secrets

NODE_SECRET = "vector-secret-4f9a"
NODE_KEY = "c224dfc471186c0828ed42dd55d5cdb0034356ecde1770abffbcd6ece48ea9a8"
NODE_IV = "000102030405060708090a0b0c0d0e0f"
NODE_PLAINTEXT = "sk-ant-test-Ünïcødé ✓ value"
NODE_ENCRYPTED = (
    "2a4b0379b9307e756b80f00e781d5b7c4c55ca1150b4ce4967a01658ef266e0f70"
    ":fbaf74d59fb1e3654f394f14761fb6bc"
)


def test_key_derivation_matches_node_scrypt():
    assert secrets.derive_key(NODE_SECRET).hex() == NODE_KEY


def test_decrypts_a_value_encrypted_by_node():
    assert secrets.decrypt(NODE_ENCRYPTED, NODE_IV, NODE_SECRET) == NODE_PLAINTEXT


def test_encrypts_in_the_node_format(monkeypatch):
    monkeypatch.setattr(secrets.os, "urandom", lambda n: bytes.fromhex(NODE_IV))
    assert secrets.encrypt(NODE_PLAINTEXT, NODE_SECRET) == (NODE_ENCRYPTED, NODE_IV)


def test_fresh_iv_each_time():
    first = secrets.encrypt("same", NODE_SECRET)
    second = secrets.encrypt("same", NODE_SECRET)
    assert first[1] != second[1] and first[0] != second[0]
    assert len(first[1]) == 32 and first[1] == first[1].lower()


@pytest.mark.parametrize(
    "encrypted, iv, secret",
    [
        (NODE_ENCRYPTED, NODE_IV, "another-secret"),
        ("00" + NODE_ENCRYPTED[2:], NODE_IV, NODE_SECRET),
        (NODE_ENCRYPTED[:-2] + "00", NODE_IV, NODE_SECRET),
        (NODE_ENCRYPTED, "ff" + NODE_IV[2:], NODE_SECRET),
        (NODE_ENCRYPTED.replace(":", ""), NODE_IV, NODE_SECRET),
        ("zz:yy", NODE_IV, NODE_SECRET),
        (NODE_ENCRYPTED, "", NODE_SECRET),
        (NODE_ENCRYPTED.split(":")[0] + ":abcd", NODE_IV, NODE_SECRET),
    ],
)
def test_wrong_key_tamper_or_malformed_is_undecryptable(encrypted, iv, secret):
    with pytest.raises(secrets.Undecryptable) as info:
        secrets.decrypt(encrypted, iv, secret)
    assert info.value.status == 409
    assert info.value.message == secrets.UNDECRYPTABLE
    assert NODE_PLAINTEXT not in str(info.value)
