# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JWT-shaped IAM access tokens (HS256) and signed opaque refresh tokens.

Tokens are stateless: everything needed to check one is inside it, signed with a
per-process secret. Expiry is judged against the emulator clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import uuid

ISSUER = 'https://iam.emulator.test/identity'
APIKEY_GRANT = 'urn:ibm:params:oauth:grant-type:apikey'
REFRESH_GRANT = 'refresh_token'
REFRESH_LIFETIME = 30 * 24 * 3600


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


class TokenError(Exception):
    """An access or refresh token is malformed, forged or expired."""


class TokenService:
    """Issues and checks tokens. ``clock`` provides ``timestamp()``."""

    def __init__(self, clock):
        self._clock = clock
        self._lock = threading.Lock()
        self._secret = secrets.token_bytes(32)

    def rotate_secret(self) -> None:
        """Invalidate every token issued so far."""
        with self._lock:
            self._secret = secrets.token_bytes(32)

    def _sign(self, data: bytes) -> bytes:
        with self._lock:
            secret = self._secret
        return hmac.new(secret, data, hashlib.sha256).digest()

    def encode_jwt(self, claims: dict) -> str:
        header = _b64url(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': 'emulator'}, separators=(',', ':')).encode())
        payload = _b64url(json.dumps(claims, separators=(',', ':')).encode())
        signing_input = f'{header}.{payload}'.encode('ascii')
        return f'{header}.{payload}.{_b64url(self._sign(signing_input))}'

    def decode_jwt(self, token: str) -> dict:
        parts = token.split('.') if isinstance(token, str) else []
        if len(parts) != 3:
            raise TokenError('token is not a JWT')
        try:
            header = json.loads(_b64url_decode(parts[0]))
            claims = json.loads(_b64url_decode(parts[1]))
            signature = _b64url_decode(parts[2])
        except (ValueError, TypeError) as exc:
            raise TokenError('token is not a JWT') from exc
        if not isinstance(header, dict) or header.get('alg') != 'HS256' or not isinstance(claims, dict):
            raise TokenError('unsupported token')
        expected = self._sign(f'{parts[0]}.{parts[1]}'.encode('ascii'))
        if not hmac.compare_digest(signature, expected):
            raise TokenError('token signature is invalid')
        return claims

    def issue(self, iam_id: str, account_id: str, lifetime: int, grant_type: str) -> dict:
        """Return an IAM token response body for ``iam_id``."""
        now = int(self._clock.timestamp())
        claims = {
            'iam_id': iam_id,
            'id': iam_id,
            'realmid': 'iam',
            'jti': str(uuid.uuid4()),
            'identifier': iam_id,
            'sub': iam_id,
            'sub_type': 'ServiceId' if iam_id.startswith('iam-ServiceId') else 'User',
            'account': {'valid': True, 'bss': account_id},
            'iat': now,
            'exp': now + lifetime,
            'iss': ISSUER,
            'grant_type': grant_type,
            'scope': 'ibm openid',
            'client_id': 'default',
            'acr': 1,
            'amr': ['pwd'],
        }
        refresh = {'typ': 'refresh', 'iam_id': iam_id, 'iat': now, 'exp': now + REFRESH_LIFETIME, 'jti': str(uuid.uuid4())}
        payload = _b64url(json.dumps(refresh, separators=(',', ':')).encode())
        refresh_token = f'{payload}.{_b64url(self._sign(payload.encode("ascii")))}'
        return {
            'access_token': self.encode_jwt(claims),
            'refresh_token': refresh_token,
            'token_type': 'Bearer',
            'expires_in': lifetime,
            'expiration': now + lifetime,
            'scope': 'ibm openid',
        }

    def check_access_token(self, token: str) -> dict:
        """Return the claims of a valid, unexpired access token, else raise TokenError."""
        claims = self.decode_jwt(token)
        if not isinstance(claims.get('iam_id'), str) or not isinstance(claims.get('exp'), int):
            raise TokenError('token lacks iam_id/exp')
        if claims['exp'] <= self._clock.timestamp():
            raise TokenError('token expired')
        return claims

    def check_refresh_token(self, token: str) -> dict:
        parts = token.split('.') if isinstance(token, str) else []
        if len(parts) != 2:
            raise TokenError('malformed refresh token')
        try:
            signature = _b64url_decode(parts[1])
            claims = json.loads(_b64url_decode(parts[0]))
        except (ValueError, TypeError) as exc:
            raise TokenError('malformed refresh token') from exc
        if not hmac.compare_digest(signature, self._sign(parts[0].encode('ascii'))):
            raise TokenError('refresh token signature is invalid')
        if not isinstance(claims, dict) or claims.get('typ') != 'refresh':
            raise TokenError('not a refresh token')
        if claims.get('exp', 0) <= self._clock.timestamp():
            raise TokenError('refresh token expired')
        return claims
