# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hs_crypto_key_rewrap against the in-process emulator: data keys wrapped by an HPCS root key (instance A) move to a Key
Protect root key (KP_STANDARD); the plaintext never leaves the module process."""

import base64
import hashlib
import json
import os
import stat
import string

import pytest

from hpcs_emulator.testing import KP_STANDARD

from ansible_collections.ibm.hs_crypto.plugins.modules.hs_crypto_key_rewrap import main

from .conftest import INSTANCE_A

KEY_TYPE = "application/vnd.ibm.kms.key+json"
KP = {"Bluemix-Instance": KP_STANDARD}


@pytest.fixture
def run(run_module, hsc):
    def go(items, check_mode=False, **params):
        args = hsc.args(items=items, target={"instance_id": KP_STANDARD, "endpoint": hsc.url}, **params)
        return run_module(main, args, check_mode=check_mode)
    return go


def root_key(hsc, alias, headers=None):
    body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
            "resources": [{"type": KEY_TYPE, "name": alias, "extractable": False, "aliases": [alias]}]}
    response = hsc.kms("POST", "keys", json=body, headers=headers or {})
    assert response.status_code == 201, response.text
    return response.json()["resources"][0]


@pytest.fixture
def keys(hsc):
    """A source root key (``hpcs-root``) in instance A and a target root key (``kp-root``) in Key Protect."""
    return {"source": root_key(hsc, "hpcs-root"), "target": root_key(hsc, "kp-root", KP)}


def b64(data):
    return base64.b64encode(data).decode()


def wrap_at(hsc, ref, dek, aad=None, headers=None):
    body = {"plaintext": dek}
    if aad:
        body["aad"] = aad
    response = hsc.kms("POST", f"keys/{ref}/actions/wrap", json=body, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()["ciphertext"]


def unwrap_at(hsc, ref, ciphertext, aad=None, headers=None):
    body = {"ciphertext": ciphertext}
    if aad:
        body["aad"] = aad
    response = hsc.kms("POST", f"keys/{ref}/actions/unwrap", json=body, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()["plaintext"]


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def make_files(hsc, folder, count, ref="hpcs-root"):
    """``count`` wrapped DEKs in ``folder/src``: even ones as raw base64 (with a line break), odd ones as JSON."""
    src_dir, dest_dir = folder / "src", folder / "dest"
    src_dir.mkdir(exist_ok=True)
    dest_dir.mkdir(exist_ok=True)
    deks, items = [], []
    for index in range(count):
        dek = b64(os.urandom(32))
        ciphertext = wrap_at(hsc, ref, dek)
        src = src_dir / f"dek-{index:03d}.wrapped"
        if index % 2:
            src.write_text(json.dumps({"ciphertext": ciphertext, "note": "from the vault"}))
        else:
            src.write_text(ciphertext[:40] + "\n" + ciphertext[40:] + "\n")
        deks.append(dek)
        items.append({"src": str(src), "dest": str(dest_dir / f"dek-{index:03d}.json"), "source_key": ref, "target_key": "kp-root"})
    return deks, items


def written_files(folder):
    return [path for path in folder.rglob("*") if path.is_file()]


def test_fifty_files_rewrap_rerun_skips_changed_src_rewraps_again(run, hsc, keys, tmp_path):
    deks, items = make_files(hsc, tmp_path, 50)
    mark = hsc.mark()
    failed, result = run(items)
    assert not failed, result.get("msg")
    assert result["changed"] and result["summary"] == {"total": 50, "rewrapped": 50, "skipped": 0, "failed": 0}
    assert [r["item"] for r in result["results"]] == [item["src"] for item in items]
    assert {r["status"] for r in result["results"]} == {"rewrapped"}
    assert {r["target_key_id"] for r in result["results"]} == {keys["target"]["id"]}
    assert all("ciphertext" not in r for r in result["results"])
    sent = hsc.requests_since(mark)
    assert [(e["method"], e["path"]) for e in sent if e["instance"] == INSTANCE_A] == [("POST", "/api/v2/keys/hpcs-root/actions/unwrap")] * 50
    assert [e["method"] for e in sent if e["instance"] == KP_STANDARD] == ["GET"] + ["POST"] * 50
    assert not any(e["write"] for e in sent)
    for dek, item in zip(deks, items):
        dest = item["dest"]
        assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
        with open(dest) as handle:
            record = json.load(handle)
        assert set(record) == {"ciphertext", "key_id", "key_crn", "source_sha256"}
        assert record["key_id"] == keys["target"]["id"] and record["key_crn"] == keys["target"]["crn"]
        with open(item["src"]) as handle:
            text = handle.read()
        source_ciphertext = json.loads(text)["ciphertext"] if text.startswith("{") else "".join(text.split())
        assert record["source_sha256"] == sha256(source_ciphertext)
        # The new ciphertext is the target key's, and holds the same data key.
        assert unwrap_at(hsc, "kp-root", record["ciphertext"], headers=KP) == dek
    # No plaintext in the result, nor in any file the module wrote (the raw bytes neither); no temporary file left behind.
    dumped = json.dumps(result)
    contents = [path.read_bytes() for path in written_files(tmp_path / "dest")]
    assert len(contents) == 50
    for dek in deks:
        assert dek not in dumped
        assert not any(dek.encode() in content or base64.b64decode(dek) in content for content in contents)

    mark = hsc.mark()
    failed, again = run(items)
    assert not failed and not again["changed"]
    assert again["summary"] == {"total": 50, "rewrapped": 0, "skipped": 50, "failed": 0}
    assert {r["target_key_id"] for r in again["results"]} == {keys["target"]["id"]}
    assert hsc.requests_since(mark, service=None) == []

    new_dek = b64(os.urandom(32))
    with open(items[7]["src"], "w") as handle:
        handle.write(wrap_at(hsc, "hpcs-root", new_dek))
    mark = hsc.mark()
    failed, third = run(items)
    assert not failed and third["changed"]
    assert third["summary"] == {"total": 50, "rewrapped": 1, "skipped": 49, "failed": 0}
    assert third["results"][7]["status"] == "rewrapped"
    assert len([e for e in hsc.requests_since(mark) if e["route"].endswith("/actions/unwrap")]) == 1
    with open(items[7]["dest"]) as handle:
        assert unwrap_at(hsc, "kp-root", json.load(handle)["ciphertext"], headers=KP) == new_dek
    assert new_dek not in json.dumps(third)


def test_wrong_source_key_fails_that_item_only(run, hsc, keys, tmp_path):
    root_key(hsc, "other-root")
    deks, items = make_files(hsc, tmp_path, 3)
    stranger = tmp_path / "src" / "stranger.wrapped"
    stranger.write_text(wrap_at(hsc, "other-root", b64(os.urandom(32))))
    items.insert(1, {"src": str(stranger), "dest": str(tmp_path / "dest" / "stranger.json"), "source_key": "hpcs-root",
                     "target_key": "kp-root"})
    failed, result = run(items)
    assert failed and result["summary"] == {"total": 4, "rewrapped": 3, "skipped": 0, "failed": 1}
    assert result["msg"].startswith(f"1 of 4 items failed: {stranger}: items[1]: Unwrap with key with alias hpcs-root")
    assert "UNPROCESSABLE_CIPHERTEXT_ERR" in result["results"][1]["msg"] or "not wrapped by this key" in result["results"][1]["msg"]
    assert result["results"][1]["status"] == "failed" and result["results"][1]["error"]["status"] == 422
    assert [r["status"] for r in result["results"]] == ["rewrapped", "failed", "rewrapped", "rewrapped"]
    assert result["changed"]
    assert not os.path.exists(tmp_path / "dest" / "stranger.json")
    for dek in deks:
        assert dek not in json.dumps(result)


def test_check_mode_sends_no_request_and_writes_nothing(run, hsc, keys, tmp_path):
    deks, items = make_files(hsc, tmp_path, 4)
    failed, first = run(items[:2])
    assert not failed
    before = {path.name: path.read_bytes() for path in written_files(tmp_path / "dest")}
    variable = {"ciphertext": wrap_at(hsc, "hpcs-root", deks[0]), "source_key": "hpcs-root", "target_key": "kp-root"}
    mark = hsc.mark()
    failed, result = run(items + [variable], check_mode=True)
    assert not failed and result["changed"]
    assert [r["status"] for r in result["results"]] == ["skipped", "skipped", "would_rewrap", "would_rewrap", "would_rewrap"]
    assert result["summary"] == {"total": 5, "rewrapped": 3, "skipped": 2, "failed": 0}
    assert result["results"][4]["ciphertext"] is None and result["results"][4]["item"] == 4
    assert hsc.requests_since(mark, service=None) == []
    assert {path.name: path.read_bytes() for path in written_files(tmp_path / "dest")} == before
    # The real run does what check mode predicted.
    failed, real = run(items + [variable])
    assert not failed and [r["status"] for r in real["results"]] == ["skipped", "skipped", "rewrapped", "rewrapped", "rewrapped"]


def test_check_mode_is_silent(run, hsc, keys, tmp_path):
    deks, items = make_files(hsc, tmp_path, 3)
    mark = hsc.mark()
    failed, result = run(items, check_mode=True)
    assert not failed and [r["status"] for r in result["results"]] == ["would_rewrap"] * 3
    assert hsc.requests_since(mark, service=None) == []
    assert written_files(tmp_path / "dest") == []


def test_ciphertext_items_return_the_new_ciphertext(run, hsc, keys):
    dek = b64(os.urandom(32))
    aad = ["tenant-42", "eu-de"]
    ciphertext = wrap_at(hsc, "hpcs-root", dek, aad=aad)
    failed, result = run([{"ciphertext": ciphertext, "source_key": keys["source"]["id"], "target_key": "kp-root", "aad": aad}])
    assert not failed and result["changed"]
    entry = result["results"][0]
    assert entry["item"] == 0 and entry["status"] == "rewrapped" and entry["dest"] is None
    assert entry["target_key_id"] == keys["target"]["id"] and entry["ciphertext"] != ciphertext
    assert unwrap_at(hsc, "kp-root", entry["ciphertext"], aad=aad, headers=KP) == dek
    dumped = json.dumps(result)
    assert dek not in dumped and ciphertext not in dumped and "tenant-42" not in dumped
    assert "no_log: true" in json.dumps(result.get("warnings", []))  # strings before ansible-core 2.19, records since


def test_short_aad_never_damages_the_returned_ciphertext(run, hsc, keys):
    aad = list(string.ascii_letters + string.digits)
    dek = b64(os.urandom(32))
    ciphertext = wrap_at(hsc, "hpcs-root", dek, aad=aad)
    failed, result = run([{"ciphertext": ciphertext, "source_key": "hpcs-root", "target_key": "kp-root", "aad": aad}])
    assert not failed
    new = result["results"][0]["ciphertext"]
    assert "*" not in new
    assert unwrap_at(hsc, "kp-root", new, aad=aad, headers=KP) == dek
    echoed = result["invocation"]["module_args"]
    # A placeholder instead of each secret input (itself partly masked by the aad values that did not collide).
    assert isinstance(echoed["items"][0]["aad"], str) and isinstance(echoed["items"][0]["ciphertext"], str)
    dumped = json.dumps(result)
    assert ciphertext not in dumped, dumped[max(0, dumped.find(ciphertext) - 300):dumped.find(ciphertext) + 50]
    assert not echoed["api_key"].startswith("hsc-emulator") and dek not in json.dumps(result)


def test_target_key_missing_or_not_root_fails_before_any_unwrap(run, hsc, keys, tmp_path):
    body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
            "resources": [{"type": KEY_TYPE, "name": "kp-std", "extractable": True, "aliases": ["kp-std"]}]}
    assert hsc.kms("POST", "keys", json=body, headers=KP).status_code == 201
    deks, items = make_files(hsc, tmp_path, 3)
    items[0]["target_key"] = "no-such-key"
    items[1]["target_key"] = "kp-std"
    mark = hsc.mark()
    failed, result = run(items)
    assert failed and [r["status"] for r in result["results"]] == ["failed", "failed", "rewrapped"]
    assert "No key with alias no-such-key exists in the target instance" in result["results"][0]["msg"]
    assert "is a standard key; only root keys wrap data keys" in result["results"][1]["msg"]
    assert len([e for e in hsc.requests_since(mark) if e["route"].endswith("/actions/unwrap")]) == 1


def test_dest_written_for_another_target_key_id_is_rewrapped(run, hsc, keys, tmp_path):
    second = root_key(hsc, "kp-root-2", KP)
    deks, items = make_files(hsc, tmp_path, 1)
    items[0]["target_key"] = keys["target"]["id"]
    assert not run(items)[0]
    items[0]["target_key"] = second["id"]
    failed, result = run(items)
    assert not failed and result["results"][0]["status"] == "rewrapped" and result["results"][0]["target_key_id"] == second["id"]
    with open(items[0]["dest"]) as handle:
        assert unwrap_at(hsc, "kp-root-2", json.load(handle)["ciphertext"], headers=KP) == deks[0]


def test_a_failed_write_leaves_no_file_and_others_go_on(run, hsc, keys, tmp_path, monkeypatch):
    deks, items = make_files(hsc, tmp_path, 2)
    real_replace = os.replace

    def refuse(src, dst):
        if str(dst) == items[0]["dest"]:
            raise PermissionError(13, "Permission denied", dst)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", refuse)
    failed, result = run(items)
    assert failed and [r["status"] for r in result["results"]] == ["failed", "rewrapped"]
    assert "Permission denied" in result["results"][0]["msg"]
    assert [path.name for path in written_files(tmp_path / "dest")] == ["dek-001.json"]
    for dek in deks:
        assert dek not in json.dumps(result)


def test_a_dest_that_is_not_a_rewrap_is_replaced(run, hsc, keys, tmp_path):
    deks, items = make_files(hsc, tmp_path, 2)
    with open(items[0]["dest"], "w") as handle:
        handle.write("not json")
    with open(items[1]["dest"], "w") as handle:
        json.dump({"ciphertext": "AAAA", "key_id": keys["target"]["id"], "source_sha256": "0" * 64}, handle)
    failed, result = run(items)
    assert not failed and [r["status"] for r in result["results"]] == ["rewrapped", "rewrapped"]
    for dek, item in zip(deks, items):
        with open(item["dest"]) as handle:
            assert unwrap_at(hsc, "kp-root", json.load(handle)["ciphertext"], headers=KP) == dek


@pytest.mark.parametrize("change,message", [
    (lambda item, tmp: item.update(ciphertext="AAAA"), "items[0] needs exactly one of src (a file holding the wrapped key) or ciphertext"),
    (lambda item, tmp: item.pop("src"), "items[0] needs exactly one of src"),
    (lambda item, tmp: item.pop("dest"), "items[0].dest is required with items[0].src"),
    (lambda item, tmp: item.update(src=str(tmp / "missing")), "items[0].src: '"),
    (lambda item, tmp: (tmp / "garbage").write_text("not base64 !!") and item.update(src=str(tmp / "garbage")),
     "items[0].src ('"),
    (lambda item, tmp: (tmp / "nojson").write_text('{"wrapped": "AAAA"}') and item.update(src=str(tmp / "nojson")),
     "has no ciphertext field"),
    (lambda item, tmp: (tmp / "badjson").write_text('{"ciphertext": ') and item.update(src=str(tmp / "badjson")),
     "is not valid JSON"),
    (lambda item, tmp: item.update(dest=item["src"]), "items[0].dest is items[0].src"),
    (lambda item, tmp: item.update(dest=str(tmp / "nowhere" / "x.json")), "items[0].dest: the directory"),
    (lambda item, tmp: item.update(target_key="crn:v1:bluemix:public:kms:us-south:a/abc:3f9e8d7c-6b5a-4d3c-8b2a-1f0e9d8c7b6a:key:"
                                   "02fd6835-6001-4482-a892-13bd2085f75d"), "items[0].target_key is the CRN of a key of instance"),
    (lambda item, tmp: item.update(source_key="has space"), "items[0].source_key: 'has space' is not a valid alias"),
    (lambda item, tmp: item.update(aad=["x" * 300]), "items[0]: aad[0] must be a string of at most 255 characters"),
])
def test_bad_items_fail_before_any_request(run, hsc, keys, tmp_path, change, message):
    deks, items = make_files(hsc, tmp_path, 2)
    change(items[0], tmp_path)
    hsc.token()
    mark = hsc.mark()
    failed, result = run(items)
    assert failed and message in result["msg"], result["msg"]
    assert hsc.requests_since(mark, service=None) == []
    assert written_files(tmp_path / "dest") == []


def test_same_dest_twice_and_dest_that_is_another_src(run, hsc, keys, tmp_path):
    deks, items = make_files(hsc, tmp_path, 3)
    items[1]["dest"] = items[0]["dest"]
    items[2]["dest"] = items[0]["src"]
    hsc.token()
    mark = hsc.mark()
    failed, result = run(items)
    assert failed
    assert "items[0].dest and items[1].dest are the same file" in result["msg"]
    assert "items[2].dest is the src of items[0]" in result["msg"]
    assert hsc.requests_since(mark, service=None) == []


def test_a_service_message_echoing_the_plaintext_is_scrubbed(run, hsc, keys, tmp_path):
    # Defence in depth: the plaintext read from the source is registered with both connections' redactors and with the
    # values Ansible masks, so even a service that echoed it in an error would not show it.
    deks, items = make_files(hsc, tmp_path, 2)
    echo = {"errorMsg": f"refused plaintext {deks[0]}", "errorCode": "INVALID_FIELD_ERR"}
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "POST", "path": "/actions/wrap$", "status": 400,
                                                   "body": echo, "times": 1}]})
    failed, result = run(items)
    hsc.control("DELETE", "faults")
    assert failed and [r["status"] for r in result["results"]] == ["failed", "rewrapped"]
    assert "refused plaintext ********" in result["results"][0]["msg"]
    assert deks[0] not in json.dumps(result) and deks[1] not in json.dumps(result)
    assert not os.path.exists(items[0]["dest"])


def test_create_dirs_makes_missing_dest_directories_except_in_check_mode(run, hsc, keys, tmp_path):
    """The migration role writes into a new tree (wdeks-kp/<app>): without create_dirs a missing directory is refused
    before any request; with it, check mode predicts and creates nothing, and the real run creates it (0700)."""
    dek = b64(os.urandom(32))
    src = tmp_path / "dek.b64"
    src.write_text(wrap_at(hsc, "hpcs-root", dek) + "\n")
    dest = tmp_path / "new" / "tree" / "dek.json"
    items = [{"src": str(src), "dest": str(dest), "source_key": "hpcs-root", "target_key": "kp-root"}]
    mark = hsc.mark()
    failed, result = run(items)
    assert failed and "does not exist" in result["msg"] and hsc.requests_since(mark, service=None) == []
    failed, result = run(items, check_mode=True, create_dirs=True)
    assert not failed, result.get("msg")
    assert result["summary"]["rewrapped"] == 1 and not (tmp_path / "new").exists()
    assert hsc.requests_since(mark, service=None) == []
    failed, result = run(items, create_dirs=True)
    assert not failed, result.get("msg")
    assert stat.S_IMODE((tmp_path / "new" / "tree").stat().st_mode) == 0o700
    assert unwrap_at(hsc, "kp-root", json.loads(dest.read_text())["ciphertext"], headers=KP) == dek
