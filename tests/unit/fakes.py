# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test doubles for the client layer: a scripted stand-in for ``requests.Session``, JWT-shaped tokens."""

import base64
import json
import time


class FakeRaw:
    def __init__(self, status, body=None, headers=None):
        self.status_code = status
        if body is None:
            self.content = b""
        elif isinstance(body, (bytes, str)):
            self.content = body.encode("utf-8") if isinstance(body, str) else body
        else:
            self.content = json.dumps(body).encode("utf-8")
        self.headers = CaseInsensitive(headers or {})


class CaseInsensitive(dict):
    def __init__(self, data):
        super().__init__((k.lower(), v) for k, v in data.items())

    def get(self, key, default=None):
        return super().get(key.lower(), default)


class FakeSession:
    """Answers requests from a script: each item is a FakeRaw, an exception, or a callable(request) -> either."""

    def __init__(self, script=None):
        self.script = list(script or [])
        self.calls = []
        self.headers = {}
        self.verify = True

    def queue(self, *items):
        self.script.extend(items)

    def request(self, method, url, **kwargs):
        call = dict(kwargs, method=method, url=url, headers=dict(kwargs.get("headers") or {}))
        self.calls.append(call)
        if not self.script:
            raise AssertionError(f"unexpected request {method} {url}")
        item = self.script.pop(0)
        if callable(item) and not isinstance(item, FakeRaw):
            item = item(call)
        if isinstance(item, Exception):
            raise item
        return item

    def close(self):
        pass


def make_jwt(exp=None, iat=None, **claims):
    now = int(time.time())
    payload = dict(claims, iat=now if iat is None else iat, exp=(now + 3600) if exp is None else exp)

    def enc(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{enc({'alg': 'HS256', 'typ': 'JWT'})}.{enc(payload)}.c2lnbmF0dXJl"


def token_answer(token=None, expires_in=3600, expiration=None):
    """An IAM answer; ``expires_in`` is the lifetime, ``expiration`` the absolute expiry (default: now + lifetime)."""
    token = token or make_jwt(iam_id="IBMid-test", sub="test@example.com")
    expiration = int(time.time()) + expires_in if expiration is None else expiration
    return FakeRaw(200, {"access_token": token, "refresh_token": "not-used", "token_type": "Bearer",
                         "expires_in": expires_in, "expiration": expiration})
