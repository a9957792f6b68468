# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Registrations (https://cloud.ibm.com/apidocs/hs-crypto, "Registrations"): which cloud resources are protected by which root keys.

Only IBM Cloud services create registrations (service-to-service requests), so
the collection reads them: of one key, or of every key with filters.
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, ConfigurationError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_actions import key_reference
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import check_key_ring

MAX_CRN = 1000  # no documented limit; a bound keeps a pasted mistake from becoming a giant URL
FIXED_CRN_SEGMENTS = 8  # in the all-keys form, wildcards only after the first 8 segments

REGISTRATION_FIELDS = (("keyId", "key_id"), ("keyName", "key_name"), ("resourceCrn", "resource_crn"), ("description", "description"),
                       ("preventKeyDeletion", "prevent_key_deletion"), ("createdBy", "created_by"),
                       ("creationDate", "creation_date"), ("updatedBy", "updated_by"), ("lastUpdated", "last_updated"))


def registration_result(raw):
    result = dict((snake, raw.get(camel)) for camel, snake in REGISTRATION_FIELDS)
    version = raw.get("keyVersion") if isinstance(raw.get("keyVersion"), dict) else None
    result["key_version"] = {"id": version.get("id"), "creation_date": version.get("creationDate")} if version else None
    return result


class RegistrationQuery:
    """Which registrations to read, checked before any request."""

    def __init__(self, key_id=None, alias=None, resource_crn=None, prevent_key_deletion=None, key_ring=None):
        self.ref = self.label = None
        if key_id or alias:
            self.ref, self.label = key_reference(key_id, alias)
        if resource_crn is not None:
            if not resource_crn.startswith("crn:") or len(resource_crn) > MAX_CRN or any(c.isspace() for c in resource_crn):
                raise ConfigurationError("resource_crn must be a CRN such as crn:v1:bluemix:public:cloud-object-storage:global:a/...:"
                                         "bucket:name (at most %d characters, no spaces; * matches any characters)" % MAX_CRN)
            if self.ref is None and "*" in ":".join(resource_crn.split(":")[:FIXED_CRN_SEGMENTS]):
                raise ConfigurationError("resource_crn: across all keys, the first %d segments of the CRN (up to the service instance) "
                                         "cannot hold a * wildcard; give key_id or alias, or spell those segments out"
                                         % FIXED_CRN_SEGMENTS)
        self.resource_crn = resource_crn
        self.prevent_key_deletion = prevent_key_deletion
        if key_ring is not None:
            if self.ref is not None:
                raise ConfigurationError("key_ring filters the registrations of all keys; it cannot be combined with key_id or alias")
            check_key_ring(key_ring, "key_ring")
        self.key_ring = key_ring

    @classmethod
    def from_params(cls, params):
        return cls(**dict((name, params.get(name)) for name in ("key_id", "alias", "resource_crn", "prevent_key_deletion", "key_ring")))

    def params(self):
        params = {}
        if self.resource_crn is not None:
            params["urlEncodedResourceCRNQuery"] = self.resource_crn  # URL-encoded by the HTTP client
        if self.prevent_key_deletion is not None:
            params["preventKeyDeletion"] = "true" if self.prevent_key_deletion else "false"
        return params


def read_registrations(kms, query):
    if query.ref is None:
        raws = kms.list_all("keys/registrations", params=query.params(), key_ring=query.key_ring, context="Listing registrations")
    else:
        try:
            raws = kms.list_all(f"keys/{query.ref}/registrations", params=query.params(),
                                context=f"Listing the registrations of {query.label}")
        except ApiError as exc:
            if exc.status == 404:
                exc.message += f" (no {query.label} exists, or it was purged)"
            raise
    return [registration_result(raw) for raw in raws if isinstance(raw, dict)]
