# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""The crypto units of a Key Protect Dedicated instance (``GET <instance URL>/api/v1/cryptounits``), read-only.

The call sits beside the key management API (``/api/v1``, not ``/api/v2``) on the instance's own endpoint. The
answer is a bare JSON array of ``{"id", "instanceId", "state"}`` (IBM's Go client, ``dedicated.ListCryptoUnits``).
An instance can serve keys once at least one unit is ``kms-initialized``; with none, the key API answers 503.
Initializing units (claim, master keys, the KMS crypto user) needs IBM's native library and key parts, so it stays
with IBM's CLI and Terraform.
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import API_PREFIX, JSON, error_from_response
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError

CRYPTO_UNITS_PATH = "/api/v1/cryptounits"
READY_STATE = "kms-initialized"
# Documented states, in the order an initialization goes through them (IBM Key Protect docs, "Crypto unit states").
STATES = ("reserved", "claimed", "initialized", "kms-authorized", "kms-initialized", "maintenance")
CONTEXT = "Reading the crypto units"


def crypto_units_url(kms):
    """``<instance URL>/api/v1/cryptounits``, from the KMS client's ``<instance URL>/api/v2``."""
    base = kms.base_url
    suffix = API_PREFIX.rstrip("/")
    if base.endswith(suffix):
        base = base[:-len(suffix)]
    return base + CRYPTO_UNITS_PATH


def list_crypto_units(kms):
    """The instance's crypto units as ``[{"id", "state", "instance_id"}]`` (one request); raises ``ApiError``."""
    url = crypto_units_url(kms)
    kms.requests_made += 1
    response = kms.sender.send("GET", url, headers={"Bluemix-Instance": kms.instance_id, "Accept": JSON})
    kms.last_correlation_id = response.correlation_id
    if not response.ok:
        error = error_from_response(response, redact=kms.sender.redact, context=CONTEXT)
        if response.status == 404:
            error.message += (f" (instance {kms.instance_id} has no crypto units: only Key Protect Dedicated instances have "
                              "them, and this endpoint does not know the instance as one)")
        raise error
    body = response.json()
    if not isinstance(body, list) or not all(isinstance(unit, dict) and isinstance(unit.get("id"), str) and isinstance(unit.get("state"), str)
                                             for unit in body):
        raise ApiError(f"{CONTEXT}: the service's answer (HTTP {response.status}) is not a list of crypto units with id and state",
                       status=response.status, correlation_id=response.correlation_id, method="GET", url=url)
    return [{"id": unit["id"], "state": unit["state"],
             "instance_id": unit.get("instanceId") if isinstance(unit.get("instanceId"), str) else None} for unit in body]


def crypto_units_result(units):
    """``crypto_units``, ``initialized_count`` (units in ``kms-initialized``) and ``ready`` (at least one)."""
    count = sum(1 for unit in units if unit["state"] == READY_STATE)
    return {"crypto_units": units, "initialized_count": count, "ready": count > 0}
