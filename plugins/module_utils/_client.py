# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""The KMS REST client (``<endpoint>/api/v2/...``) and the authorized sender it shares with discovery.

Requests carry ``Authorization``, ``Bluemix-Instance``, ``Accept``, a fresh
``Correlation-Id`` and, where it applies, ``X-Kms-Key-Ring``. Bodies go out in
the collection envelope; answers are unwrapped; error answers become
``ApiError`` with the service's message, reason codes, status and correlation id.
"""

import threading

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, Redactor
from ansible_collections.ibm.hs_crypto.plugins.module_utils._transport import new_correlation_id

API_PREFIX = "/api/v2/"
MAX_PAGE_SIZE = 5000
JSON = "application/json"


class AuthorizedSender:
    """Adds the bearer token to requests; on a 401, renews the token once and re-sends.

    A 401 means the request was refused before the service did anything, so
    re-sending it (even a create) cannot duplicate work.
    """

    def __init__(self, transport, tokens):
        self.transport = transport
        self.tokens = tokens

    @property
    def redact(self):
        return self.tokens.redact

    def send(self, method, url, headers=None, **kwargs):
        headers = dict(headers or {})
        headers["Authorization"] = self.tokens.authorization()
        response = self.transport.send(method, url, headers=headers, **kwargs)
        if response.status == 401 and self.tokens.can_refresh:
            self.tokens.refresh_rejected(headers["Authorization"])
            headers["Authorization"] = self.tokens.authorization()
            kwargs["correlation_id"] = new_correlation_id()
            response = self.transport.send(method, url, headers=headers, **kwargs)
        return response


def error_from_response(response, redact=None, context=None):
    """Build an ``ApiError`` from any error answer, whatever its body looks like.

    Understands the KMS error envelope (IBM's API documentation, https://cloud.ibm.com/apidocs/hs-crypto), IAM-style
    ``errorMessage`` bodies and plain ``message``/``error`` bodies; anything else
    gives ``HTTP <status>``. Never raises, whatever the server sent.
    """
    redact = redact or Redactor()
    body = response.json()
    message = None
    reasons = []
    if isinstance(body, dict):
        resources = body.get("resources")
        first = resources[0] if isinstance(resources, list) and resources and isinstance(resources[0], dict) else None
        if first is not None and isinstance(first.get("errorMsg"), str):
            message = first["errorMsg"]
            reasons = [_reason(r) for r in first.get("reasons") or [] if isinstance(r, dict)] \
                if isinstance(first.get("reasons"), list) else []
        else:
            for field in ("errorMsg", "errorMessage", "message", "error", "description"):
                if isinstance(body.get(field), str) and body[field]:
                    message = body[field]
                    break
            code = body.get("errorCode") or body.get("code")
            if isinstance(code, (str, int)) and not isinstance(code, bool):
                reasons = [{"code": str(code), "message": message}]
    if not message:
        message = f"HTTP {response.status}"
    message = _clip(redact(message))
    for reason in reasons:
        # Everything the service sends back may echo the request: scrub each string it put in a reason.
        for field in ("code", "message"):
            reason[field] = _clip(redact(reason.get(field)))
        if "target" in reason:
            reason["target"] = dict((k, _clip(redact(v))) for k, v in reason["target"].items())
    if context:
        message = f"{context}: {message}"
    correlation_id = response.header("Correlation-Id")
    if not isinstance(correlation_id, str) or len(correlation_id) > 100:
        correlation_id = response.correlation_id
    return ApiError(message, status=response.status, reasons=reasons, correlation_id=correlation_id,
                    method=response.method, url=response.url)


def _reason(raw):
    reason = {"code": raw.get("code") if isinstance(raw.get("code"), str) else None,
              "message": raw.get("message") if isinstance(raw.get("message"), str) else None}
    if isinstance(raw.get("status"), int):
        reason["status"] = raw["status"]
    target = raw.get("target")
    if isinstance(target, dict):
        reason["target"] = {"type": str(target.get("type")), "name": str(target.get("name"))}
    return reason


def _clip(text, limit=1000):
    if text is None or len(text) <= limit:
        return text
    return text[:limit - 3] + "..."


def envelope(collection_type, resources):
    """The collection envelope of a request body."""
    return {"metadata": {"collectionType": collection_type, "collectionTotal": len(resources)}, "resources": resources}


class KmsResult:
    """A successful KMS answer: status, parsed body, resources, headers, correlation id.

    ``resources`` insists on the collection envelope: a successful answer whose
    body is something else (an HTML page from a proxy, a list, ``resources: null``)
    raises ``ApiError`` rather than reading as "no keys", which could lead a caller
    to create a key that exists.
    """

    def __init__(self, response):
        self.status = response.status
        self.headers = response.headers
        self.correlation_id = response.correlation_id
        self.method = response.method
        self.url = response.url
        self.data = response.json()

    @property
    def resources(self):
        data = self.data
        if isinstance(data, dict) and isinstance(data.get("resources"), list) and all(isinstance(r, dict) for r in data["resources"]):
            return data["resources"]
        if self.status == 204 or (data is None and self.status in (200, 201, 202) and self.method in ("DELETE", "PUT", "PATCH")):
            return []  # nothing to read: the service answered with an empty body on purpose
        raise self.malformed("is not the expected collection of resources")

    def malformed(self, what, context=None):
        """``ApiError`` for a successful answer that lacks what the request exists for (``what`` says how)."""
        context = context or f"{self.method} {_path_of(self.url)}"
        return ApiError(f"{context}: the service's answer (HTTP {self.status}) {what}",
                        status=self.status, correlation_id=self.correlation_id, method=self.method, url=self.url)

    @property
    def resource(self):
        resources = self.resources
        return resources[0] if resources else None


def _path_of(url):
    parts = (url or "").split("/", 3)
    return ("/" + parts[3] if len(parts) > 3 else "/").split("?", 1)[0]


class KmsClient:
    """Talks to one instance's KMS API."""

    def __init__(self, sender, endpoint, instance_id):
        self.sender = sender
        self.base_url = endpoint.rstrip("/") + API_PREFIX.rstrip("/")
        self.instance_id = instance_id
        self.last_correlation_id = None
        self.requests_made = 0
        self._count_lock = threading.Lock()

    def url(self, path):
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method, path, params=None, body=None, key_ring=None, prefer=None, idempotent=None,
                content_type=JSON, context=None):
        """Send one request; return a ``KmsResult`` or raise ``ApiError``/``TransportError``."""
        headers = {"Bluemix-Instance": self.instance_id, "Accept": JSON}
        if key_ring:
            headers["X-Kms-Key-Ring"] = key_ring
        if prefer:
            headers["Prefer"] = prefer
        if body is not None:
            headers["Content-Type"] = content_type
        with self._count_lock:
            self.requests_made += 1
        response = self.sender.send(method, self.url(path), headers=headers, params=params, json_body=body,
                                    idempotent=idempotent)
        self.last_correlation_id = response.correlation_id
        if not response.ok:
            raise error_from_response(response, redact=self.sender.redact, context=context)
        return KmsResult(response)

    def list_all(self, path, params=None, key_ring=None, page_size=MAX_PAGE_SIZE, context=None):
        """Every resource of a paged listing (``limit``/``offset``), reading pages until a short one."""
        page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
        items = []
        offset = 0
        while True:
            page_params = dict(params or {}, limit=page_size, offset=offset)
            page = self.request("GET", path, params=page_params, key_ring=key_ring, context=context).resources
            items.extend(page)
            if len(page) < page_size:
                return items
            offset += len(page)


class ReadOnlyKmsClient:
    """A ``KmsClient`` that can only read: reports and plans take it, so no code path of theirs can write.

    ``GET`` and ``HEAD`` go through; any other method raises before anything is sent (a bug, never a request).
    """

    READS = frozenset(["GET", "HEAD"])

    def __init__(self, kms):
        self._kms = kms

    def __getattr__(self, name):
        return getattr(self._kms, name)

    def request(self, method, path, **kwargs):
        if method.upper() not in self.READS:
            raise ReadOnlyViolation(f"{method} {path}: this client reads only (a report never writes)")
        return self._kms.request(method, path, **kwargs)

    def list_all(self, path, **kwargs):
        # KmsClient.list_all calls self.request: run it over this object so every page passes the check.
        return KmsClient.list_all(self, path, **kwargs)


class ReadOnlyViolation(RuntimeError):
    """A write attempted through a ``ReadOnlyKmsClient`` (a programming error, never sent)."""
