# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Instance identifiers, regions, and endpoint discovery through the HPCS broker.

The broker (``GET <broker>/crypto_v2/instances/<guid>``) answers with
``host[:port]`` values without a scheme for ``kms``, ``ep11`` and ``uko``, each
``public`` and ``private``; they are returned here as full ``https://`` URLs.
"""

import re

from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import error_from_response
from ansible_collections.ibm.hs_crypto.plugins.module_utils._crn import (  # noqa: F401 pylint: disable=unused-import
    CRN_SERVICES, GUID_RE, InstanceRef, parse_instance_id)
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, ConfigurationError, shown

BROKER_URL_TEMPLATE = "https://%s.broker.hs-crypto.cloud.ibm.com"
SERVICES = ("kms", "ep11", "uko")
ENDPOINT_TYPES = ("public", "private")

# The ``service`` option: which IBM Cloud service the instance belongs to, and the service name its CRNs carry.
SERVICE_CHOICES = ("hs_crypto", "key_protect")
CRN_SERVICE_OF = {"hs_crypto": "hs-crypto", "key_protect": "kms"}
SERVICE_OF_CRN = dict((crn, service) for service, crn in CRN_SERVICE_OF.items())
# Key Protect has no broker: its key management API lives at a fixed host per region and network.
KEY_PROTECT_URL_TEMPLATES = {"public": "https://%s.kms.cloud.ibm.com", "private": "https://private.%s.kms.cloud.ibm.com"}

# HPCS regions (https://cloud.ibm.com/apidocs/hs-crypto) and the Key Protect-only ones (https://cloud.ibm.com/apidocs/key-protect).
HPCS_REGIONS = ("au-syd", "br-sao", "ca-tor", "eu-de", "eu-es", "eu-gb", "jp-tok", "us-east", "us-south")
KEY_PROTECT_REGIONS = ("ca-mon", "in-che", "in-mum", "jp-osa")
KNOWN_REGIONS = tuple(sorted(HPCS_REGIONS + KEY_PROTECT_REGIONS))

# GUID_RE, CRN_SERVICES, InstanceRef and parse_instance_id live in _crn.py (shared with the CRN filters); imported above.


def check_region(region, option="region"):
    if region not in KNOWN_REGIONS:
        raise ConfigurationError(f"{option} {shown(region)} is not a known IBM Cloud region; expected one of {', '.join(KNOWN_REGIONS)}")
    return region


def broker_url_for(region):
    return BROKER_URL_TEMPLATE % check_region(region)


def key_protect_endpoints(region):
    """The endpoints of a Key Protect instance in ``region``, in the shape ``discover_endpoints`` returns, without a
    request: Key Protect serves only the key management API (no GREP11, no UKO)."""
    check_region(region)
    return {"kms": dict((kind, template % region) for kind, template in KEY_PROTECT_URL_TEMPLATES.items()),
            "ep11": {"public": None, "private": None},
            "uko": {"public": None, "private": None}}


def _as_url(host):
    """``host[:port]`` from the broker → ``https://host[:port]``; tolerate a value that already has a scheme."""
    if not isinstance(host, str) or not host.strip():
        return None
    host = host.strip().rstrip("/")
    if host.startswith("https://"):
        return host
    if "://" in host:
        # Never downgrade: the broker only ever hands out TLS endpoints.
        host = host.split("://", 1)[1]
    return "https://" + host


def discover_endpoints(sender, broker_url, instance_guid):
    """Ask the broker for the instance's endpoints; return ``(endpoints, correlation_id)``.

    ``endpoints`` is ``{service: {"public": url|None, "private": url|None}}`` for
    kms, ep11 and uko.
    """
    url = f"{broker_url.rstrip('/')}/crypto_v2/instances/{instance_guid}"
    response = sender.send("GET", url, headers={"Accept": "application/json"})
    correlation_id = response.correlation_id
    if not response.ok:
        raise error_from_response(response, redact=sender.redact,
                                  context=f"Endpoint discovery for instance {instance_guid} failed")
    body = response.json()
    if not isinstance(body, dict):
        raise ApiError(f"The broker's answer for instance {instance_guid} is not a JSON object",
                       status=response.status, correlation_id=correlation_id, method="GET", url=url)
    endpoints = {}
    for service in SERVICES:
        entry = body.get(service)
        entry = entry if isinstance(entry, dict) else {}
        endpoints[service] = dict((kind, _as_url(entry.get(kind))) for kind in ENDPOINT_TYPES)
    if not any(endpoints["kms"].values()):
        raise ApiError(f"The broker's answer for instance {instance_guid} has no kms endpoint",
                       status=response.status, correlation_id=correlation_id, method="GET", url=url)
    return endpoints, correlation_id


# -- the IBM Cloud Resource Controller -------------------------------------------------------------------------
RESOURCE_CONTROLLER_URL = "https://resource-controller.cloud.ibm.com"
# Plan ids the collection knows (https://cloud.ibm.com/docs/key-protect, "Provisioning"); others are reported by id.
KNOWN_PLAN_IDS = {"eedd3585-90c6-4c8f-be3d-062069e99fc3": "tiered-pricing"}
DEDICATED_HOST_RE = re.compile(r"^https://[0-9a-fA-F-]{36}\.api\.(?:private\.)?[a-z0-9.-]+\.kms\.(?:test\.)?appdomain\.cloud(?::[0-9]+)?(?:/|\Z)")


class InstanceRecord:
    """What the Resource Controller says of an instance: service, region, plan, endpoints (``extensions.endpoints``)."""

    def __init__(self, raw):
        self.raw = raw
        crn = raw.get("crn") if isinstance(raw.get("crn"), str) else ""
        segments = crn.split(":")
        self.crn = crn or None
        self.service = SERVICE_OF_CRN.get(segments[4]) if len(segments) > 4 else None
        self.region = raw.get("region_id") if isinstance(raw.get("region_id"), str) else (segments[5] if len(segments) > 5 else None)
        self.name = raw.get("name")
        self.plan_id = raw.get("resource_plan_id")
        extensions = raw.get("extensions") if isinstance(raw.get("extensions"), dict) else {}
        found = extensions.get("endpoints") if isinstance(extensions.get("endpoints"), dict) else {}
        self.kms = {kind: _as_url(found.get(kind)) for kind in ENDPOINT_TYPES}
        parameters = raw.get("parameters") if isinstance(raw.get("parameters"), dict) else {}
        dedicated = "crypto_units" in parameters or any(url and DEDICATED_HOST_RE.match(url) for url in self.kms.values())
        self.plan = "dedicated" if dedicated and self.service == "key_protect" else KNOWN_PLAN_IDS.get(self.plan_id)

    def endpoints(self):
        """The endpoints in the shape ``discover_endpoints`` returns, or None when the record holds none."""
        if not any(self.kms.values()):
            return None
        return {"kms": dict(self.kms), "ep11": {"public": None, "private": None}, "uko": {"public": None, "private": None}}


def read_instance_record(sender, rc_url, instance_guid):
    """``GET <rc>/v2/resource_instances/<guid>``: return ``(InstanceRecord, correlation_id)``; raise ``ApiError``."""
    url = f"{rc_url.rstrip('/')}/v2/resource_instances/{instance_guid}"
    response = sender.send("GET", url, headers={"Accept": "application/json"})
    if not response.ok:
        error = error_from_response(response, redact=sender.redact,
                                    context=f"Reading instance {instance_guid} from the Resource Controller failed")
        if response.status == 404:
            error.message = (f"The Resource Controller knows no instance {instance_guid} in the account of this identity (a wrong "
                             "id, an instance of another account, or a deleted one)")
        elif response.status in (401, 403):
            error.message += (". The identity needs the Viewer role on the instance or its resource group to find the instance's "
                              "endpoint there; or give endpoint (the key management URL) to skip discovery")
        raise error
    body = response.json()
    if not isinstance(body, dict) or not body.get("crn"):
        raise ApiError(f"The Resource Controller's answer for instance {instance_guid} is not an instance record",
                       status=response.status, correlation_id=response.correlation_id, method="GET", url=url)
    record = InstanceRecord(body)
    if record.service is None:
        raise ApiError(f"Instance {instance_guid} is not an HPCS or Key Protect instance (its CRN is {record.crn})",
                       status=response.status, correlation_id=response.correlation_id, method="GET", url=url)
    return record, response.correlation_id
