"""Attack on what issue 13 landed (operators' keys, qrCode, logs, proxies): each test failed first."""

from __future__ import annotations

from tests.helpers import checkout, create_event, create_td, reserve


def test_a_visitors_checkout_answer_carries_no_qr_code(api, make_api):
    """The brief's contract: `qrCode` reaches no visitor or member (apps of the site owner only)."""
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=10, pricingMethod={"fixedPrice": {"value": "0", "currency": "USD"}})
    for who in ("visitor", "member"):
        buyer = make_api(identity=who)
        out = checkout(buyer, ev["id"], reserve(buyer, td["id"])["id"])
        assert out["order"]["status"] == "FREE"
        assert all("qrCode" not in t for t in out["order"]["tickets"]), who


def test_a_key_read_just_before_its_revocation_is_not_cached_again(database):
    """A request's lookup that read the key before `revoke` committed must not put it back
    in the revoking process's cache (else it lives another BOXOFFICE_AUTH_CACHE_SECONDS)."""
    from boxoffice import auth
    from boxoffice.identity import IdentityType

    with database.session(write=True) as s:
        row, raw = auth.issue_key(s, "site-race", IdentityType.APP, "someone")
        key_id = row.id
    h, hit = auth.cached(raw, 60)
    assert hit is None
    principal = auth.lookup(database, h)  # the request read it ...
    assert principal is not None
    database.write(lambda s: auth.revoke_key(s, key_id))  # ... the revocation commits ...
    auth.remember(h, principal)  # ... and then the request caches what it read
    assert auth.cached(raw, 60)[1] is None
    assert auth.lookup(database, h) is None


def test_self_signed_tls_keeps_its_ca_key_private_from_the_start(tmp_path, monkeypatch):
    """`serve --tls-self-signed` makes a CA that the developer trusts (NODE_EXTRA_CA_CERTS,
    curl --cacert): whoever reads its key can impersonate any host to them. Its directory
    is private and no key file is ever readable by others, not even between write and chmod."""
    import os
    import stat

    from boxoffice import cli

    modes: list[int] = []
    real_chmod = type(tmp_path).chmod

    def spy(self, mode, **kw):  # the mode a key file had before any chmod
        modes.append(stat.S_IMODE(os.stat(self).st_mode))
        return real_chmod(self, mode, **kw)

    monkeypatch.setattr(type(tmp_path), "chmod", spy)
    d = tmp_path / "tls"
    cli._self_signed(d, "127.0.0.1")
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    for name in ("ca.key", "server.key"):
        assert stat.S_IMODE((d / name).stat().st_mode) == 0o600
    assert all(m & 0o077 == 0 for m in modes), [oct(m) for m in modes]
