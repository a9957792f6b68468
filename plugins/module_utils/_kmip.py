# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""KMIP adapters, their client certificates and KMIP objects: Key Protect's KMIP management API.

A KMIP adapter binds KMIP clients (VMware vSphere and vSAN) to one root key (``crk_id``) and trusts a set of client
certificates; the clients create KMIP objects (symmetric keys) under it over the KMIP protocol, which REST cannot do.
Reference: docs/design-choices.md ("KMIP") and the wire reference, section 4.

Rules of the service, checked here before any request: adapter and certificate names are 2 to 40 letters, digits,
``-`` and ``_`` and never a UUID; at most 200 adapters per instance and 200 certificates per adapter; descriptions up
to 240 characters; a certificate is one X.509 certificate in PEM. Listings are read to the last page (adapters and
certificates 200 a page, objects 5,000), so nothing beyond the first page is ever missed, as Terraform's adapter delete
does. An adapter that still holds KMIP objects is never deleted as a side effect: the objects go only when the caller
says so (``delete_objects``), and active ones only with ``force``.
"""

import base64
import binascii
import hashlib
import re

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, ConfigurationError, HsCryptoError, shown
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import UUID_RE, key_reference_of
from ansible_collections.ibm.hs_crypto.plugins.module_utils._safe_write import SafeWriter
from ansible_collections.ibm.hs_crypto.plugins.module_utils._services import HPCS
from ansible_collections.ibm.hs_crypto.plugins.module_utils._workers import run_all

PROFILE = "native_1.0"
PROFILES = (PROFILE,)
ADAPTER_TYPE = "application/vnd.ibm.kms.kmip_adapter+json"
CERTIFICATE_TYPE = "application/vnd.ibm.kms.kmip_client_certificate+json"
ADAPTER_PAGE = 200
CERTIFICATE_PAGE = 200
OBJECT_PAGE = 5000
MAX_ADAPTERS = 200
MAX_CERTIFICATES = 200
MAX_DESCRIPTION = 240
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{2,40}\Z")
PEM_RE = re.compile(r"^\s*-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\r\n]+)-----END CERTIFICATE-----\s*\Z")
OBJECT_STATES = {1: "pre_active", 2: "active", 3: "deactivated", 4: "compromised", 5: "destroyed", 6: "destroyed_compromised"}
OBJECT_STATE_CODES = dict((name, code) for code, name in OBJECT_STATES.items())
LIVE_OBJECT_STATES = (1, 2, 3, 4)
ACTIVE = 2
OBJECT_TYPES = {2: "symmetric_key"}


# -- checks, before any request ----------------------------------------------------------------------------------------

def check_name(value, option):
    """An adapter or certificate name the service accepts."""
    if not isinstance(value, str) or not NAME_RE.match(value) or UUID_RE.match(value):
        raise ConfigurationError(f"{option} must be 2 to 40 letters, digits, '-' or '_', and not a UUID (got {shown(value)})")
    return value


def check_description(value, option="description"):
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
        raise ConfigurationError(f"{option} must be at most {MAX_DESCRIPTION} characters (got {len(value) if isinstance(value, str) else shown(value)})")
    return value


def parse_certificate(pem, option):
    """The DER bytes of one X.509 certificate given in PEM, or ``ConfigurationError`` naming ``option``.

    The service takes exactly one ``CERTIFICATE`` block. The body must be base64 of a DER ``SEQUENCE`` whose length
    fills it: enough to catch a private key, a truncated copy or two certificates pasted into one value before
    anything is sent (the message never repeats the value).
    """
    if not isinstance(pem, str) or not pem.strip():
        raise ConfigurationError(f"{option} is required: the client certificate in PEM (-----BEGIN CERTIFICATE----- ...)")
    if "PRIVATE KEY" in pem:
        raise ConfigurationError(f"{option} holds a private key: give the client's certificate only; its private key stays with the KMIP client")
    if pem.count("-----BEGIN CERTIFICATE-----") > 1:
        raise ConfigurationError(f"{option} holds more than one certificate: give one certificate per entry")
    match = PEM_RE.match(pem)
    if not match:
        raise ConfigurationError(f"{option} must be one certificate in PEM: -----BEGIN CERTIFICATE-----, base64 lines, -----END CERTIFICATE-----")
    try:
        der = base64.b64decode("".join(match.group(1).split()), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{option}: the text between the PEM lines is not valid base64")
    if not _is_der_sequence(der):
        raise ConfigurationError(f"{option}: the PEM body is not a DER-encoded X.509 certificate (truncated, or not a certificate)")
    return der


def _is_der_sequence(der):
    """Whether ``der`` is exactly one DER SEQUENCE (tag 0x30 and a length that accounts for every byte)."""
    if len(der) < 2 or der[0] != 0x30:
        return False
    first = der[1]
    if first < 0x80:
        return 2 + first == len(der)
    count = first & 0x7F
    if count == 0 or count > 4 or len(der) < 2 + count:
        return False
    length = int.from_bytes(der[2:2 + count], "big")
    return 2 + count + length == len(der)


def fingerprint(der):
    """SHA-256 of the DER certificate, as ``openssl x509 -fingerprint -sha256`` prints it (upper-case, colons)."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def pem_fingerprint(pem):
    """The fingerprint of a certificate the service returned; None when it cannot be read."""
    try:
        return fingerprint(parse_certificate(pem, "certificate"))
    except ConfigurationError:
        return None


def root_key_reference(value, instance_guid=None, option="root_key"):
    """The path reference of the adapter's root key: its UUID (from a UUID or a key CRN of this instance) or an alias."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{option} must be the root key's id, its CRN or one of its aliases (got {shown(value)})")
    return key_reference_of(value.strip(), instance_guid, option)


def require_key_protect(connection):
    """Refuse an instance known to be HPCS before any KMIP request: its KMS API has no KMIP adapters."""
    if connection.known_service == HPCS:
        raise ConfigurationError(f"instance {connection.instance.guid} is a Hyper Protect Crypto Services instance: KMIP adapters are a Key Protect "
                                 "feature (HPCS offers KMIP for VMware separately, until 2026-12-31); to move a vSphere setup to Key "
                                 "Protect, create the adapter in a Key Protect instance")


def check_certificates(entries, option="certificates"):
    """``[(name, pem, der)]`` from a list of ``{name, certificate}``: every entry checked, names and contents unique."""
    if len(entries) > MAX_CERTIFICATES:
        raise ConfigurationError(f"{option} holds at most {MAX_CERTIFICATES} certificates, the service's limit per adapter (got {len(entries)})")
    checked, names, prints = [], {}, {}
    for index, entry in enumerate(entries):
        where = f"{option}[{int(index)}]"
        name = check_name(entry.get("name"), f"{where}.name")
        der = parse_certificate(entry.get("certificate"), f"{where}.certificate")
        if name in names:
            raise ConfigurationError(f"{where}.name: {name!r} is also the name of {option}[{names[name]}]; names are unique within an adapter")
        digest = fingerprint(der)
        if digest in prints:
            raise ConfigurationError(f"{where}.certificate is the same certificate as {option}[{prints[digest]}]; "
                                     "a certificate can be registered once")
        names[name], prints[digest] = index, index
        checked.append((name, entry["certificate"], der))
    return checked


# -- results -----------------------------------------------------------------------------------------------------------

def adapter_result(raw, certificates=None, objects=None):
    if raw is None:
        return None
    result = {"id": raw.get("id"), "name": raw.get("name"), "profile": raw.get("profile"),
              "root_key_id": (raw.get("profile_data") or {}).get("crk_id"), "description": raw.get("description"),
              "created_at": raw.get("created_at"), "created_by": raw.get("created_by"), "updated_at": raw.get("updated_at"),
              "updated_by": raw.get("updated_by")}
    if certificates is not None:
        result["certificates"] = [certificate_result(c) for c in certificates]
    if objects is not None:
        result["objects"] = [object_result(o) for o in objects]
    return result


def certificate_result(raw):
    result = {"id": raw.get("id"), "name": raw.get("name"), "created_at": raw.get("created_at"), "created_by": raw.get("created_by")}
    if raw.get("certificate"):
        result["fingerprint_sha256"] = pem_fingerprint(raw["certificate"])
    return result


def object_result(raw):
    state = raw.get("state")
    return {"id": raw.get("id"), "type": OBJECT_TYPES.get(raw.get("kmip_object_type"), raw.get("kmip_object_type")),
            "state": OBJECT_STATES.get(state, state), "state_code": state, "recoverable": raw.get("recoverable"),
            "created_at": raw.get("created_at"), "created_by": raw.get("created_by"),
            "created_by_certificate_id": raw.get("created_by_kmip_client_cert_id"), "updated_at": raw.get("updated_at"),
            "destroyed_at": raw.get("destroyed_at")}


def _view(raw):
    """What a diff shows of an adapter (never certificate contents: fingerprints only)."""
    if raw is None:
        return {}
    view = dict((k, v) for k, v in adapter_result(raw).items() if k in ("name", "profile", "root_key_id", "description"))
    if "certificates" in raw:
        view["certificates"] = sorted(raw["certificates"])
    return view


class KmipConflict(HsCryptoError):
    """The adapter exists with an attribute the service cannot change; carries the diff."""

    def __init__(self, message, diff=None):
        super().__init__(message)
        self.diff = diff


# -- service -----------------------------------------------------------------------------------------------------------

class KmipService:
    """Reads and changes adapters, certificates and objects through one KMS client; ``check_mode`` reads only."""

    def __init__(self, kms, check_mode=False, sleep=None, concurrency=1):
        self.kms = kms
        self.check_mode = check_mode
        self.writer = SafeWriter(kms, sleep=sleep)
        self.concurrency = concurrency  # object deletions go side by side (``_workers``)

    # -- reads ------------------------------------------------------------------------------------------------------
    def adapters(self, root_key_id=None):
        params = {"crk_id": root_key_id} if root_key_id else None
        return self._list("kmip_adapters", params, ADAPTER_PAGE, "Listing the KMIP adapters")

    def adapter(self, ref):
        """The adapter with this id or name, or None (after making sure the instance has KMIP adapters at all)."""
        try:
            return self.kms.request("GET", f"kmip_adapters/{ref}", context=f"Reading KMIP adapter {ref}").resource
        except ApiError as exc:
            if exc.status != 404:
                raise
        # An unknown adapter and an instance without the KMIP API (HPCS) both answer 404: the listing tells them apart.
        self._list("kmip_adapters", {"limit": 1}, 1, "Listing the KMIP adapters", pages=1)
        return None

    def certificates(self, adapter_id, with_content=False):
        listed = self._list(f"kmip_adapters/{adapter_id}/certificates", None, CERTIFICATE_PAGE,
                            f"Listing the client certificates of KMIP adapter {adapter_id}")
        if not with_content:
            return listed
        return [self.kms.request("GET", f"kmip_adapters/{adapter_id}/certificates/{raw['id']}",
                                 context=f"Reading client certificate {raw.get('name')}").resource or raw for raw in listed]

    def objects(self, adapter_id, states=LIVE_OBJECT_STATES):
        params = {"state": ",".join(str(s) for s in states)}
        return self._list(f"kmip_adapters/{adapter_id}/kmip_objects", params, OBJECT_PAGE, f"Listing the KMIP objects of adapter {adapter_id}")

    def _list(self, path, params, page_size, context, pages=None):
        try:
            if pages == 1:
                return self.kms.request("GET", path, params=params, context=context).resources
            return self.kms.list_all(path, params=params, page_size=page_size, context=context)
        except ApiError as exc:
            if exc.status == 404 and path == "kmip_adapters":
                exc.message = (f"{exc.message} (instance {self.kms.instance_id} has no KMIP management API: KMIP adapters are a Key "
                               "Protect feature; Hyper Protect Crypto Services offers KMIP for VMware separately, until 2026-12-31)")
            raise

    # -- adapters ---------------------------------------------------------------------------------------------------
    def create_adapter(self, name, root_key_id, description=None, profile=PROFILE):
        body = {"metadata": {"collectionType": ADAPTER_TYPE, "collectionTotal": 1},
                "resources": [{"profile": profile, "profile_data": {"crk_id": root_key_id}, "name": name,
                               "description": description or ""}]}
        context = f"Creating KMIP adapter {name}"

        def made():
            found = self.adapter(name)
            return found is not None, found

        written = self.writer.write(lambda: self.kms.request("POST", "kmip_adapters", body=body, context=context), made, context,
                                    conflict_may_be_done=False)
        return written.resource("id", "name") or self.writer.read(lambda: self.adapter(name), f"Reading KMIP adapter {name}")

    def delete_adapter(self, adapter):
        ref = adapter["id"]

        def gone():
            return self.adapter(ref) is None, None

        self.writer.write(lambda: self.kms.request("DELETE", f"kmip_adapters/{ref}", context=f"Deleting KMIP adapter {adapter.get('name')}"),
                          gone, f"Deleting KMIP adapter {adapter.get('name')}", conflict_may_be_done=True)

    # -- certificates -----------------------------------------------------------------------------------------------
    def add_certificate(self, adapter_id, name, pem):
        body = {"metadata": {"collectionType": CERTIFICATE_TYPE, "collectionTotal": 1}, "resources": [{"name": name, "certificate": pem}]}
        context = f"Adding client certificate {name} to KMIP adapter {adapter_id}"

        def made():
            found = [c for c in self.certificates(adapter_id) if c.get("name") == name]
            return bool(found), found[0] if found else None

        written = self.writer.write(lambda: self.kms.request("POST", f"kmip_adapters/{adapter_id}/certificates", body=body, context=context),
                                    made, context)
        return written.resource("id", "name") or {"name": name}

    def delete_certificate(self, adapter_id, certificate):
        ref = certificate["id"]
        context = f"Removing client certificate {certificate.get('name')} from KMIP adapter {adapter_id}"

        def gone():
            return not any(c.get("id") == ref for c in self.certificates(adapter_id)), None

        self.writer.write(lambda: self.kms.request("DELETE", f"kmip_adapters/{adapter_id}/certificates/{ref}", context=context), gone,
                          context, conflict_may_be_done=True)

    # -- objects ----------------------------------------------------------------------------------------------------
    def delete_object(self, adapter_id, raw, force=False):
        ref = raw["id"]
        context = f"Deleting KMIP object {ref} of adapter {adapter_id}"

        def gone():
            current = self.object(adapter_id, ref)
            return current is None or current.get("state") not in LIVE_OBJECT_STATES, current

        self.writer.write(lambda: self.kms.request("DELETE", f"kmip_adapters/{adapter_id}/kmip_objects/{ref}",
                                                   params={"force": "true" if force else "false"}, context=context),
                          gone, context, conflict_may_be_done=True)

    def object(self, adapter_id, ref):
        try:
            return self.kms.request("GET", f"kmip_adapters/{adapter_id}/kmip_objects/{ref}", context=f"Reading KMIP object {ref}").resource
        except ApiError as exc:
            if exc.status in (404, 410):
                return None
            raise

    def delete_live(self, adapter, targets, force=False):
        """Delete ``targets`` (live objects of ``adapter``), ``concurrency`` at a time; active ones need ``force``.

        Without it, when any target is active nothing is deleted and the error counts them (check mode alike).
        """
        active = [o for o in targets if o.get("state") == ACTIVE]
        if active and not force:
            raise HsCryptoError(f"{len(active)} active KMIP object(s) of the {len(targets)} to delete in KMIP adapter {adapter.get('name')} "
                                f"({', '.join(o['id'] for o in active[:5])}{', ...' if len(active) > 5 else ''}): force=true deletes "
                                "active objects too, erasing their key material (data they protect becomes unreadable)")
        if not self.check_mode:
            run_all(lambda raw: self.delete_object(adapter["id"], raw, force=raw.get("state") == ACTIVE), targets, kms=self.kms,
                    concurrency=self.concurrency)
        return targets


# -- one adapter, declared ---------------------------------------------------------------------------------------------

class AdapterSpec:
    """What ``hs_crypto_kmip_adapter`` was asked for, checked before any request."""

    def __init__(self, params, instance_guid=None):
        self.state = params.get("state") or "present"
        self.adapter_id = params.get("adapter_id")
        if self.adapter_id is not None and not UUID_RE.match(self.adapter_id):
            raise ConfigurationError(f"adapter_id must be the adapter's UUID (got {shown(self.adapter_id)}); to find it by name use name")
        self.name = check_name(params["name"], "name") if params.get("name") is not None else None
        if not self.name and not self.adapter_id:
            raise ConfigurationError("one of name or adapter_id is required")
        self.root_key = root_key_reference(params["root_key"], instance_guid) if params.get("root_key") is not None else None
        self.description = check_description(params.get("description"))
        self.profile = params.get("profile") or PROFILE
        if self.profile not in PROFILES:
            raise ConfigurationError(f"profile must be one of {', '.join(PROFILES)} (got {shown(self.profile)})")
        certificates = params.get("certificates")
        self.certificates = check_certificates(certificates) if certificates is not None else None
        self.purge_certificates = bool(params.get("purge_certificates"))
        if self.purge_certificates and self.certificates is None:
            raise ConfigurationError("purge_certificates needs certificates (the list of every certificate the adapter keeps; [] for none)")
        self.expected_root_keys = frozenset(params.get("expected_root_keys") or ())
        self.delete_objects = bool(params.get("delete_objects"))
        self.force = bool(params.get("force"))
        if self.force and not self.delete_objects:
            raise ConfigurationError("force applies to the adapter's KMIP objects: it needs delete_objects=true (and state=absent)")
        if self.state == "present" and self.delete_objects:
            raise ConfigurationError("delete_objects applies to state=absent only: objects are deleted with their adapter, never otherwise")
        if self.state == "absent" and (self.certificates is not None or self.root_key is not None or self.description is not None):
            raise ConfigurationError("state=absent takes the adapter's name or adapter_id only (not root_key, description or certificates)")

    @property
    def label(self):
        return f"KMIP adapter {self.name or self.adapter_id}"


class Outcome:
    def __init__(self, before):
        self.before = before
        self.after = before
        self.actions = []

    def result(self, certificates=None):
        before = _view(self.before)
        after = _view(self.after)
        return {"changed": bool(self.actions), "actions": list(self.actions), "adapter": adapter_result(self.after, certificates),
                "diff": {"before": before, "after": after}}


def converge_adapter(service, finder, spec):
    """Bring one adapter to ``spec``; the module's result (``changed``, ``actions``, ``adapter``, ``diff``)."""
    current = service.adapter(spec.adapter_id or spec.name)
    if spec.adapter_id and current is not None and spec.name and current.get("name") != spec.name:
        raise KmipConflict(f"{spec.label}: adapter {spec.adapter_id} is named {current.get('name')!r}, not {spec.name!r}; an adapter "
                           "cannot be renamed", diff={"before": {"name": current.get("name")}, "after": {"name": spec.name}})
    if spec.state == "absent":
        return _absent(service, spec, current)
    root = _root_key(finder, spec, service.check_mode) if spec.root_key is not None else None
    outcome = Outcome(current)
    if current is None:
        if spec.adapter_id:
            raise HsCryptoError(f"KMIP adapter {spec.adapter_id} does not exist; adapter_id cannot name an adapter to create: give name instead")
        if root is None:
            raise HsCryptoError(f"{spec.label} does not exist; root_key is required to create it (the root key its KMIP clients use)")
        if root.get("state") != 1:
            raise HsCryptoError(f"{spec.label} would be bound to root key {root.get('id')}, which is not active (state {root.get('state')}): "
                                "the service binds adapters to active root keys only")
        count = len(service.adapters())
        if count >= MAX_ADAPTERS:
            raise HsCryptoError(f"{spec.label} cannot be created: the instance holds {count} KMIP adapters, the service's limit is {MAX_ADAPTERS}")
        planned = {"id": None, "name": spec.name, "profile": spec.profile, "profile_data": {"crk_id": root["id"]},
                   "description": spec.description or ""}
        outcome.after = planned if service.check_mode else service.create_adapter(spec.name, root["id"], spec.description, spec.profile)
        outcome.actions.append("create")
    else:
        _check_immutable(spec, current, root)
    certificates = _converge_certificates(service, spec, outcome)
    return outcome.result(certificates)


def _root_key(finder, spec, check_mode=False):
    raw = finder.get(spec.root_key, context=f"Reading the root key {spec.root_key}")
    if raw is None and check_mode and spec.root_key in spec.expected_root_keys:
        return {"id": None, "state": 1, "extractable": False, "aliases": [spec.root_key]}  # an earlier task of the run creates it
    if raw is None:
        raise HsCryptoError(f"root_key: no key {spec.root_key} exists in instance {finder.kms.instance_id}")
    if raw.get("extractable"):
        raise ConfigurationError(f"root_key: key {raw.get('id')} is a standard key; a KMIP adapter is bound to a root key")
    return raw


def _check_immutable(spec, current, root):
    wanted, held = {}, {}
    bound = (current.get("profile_data") or {}).get("crk_id")
    if root is not None and root.get("id") is not None and root.get("id") != bound:
        wanted["root_key_id"], held["root_key_id"] = root.get("id"), bound
    if spec.description is not None and spec.description != (current.get("description") or ""):
        wanted["description"], held["description"] = spec.description, current.get("description")
    if spec.profile != current.get("profile"):
        wanted["profile"], held["profile"] = spec.profile, current.get("profile")
    if wanted:
        fields = ", ".join(f"{field} (the adapter has {held[field]!r}, the task wants {wanted[field]!r})" for field in sorted(wanted))
        raise KmipConflict(f"KMIP adapter {current.get('name')} cannot be changed: {fields}. The service has no update for adapters: "
                           "delete the adapter and create it again (its KMIP clients then need the new adapter), or fix the task",
                           diff={"before": dict(held), "after": dict(wanted)})


def _converge_certificates(service, spec, outcome):
    """Add the declared certificates the adapter lacks, replace those whose content changed, and (with purge) remove the others."""
    adapter = outcome.after
    if adapter.get("id") is None:  # created in check mode: nothing to read
        existing = []
    else:
        existing = service.certificates(adapter["id"], with_content=spec.certificates is not None)
    if spec.certificates is None:
        return existing
    by_name = dict((c.get("name"), c) for c in existing)
    prints = dict((pem_fingerprint(c.get("certificate") or ""), c) for c in existing if c.get("certificate"))
    declared = dict((name, fingerprint(der)) for name, _pem, der in spec.certificates)
    removals, additions = [], []
    for name, pem, der in spec.certificates:
        digest = fingerprint(der)
        held = by_name.get(name)
        if held is not None and pem_fingerprint(held.get("certificate") or "") == digest:
            continue
        other = prints.get(digest)
        if other is not None and other.get("name") != name and not (spec.purge_certificates and other.get("name") not in declared):
            raise HsCryptoError(f"certificates: {name!r} is the certificate the adapter already holds as {other.get('name')!r}; a certificate "
                                "is registered once: rename the entry, or purge_certificates=true to replace the other entry")
        if held is not None:
            removals.append(held)  # same name, new content: the old certificate goes, then the new one comes
        additions.append((name, pem))
    if spec.purge_certificates:
        removals += [c for c in existing if c.get("name") not in declared]
    remaining = len(existing) - len(removals) + len(additions)
    if remaining > MAX_CERTIFICATES:
        raise HsCryptoError(f"KMIP adapter {adapter.get('name')} would hold {remaining} client certificates; the service's limit is "
                            f"{MAX_CERTIFICATES}: set purge_certificates=true or remove entries")
    replaced = set(c.get("name") for c in removals) & set(name for name, _pem in additions)
    for certificate in removals:
        if not service.check_mode:
            service.delete_certificate(adapter["id"], certificate)
        if certificate.get("name") not in replaced:
            outcome.actions.append(f"remove_certificate:{certificate.get('name')}")
    added = []
    for name, pem in additions:
        if not service.check_mode:
            added.append(service.add_certificate(adapter["id"], name, pem))
        outcome.actions.append(f"{'replace' if name in replaced else 'add'}_certificate:{name}")
    names_before = sorted(c.get("name") for c in existing)
    names_after = sorted(set(names_before) - set(c.get("name") for c in removals) | set(name for name, _pem in additions))
    outcome.before = dict(outcome.before, certificates=names_before) if outcome.before else None
    outcome.after = dict(adapter, certificates=names_after)
    if service.check_mode or adapter.get("id") is None:
        kept = [c for c in existing if c not in removals]
        return kept + [{"id": None, "name": name} for name, _pem in additions]
    return service.certificates(adapter["id"]) if (removals or additions) else existing


def _absent(service, spec, current):
    outcome = Outcome(current)
    if current is None:
        return outcome.result()
    live = service.objects(current["id"])
    if live and not spec.delete_objects:
        active = sum(1 for o in live if o.get("state") == ACTIVE)
        raise HsCryptoError(f"KMIP adapter {current.get('name')} still holds {len(live)} KMIP object(s) ({active} active); deleting it would "
                            "leave them unreachable. Delete them first with ibm.hs_crypto.hs_crypto_kmip_object, or set delete_objects=true "
                            "(and force=true for active objects) to delete them with the adapter")
    if live:
        service.delete_live(current, live, force=spec.force)
        outcome.actions.append(f"delete_objects:{len(live)}")
    if not service.check_mode:
        service.delete_adapter(current)
    outcome.actions.append("delete")
    outcome.after = None
    return outcome.result()


# -- one certificate; objects; reads -----------------------------------------------------------------------------------

def find_adapter(service, ref):
    """The adapter named or identified by ``ref``, or an error saying it does not exist."""
    adapter = service.adapter(ref)
    if adapter is None:
        raise HsCryptoError(f"KMIP adapter {ref} does not exist in instance {service.kms.instance_id}")
    return adapter


def check_adapter_ref(value, option="adapter"):
    """An adapter's UUID or name."""
    if isinstance(value, str) and UUID_RE.match(value):
        return value
    return check_name(value, option)


def converge_certificate(service, adapter_ref, name=None, pem=None, state="present"):
    """One client certificate: present (by name; content replaced when it changed) or absent (by name or by content)."""
    der = parse_certificate(pem, "certificate") if pem is not None else None
    if name is not None:
        check_name(name, "name")
    if state == "present" and (name is None or der is None):
        raise ConfigurationError("state=present needs name and certificate")
    if state == "absent" and name is None and der is None:
        raise ConfigurationError("state=absent needs name or certificate (the certificate is then found by its content)")
    adapter = find_adapter(service, adapter_ref)
    existing = service.certificates(adapter["id"], with_content=der is not None)
    digest = fingerprint(der) if der is not None else None
    held = next((c for c in existing if c.get("name") == name), None) if name is not None else \
        next((c for c in existing if pem_fingerprint(c.get("certificate") or "") == digest), None)
    actions = []
    if state == "absent":
        if held is not None:
            if not service.check_mode:
                service.delete_certificate(adapter["id"], held)
            actions.append(f"remove_certificate:{held.get('name')}")
        return {"changed": bool(actions), "actions": actions, "certificate": None,
                "diff": {"before": {"name": held.get("name")} if held else {}, "after": {}}}
    if held is not None and pem_fingerprint(held.get("certificate") or "") == digest:
        return {"changed": False, "actions": [], "certificate": certificate_result(held), "diff": {"before": {"name": name}, "after": {"name": name}}}
    twin = next((c for c in existing if pem_fingerprint(c.get("certificate") or "") == digest), None)
    if twin is not None:
        raise HsCryptoError(f"certificate: KMIP adapter {adapter.get('name')} already holds this certificate as {twin.get('name')!r}; "
                            "a certificate is registered once")
    if held is None and len(existing) >= MAX_CERTIFICATES:
        raise HsCryptoError(f"KMIP adapter {adapter.get('name')} holds {len(existing)} client certificates, the service's limit")
    made = {"id": None, "name": name}
    if not service.check_mode:
        if held is not None:
            service.delete_certificate(adapter["id"], held)
        made = service.add_certificate(adapter["id"], name, pem)
    actions.append(f"{'replace' if held is not None else 'add'}_certificate:{name}")
    result = certificate_result(made)
    result["fingerprint_sha256"] = fingerprint(der)
    return {"changed": True, "actions": actions, "certificate": result,
            "diff": {"before": {"name": name, "fingerprint_sha256": pem_fingerprint(held.get("certificate") or "")} if held else {},
                     "after": {"name": name, "fingerprint_sha256": fingerprint(der)}}}


def delete_objects(service, adapter_ref, object_ids=None, force=False):
    """Delete the listed objects (by id) of the adapter, or all of its live objects (``object_ids`` None), every page.

    Active objects need ``force``; without it, nothing is deleted and the error says how many are active. Objects already
    destroyed are left alone (not changed).
    """
    adapter = find_adapter(service, adapter_ref)
    live = service.objects(adapter["id"])
    if object_ids is not None:
        by_id = dict((o.get("id"), o) for o in live)
        targets = [by_id[i] for i in object_ids if i in by_id]
        # Not live: destroyed already (nothing to do), or unknown (an error, as a typo must not pass for done).
        unknown = [i for i in object_ids if i not in by_id and service.object(adapter["id"], i) is None]
        if unknown:
            raise HsCryptoError(f"KMIP adapter {adapter.get('name')} has no KMIP object {', '.join(unknown)}")
    else:
        targets = live
    service.delete_live(adapter, targets, force)
    return adapter, targets
