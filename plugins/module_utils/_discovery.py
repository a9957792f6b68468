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

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
CRN_SERVICES = tuple(sorted(SERVICE_OF_CRN))


class InstanceRef:
    """An instance GUID, with the region and service a CRN carried (None for a bare GUID)."""

    def __init__(self, guid, region=None, service=None):
        self.guid = guid
        self.region = region
        self.service = service


def parse_instance_id(value, option="instance_id"):
    """Accept a GUID or an instance CRN; raise ConfigurationError naming the rule otherwise (a key CRN is not an instance)."""
    text = (value or "").strip()
    if GUID_RE.match(text):
        return InstanceRef(text.lower())
    if text.startswith("crn:"):
        segments = text.split(":")
        # crn:v1:<cname>:<ctype>:<service>:<region>:a/<account>:<instance>:<resource type>:<resource>
        if len(segments) >= 8 and segments[1] == "v1" and segments[4] in CRN_SERVICES and GUID_RE.match(segments[7]):
            if any(segments[8:]):
                raise ConfigurationError(
                    f"{option}: {shown(text)} is the CRN of a {segments[8] or 'resource'} inside instance {segments[7].lower()}, "
                    "not an instance CRN (which ends in '::'); give the instance's GUID or CRN")
            return InstanceRef(segments[7].lower(), region=segments[5] or None, service=segments[4])
        raise ConfigurationError(
            f"{option}: a CRN must look like crn:v1:bluemix:public:hs-crypto:<region>:a/<account>:<instance GUID>:: "
            "(service hs-crypto or kms, 8th segment a GUID)")
    raise ConfigurationError(f"{option} must be an instance GUID (8-4-4-4-12 hexadecimal digits) or an instance CRN")


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
