# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sign-in with a trusted profile: the compute-resource-token grant and the VPC instance metadata flow, against the emulator."""

import json
import socket

import pytest

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError, IamError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._iam import ComputeResourceGrant, TokenProvider, VpcInstanceGrant
from ansible_collections.ibm.hs_crypto.plugins.module_utils._transport import Transport
from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_iam_token, hs_crypto_key, hs_crypto_key_info

from hpcs_emulator.config import load_default_config  # pylint: disable=wrong-import-order

from hpcs_emulator.testing import ALICE_API_KEY, INSTANCE_A  # pylint: disable=wrong-import-order

CR_GRANT = "urn:ibm:params:oauth:grant-type:cr-token"
CR_TOKEN = load_default_config()["compute_resources"][0]["cr_token"]
AUTOMATION = "Profile-9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f"  # trusts the pod; linked to the VSI
VSI_DEFAULT = "Profile-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
ACCOUNT = load_default_config()["account_id"]
AUTOMATION_CRN = f"crn:v1:bluemix:public:iam-identity::a/{ACCOUNT}::profile:{AUTOMATION}"
ENV = ("CR_TOKEN_FILENAME", "IAM_PROFILE_ID", "IAM_PROFILE_NAME", "IAM_PROFILE_CRN", "HS_CRYPTO_AUTH_TYPE", "HS_CRYPTO_METADATA_URL",
       "VPC_IMS_VERSION")


@pytest.fixture(autouse=True)
def no_profile_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def cr_file(tmp_path):
    path = tmp_path / "sa-token"
    path.write_text(CR_TOKEN + "\n")
    return str(path)


def claims(token):
    from ansible_collections.ibm.hs_crypto.plugins.module_utils._iam import decode_jwt_claims  # pylint: disable=import-outside-toplevel
    return decode_jwt_claims(token)


def provider(grant, emu):
    return TokenProvider(Transport(), iam_url=emu.http_url, grant=grant)


def all_requests(hsc, mark):
    return hsc.requests_since(mark, service=None)


# -- the grants, against the emulator ---------------------------------------------------------------------------------

@pytest.mark.parametrize("selector", [dict(profile_id=AUTOMATION), dict(profile_name="ansible-automation"),
                                      dict(profile_crn=AUTOMATION_CRN)])
def test_cr_token_grant(hsc, cr_file, selector):
    mark = hsc.mark()
    token = provider(ComputeResourceGrant(cr_token_file=cr_file, **selector), hsc.server).token()
    assert claims(token.access_token)["iam_id"] == f"iam-{AUTOMATION}"
    log = all_requests(hsc, mark)
    assert [(e["service"], e.get("grant_type")) for e in log] == [("iam", CR_GRANT)]
    assert CR_TOKEN not in json.dumps(log) and "apikey" not in json.dumps(log)


@pytest.mark.parametrize("version", ["2022-03-01", "2025-08-26"])
@pytest.mark.parametrize("selector,expected", [({}, VSI_DEFAULT), (dict(profile_id=AUTOMATION), AUTOMATION),
                                               (dict(profile_crn=AUTOMATION_CRN), AUTOMATION)])
def test_vpc_metadata_grant(hsc, version, selector, expected):
    mark = hsc.mark()
    tokens = provider(VpcInstanceGrant(metadata_url=hsc.url, version=version, **selector), hsc.server)
    assert claims(tokens.token().access_token)["iam_id"] == f"iam-{expected}"
    log = all_requests(hsc, mark)
    assert [(e["service"], e["method"]) for e in log] == [("metadata", "PUT"), ("metadata", "POST")]
    assert version in log[0]["query"]
    # The identity token is a secret: redacted wherever the provider's redactor is used.
    identity = tokens.secrets()[0]
    assert tokens.redact(f"x {identity} y") != f"x {identity} y"


def test_the_token_file_is_read_again_at_every_renewal(hsc, tmp_path):
    path = tmp_path / "token"
    path.write_text("an-old-token-the-platform-replaced")
    tokens = provider(ComputeResourceGrant(cr_token_file=str(path), profile_id=AUTOMATION), hsc.server)
    with pytest.raises(IamError) as failure:
        tokens.refresh()
    assert failure.value.status == 400 and "an-old-token" not in str(failure.value)
    path.write_text(CR_TOKEN)  # the platform rotated it
    assert claims(tokens.refresh().access_token)["iam_id"] == f"iam-{AUTOMATION}"


def test_default_token_file_locations(tmp_path):
    grant = ComputeResourceGrant(profile_id=AUTOMATION, exists=lambda path: path.endswith("sa-token"))
    assert grant.token_file() == "/var/run/secrets/tokens/sa-token"
    with pytest.raises(ConfigurationError, match="cr_token_file .*CR_TOKEN_FILENAME"):
        ComputeResourceGrant(profile_id=AUTOMATION, exists=lambda path: False).token_file()


# -- modules --------------------------------------------------------------------------------------------------------

def container_args(hsc, cr_file, **extra):
    args = {"instance_id": INSTANCE_A, "endpoint": hsc.url, "iam_url": hsc.url, "auth_type": "container",
            "cr_token_file": cr_file, "iam_profile_id": AUTOMATION}
    args.update(extra)
    return args


def vpc_args(hsc, **extra):
    args = {"instance_id": INSTANCE_A, "endpoint": hsc.url, "iam_url": hsc.url, "auth_type": "vpc", "metadata_url": hsc.url}
    args.update(extra)
    return args


def test_module_signs_in_with_a_cr_token(hsc, run_module, cr_file):
    mark = hsc.mark()
    failed, result = run_module(hs_crypto_key.main, container_args(hsc, cr_file, name="tp-root"))
    assert not failed and result["changed"], result
    log = all_requests(hsc, mark)
    assert [e.get("grant_type") for e in log if e["service"] == "iam"] == [CR_GRANT]
    assert CR_TOKEN not in json.dumps(result) and CR_TOKEN not in json.dumps(log)


@pytest.mark.parametrize("version", ["2022-03-01", "2025-08-26"])
def test_module_signs_in_through_the_vpc_metadata_service(hsc, run_module, version):
    hsc.make_key(name="vpc-visible")
    mark = hsc.mark()
    failed, result = run_module(hs_crypto_key_info.main, vpc_args(hsc, metadata_version=version, name="vpc-visible"))
    assert not failed, result
    assert [k["name"] for k in result["crypto_keys"]] == ["vpc-visible"]
    services = [e["service"] for e in all_requests(hsc, mark)]
    assert services[:2] == ["metadata", "metadata"] and "iam" not in services


def test_environment_names_of_ibm_sdk(hsc, run_module, cr_file, monkeypatch):
    monkeypatch.setenv("CR_TOKEN_FILENAME", cr_file)
    monkeypatch.setenv("IAM_PROFILE_NAME", "ansible-automation")
    failed, result = run_module(hs_crypto_iam_token.main, {"iam_url": hsc.url})
    assert not failed, result
    assert result["identity"]["iam_id"] == f"iam-{AUTOMATION}"
    assert CR_TOKEN not in json.dumps(result)
    monkeypatch.delenv("CR_TOKEN_FILENAME")
    monkeypatch.delenv("IAM_PROFILE_NAME")
    monkeypatch.setenv("HS_CRYPTO_AUTH_TYPE", "vpc")
    monkeypatch.setenv("HS_CRYPTO_METADATA_URL", hsc.url)
    monkeypatch.setenv("VPC_IMS_VERSION", "2025-08-26")
    failed, result = run_module(hs_crypto_iam_token.main, {"iam_url": hsc.url})
    assert not failed and result["identity"]["iam_id"] == f"iam-{VSI_DEFAULT}", result


def test_a_rejected_token_is_replaced_by_exchanging_the_cr_token_again(hsc, run_module, cr_file):
    good = run_module(hs_crypto_iam_token.main, container_args(hsc, cr_file))[1]["iam_token"]
    header, payload, _signature = good.split(".")
    forged = f"{header}.{payload}.c2lnbmF0dXJlLW5vdC1vZi10aGUtZW11bGF0b3I"  # unexpired by its claims; the service rejects it
    mark = hsc.mark()
    failed, result = run_module(hs_crypto_key_info.main, container_args(hsc, cr_file, iam_token=forged))
    assert not failed, result
    log = all_requests(hsc, mark)
    assert [(e["service"], e["status"]) for e in log][:3] == [("kms", 401), ("iam", 200), ("kms", 200)]
    assert log[1]["grant_type"] == CR_GRANT


def test_a_rejected_token_is_replaced_by_asking_the_metadata_service_again(hsc, run_module):
    good = run_module(hs_crypto_iam_token.main, vpc_args(hsc))[1]["iam_token"]
    header, payload, _signature = good.split(".")
    mark = hsc.mark()
    failed, result = run_module(hs_crypto_key_info.main, vpc_args(hsc, iam_token=f"{header}.{payload}.Zm9yZ2Vk"))
    assert not failed, result
    assert [e["service"] for e in all_requests(hsc, mark)][:4] == ["kms", "metadata", "metadata", "kms"]


def test_iam_refusal_is_reported_without_the_cr_token(hsc, run_module, cr_file):
    failed, result = run_module(hs_crypto_key_info.main, container_args(hsc, cr_file, iam_profile_id=VSI_DEFAULT))
    assert failed
    assert "BXNIM0487E" in result["msg"] and "IAM refused" in result["msg"]
    assert CR_TOKEN not in json.dumps(result)


def test_the_api_key_in_the_environment_yields_to_auth_type(hsc, run_module, cr_file, monkeypatch):
    monkeypatch.setenv("IBMCLOUD_API_KEY", ALICE_API_KEY)
    mark = hsc.mark()
    failed, result = run_module(hs_crypto_key_info.main, container_args(hsc, cr_file))
    assert not failed, result
    assert [e.get("grant_type") for e in all_requests(hsc, mark) if e["service"] == "iam"] == [CR_GRANT]
    warnings = json.dumps(result["warnings"])  # strings before ansible-core 2.19, records since
    assert "auth_type is container: the api_key" in warnings and "is not used" in warnings


@pytest.mark.parametrize("args,message", [
    (dict(api_key=ALICE_API_KEY, iam_profile_id=AUTOMATION), "api_key and iam_profile_id are mutually exclusive"),
    (dict(auth_type="container"), "A trusted profile is required"),
    (dict(auth_type="container", iam_profile_id=AUTOMATION, cr_token_file="/nonexistent/sa-token"),
     "cr_token_file /nonexistent/sa-token: cannot be read"),
    (dict(auth_type="vpc", iam_profile_name="ansible-automation"), "iam_profile_name is not accepted by the VPC"),
    (dict(auth_type="vpc", iam_profile_id=AUTOMATION, iam_profile_crn=AUTOMATION_CRN), "mutually exclusive with auth_type=vpc"),
    (dict(auth_type="vpc", metadata_url="http://metadata.example.test"), "metadata_url must use https://"),
    (dict(iam_profile_crn="Profile-123"), "iam_profile_crn must be a trusted profile CRN"),
])
def test_bad_sign_in_options_fail_before_any_request(hsc, run_module, args, message):
    mark = hsc.mark()
    failed, result = run_module(hs_crypto_key_info.main, dict({"instance_id": INSTANCE_A, "endpoint": hsc.url,
                                                               "iam_url": hsc.url, "metadata_url": hsc.url}, **args))
    assert failed and message in result["msg"], result
    assert all_requests(hsc, mark) == []


def test_empty_token_file(hsc, run_module, tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    failed, result = run_module(hs_crypto_key_info.main, container_args(hsc, str(empty)))
    assert failed and "the file is empty" in result["msg"]


def test_no_metadata_service_says_where_it_answers(hsc, run_module):
    # A port that is bound but never listening: nothing answers there, and no other test can take it meanwhile.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        failed, result = run_module(hs_crypto_key_info.main, vpc_args(hsc, metadata_url=url, retries=0))
    assert failed
    assert f"The VPC instance metadata service ({url}) answers only on a VPC virtual server" in result["msg"], result["msg"]
