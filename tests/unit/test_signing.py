"""Signatures on federated messages and on the region directory, and the route check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.common import messaging, signing
from services.common.messaging import NodeIdentity
from services.common.region import (
    NodeSeeds,
    RegionDirectory,
    RegionManifest,
    hub_accounts,
    node_account,
    sign_directory,
)
from services.common.trust import NotYetTrusted, RegionTrust, Untrusted

SUBJECT = "copnet.r.guys.learning.item_published"
HEADERS = {
    messaging.HEADER_ORIGIN: "guys",
    messaging.HEADER_REGION: "r",
    messaging.HEADER_SERVICE: "learning",
    messaging.HEADER_POSITION: "7",
    messaging.HEADER_EVENT_TYPE: "item_published",
    messaging.HEADER_MSG_ID: "guys.learning.7",
}


def signed(seed: str, subject: str = SUBJECT, data: bytes = b"payload") -> dict[str, str]:
    return {**HEADERS, **signing.Signer(seed).message_headers(subject, HEADERS, data)}


def test_a_signature_covers_subject_headers_and_payload():
    seed = signing.new_seed()
    key = signing.public_key(seed)
    headers = signed(seed)
    assert signing.verify_message(SUBJECT, headers, b"payload", [key]) == key
    tampered = [
        (SUBJECT.replace("item_published", "item_withdrawn"), headers, b"payload"),
        (SUBJECT, headers, b"payload!"),
        *(
            (SUBJECT, {**headers, name: headers[name] + "0"}, b"payload")
            for name in signing.SIGNED_HEADERS
        ),
    ]
    for subject, changed, data in tampered:
        with pytest.raises(signing.BadSignature, match="does not verify"):
            signing.verify_message(subject, changed, data, [key])
    # Headers a server adds or rewrites are not covered.
    rewritten = {**headers, "Nats-Stream-Source": "COPNET_GUYS_PUBLIC 1 > >", "traceparent": "x"}
    signing.verify_message(SUBJECT, rewritten, b"payload", [key])


def test_only_the_origins_keys_count_and_garbage_is_refused_cleanly():
    seed, other = signing.new_seed(), signing.new_seed()
    headers = signed(other)
    with pytest.raises(signing.BadSignature, match="not a key of the origin"):
        signing.verify_message(SUBJECT, headers, b"payload", [signing.public_key(seed)])
    with pytest.raises(signing.BadSignature, match="not signed"):
        signing.verify_message(SUBJECT, HEADERS, b"payload", [signing.public_key(seed)])
    for signer, signature in (("UABC", "xx"), (signing.public_key(other), "!!!not base64")):
        forged = {**HEADERS, signing.HEADER_SIGNER: signer, signing.HEADER_SIGNATURE: signature}
        with pytest.raises(signing.BadSignature):
            signing.verify_message(SUBJECT, forged, b"payload", [signer])


def directory(manifest: RegionManifest, hub_seed: str) -> tuple[bytes, str]:
    document = manifest.directory_document()
    return document, sign_directory(document, hub_seed)[signing.HEADER_SIGNATURE]


def test_the_directory_must_be_the_hubs_and_of_this_region():
    hub_seed = signing.new_seed()
    hub_key = signing.public_key(hub_seed)
    manifest = RegionManifest("r")
    seeds = manifest.add_node("guys", "Guy's")
    assert isinstance(seeds, NodeSeeds)
    document, signature = directory(manifest, hub_seed)
    found = RegionDirectory.verified(document, signature, hub_key, "r")
    assert found.signing_keys("guys") == [signing.public_key(seeds.signing_seed)]
    with pytest.raises(signing.BadSignature):
        RegionDirectory.verified(document, signature, signing.public_key(signing.new_seed()), "r")
    with pytest.raises(signing.BadSignature):
        RegionDirectory.verified(document.replace(b"Guy", b"Gal"), signature, hub_key, "r")
    with pytest.raises(signing.BadSignature, match="region"):
        RegionDirectory.verified(document, signature, hub_key, "another")


def test_the_route_and_the_signature_are_checked(tmp_path: Path):
    hub_seed = signing.new_seed()
    manifest = RegionManifest("r")
    guys = manifest.add_node("guys", "")
    manifest.add_node("kings", "")
    assert guys is not None
    document, signature = directory(manifest, hub_seed)
    cache = tmp_path / "directory.json"
    cache.write_text(json.dumps({"document": document.decode(), "signature": signature}))
    trust = RegionTrust(NodeIdentity("kings", "r"), signing.public_key(hub_seed), cache)
    assert trust.directory is not None  # read back from disk, checked again

    source = {"Nats-Stream-Source": "COPNET_GUYS_PUBLIC:h4sh 12 copnet.r.guys.> > " + SUBJECT}
    headers = {**signed(guys.signing_seed), **source}
    trust.check(SUBJECT, headers)
    trust.verify(SUBJECT, headers, b"payload")
    for wrong in ("COPNET_LEWISHAM_PUBLIC:h4sh 3", "COPNET_GUYS_FOR_LEWISHAM 3", ""):
        with pytest.raises(Untrusted, match="came from stream"):
            trust.check(SUBJECT, {**headers, "Nats-Stream-Source": wrong})
    addressed = "copnet-partners.guys.kings.learning.item_published"
    trust.check(addressed, {"Nats-Stream-Source": "COPNET_GUYS_FOR_KINGS:x 1 > >"})
    with pytest.raises(Untrusted, match="came from stream"):
        trust.check(addressed, {"Nats-Stream-Source": "COPNET_GUYS_PUBLIC:x 1 > >"})
    with pytest.raises(Untrusted, match="own subject"):
        trust.check("copnet.r.kings.learning.item_published", headers)
    with pytest.raises(Untrusted, match="does not verify"):
        trust.verify(SUBJECT, headers, b"other payload")
    with pytest.raises(NotYetTrusted):
        trust.verify("copnet.r.newcomer.learning.item_published", headers, b"payload")
    # A cache someone edited is ignored, not trusted.
    cache.write_text(json.dumps({"document": document.decode() + " ", "signature": signature}))
    assert RegionTrust(trust.identity, trust.hub_key, cache).directory is None


def test_each_node_account_grants_exactly_its_partners_routes():
    manifest = RegionManifest("r")
    for node in ("a", "b", "c"):
        manifest.add_node(node, "")
    accounts = hub_accounts(manifest, signing.public_key(signing.new_seed()))
    a = accounts[node_account("a")]
    assert isinstance(a, dict)
    exports = {(e.get("service") or e.get("stream")): e["accounts"] for e in a["exports"]}
    assert exports["$JS.a.API.CONSUMER.CREATE.COPNET_A_FOR_B"] == ["NODE_B"]
    assert exports["$JS.a.API.CONSUMER.CREATE.COPNET_A_FOR_C.>"] == ["NODE_C"]
    assert sorted(exports["$JS.a.API.CONSUMER.CREATE.COPNET_A_PUBLIC"]) == ["NODE_B", "NODE_C"]
    assert exports["copnet-deliver.b.a.>"] == ["NODE_B"]
    # Nothing names A's own stream, its federation stream, or a wildcard API.
    for subject in exports:
        assert "COPNET_A_FEDERATION" not in subject and not subject.endswith("COPNET_A")
        assert not subject.startswith(("$JS.a.API.>", "$JS.a.API.*", "_INBOX", "$JS.API"))
    assert a["users"] == [
        {"nkey": manifest.nodes["a"].leaf_key, "allowed_connection_types": ["LEAFNODE"]}
    ]
    assert "jetstream" not in a  # no JetStream of its own on the hub
