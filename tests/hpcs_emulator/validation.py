# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request body parsing and field validation (reference sections 3.2, 4.2, 4.3 and 7).

Like the Go service, field names are matched case-insensitively; a field of the wrong
JSON type is a decoding failure (BAD_BODY_ERR), a value breaking a rule is
INVALID_FIELD_ERR with a target.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import gzip
import json
import re

from .clock import parse_rfc3339
from .errors import KmsError, bad_body, field_error
from .model import KEY_TYPE

ALIAS_RE = re.compile(r'^[A-Za-z0-9_-]{2,90}\Z')
UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z')
RING_RE = re.compile(r'^[a-zA-Z0-9-]{2,100}\Z')
RESERVED_ALIASES = frozenset((
    'allowed_ip', 'key', 'keys', 'metadata', 'policy', 'policies', 'registration', 'registrations',
    'ring', 'rings', 'rotate', 'wrap', 'unwrap', 'rewrap', 'version', 'versions',
))
TAG_FORBIDDEN = set('<>,:&|')
MAX_ALIASES = 5
ROOT_SIZES = (16, 24, 32)
MAX_STANDARD_PAYLOAD = 7500

CREATE_FIELDS = ('type', 'name', 'extractable', 'description', 'expirationDate', 'aliases', 'tags', 'payload',
                 'encryptedNonce', 'iv', 'encryptionAlgorithm')
OVERRIDE_FIELDS = CREATE_FIELDS + ('rotation', 'dualAuthDelete')
IMPORT_ALGORITHMS = ('RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1')


def read_json_body(request, required: bool):
    """Decode the JSON body whatever the Content-Type; ``null`` or empty counts as no body."""
    raw = request.get_data(cache=True)
    if request.headers.get('Content-Encoding', '').lower() == 'gzip' and raw:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise bad_body('the gzip body could not be decompressed') from exc
    data = None
    if raw.strip():
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise bad_body('the body is not valid JSON') from exc
    if data is None and required:
        raise KmsError(400, 'NO_BODY_ERR', 'No body was provided in the request: A request body is required')
    return data


def canonical_fields(obj: dict, allowed: tuple) -> dict:
    """Map field names case-insensitively to their canonical spelling; unknown -> BAD_BODY_ERR."""
    names = {name.lower(): name for name in allowed}
    result = {}
    for field, value in obj.items():
        canonical = names.get(field.lower())
        if canonical is None:
            raise bad_body(f"json: unknown field '{field}'")
        if canonical in result:
            raise bad_body(f"json: duplicate field '{field}'")
        result[canonical] = value
    return result


def typed(value, kind, name: str):
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise bad_body(f"json: field '{name}' has the wrong type")
    return value


def collection_resources(body, collection_type: str, low: int = 1, high: int = 1) -> list:
    """Validate the metadata/resources envelope of a write and return its resources (``low``..``high`` of them)."""
    if not isinstance(body, dict):
        raise bad_body('the body must be a JSON object')
    top = canonical_fields(body, ('metadata', 'resources'))
    if 'metadata' not in top or 'resources' not in top:
        raise bad_body("the body must contain 'metadata' and 'resources'")
    metadata = canonical_fields(typed(top['metadata'], dict, 'metadata'), ('collectionType', 'collectionTotal'))
    resources = typed(top['resources'], list, 'resources')
    if metadata.get('collectionType') != collection_type:
        raise field_error('collectionType', f"'{collection_type}'")
    total = typed(metadata.get('collectionTotal'), int, 'collectionTotal')
    if total != len(resources):
        raise KmsError(400, 'COLLECTION_TOTAL_MISMATCH_ERR',
                       'The value specified for collectionTotal does not match the number of resources in the collection',
                       target=('field', 'collectionTotal'))
    if not low <= len(resources) <= high:
        allowed = f'exactly {low}' if low == high else f'{low} to {high}'
        raise KmsError(400, 'NUM_COLLECTION_RESOURCE_ERR',
                       f'The number of resources in the collection is not supported: {allowed} resource(s) allowed',
                       target=('field', 'resources'))
    return [typed(resource, dict, 'resources') for resource in resources]


def single_resource(body, collection_type: str) -> dict:
    """Validate the envelope of a one-resource write and return the resource."""
    return collection_resources(body, collection_type)[0]


def validate_alias(alias, name: str = 'aliases', kind: str = 'field') -> str:
    rule = 'a string of 2 to 90 characters [A-Za-z0-9_-], not a UUID and not a reserved word'
    if not isinstance(alias, str) or not ALIAS_RE.match(alias) or UUID_RE.match(alias) or alias.lower() in RESERVED_ALIASES:
        raise KmsError(400, 'INVALID_FIELD_ERR', f"The {kind} '{name}' must be: {rule}", target=(kind, name))
    return alias


def decode_base64(value, name: str) -> bytes:
    if not isinstance(value, str):
        raise bad_body(f"json: field '{name}' has the wrong type")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise field_error(name, 'a base64 encoded string') from exc


@dataclasses.dataclass
class KeySpec:  # pylint: disable=too-many-instance-attributes
    name: str
    extractable: bool
    description: str | None = None
    expiration_date: object = None
    aliases: list = dataclasses.field(default_factory=list)
    tags: list = dataclasses.field(default_factory=list)
    material: bytes | None = dataclasses.field(default=None, repr=False)
    secure_import: dict | None = dataclasses.field(default=None, repr=False)
    rotation: dict | None = None
    dual_auth_delete: bool | None = None


def _string_field(fields: dict, name: str, low: int, high: int, required: bool = False):
    if name not in fields or fields[name] is None:
        if required:
            raise field_error(name, f'a string of {low} to {high} characters')
        return None
    value = typed(fields[name], str, name)
    if not low <= len(value) <= high:
        raise field_error(name, f'a string of {low} to {high} characters')
    return value


def _aliases(value) -> list:
    if value is None:
        return []
    typed(value, list, 'aliases')
    if len(value) > MAX_ALIASES:
        raise field_error('aliases', f'an array of at most {MAX_ALIASES} aliases')
    aliases = [validate_alias(alias) for alias in value]
    if len(set(aliases)) != len(aliases):
        raise field_error('aliases', 'an array of distinct aliases')
    return aliases


def _tags(value) -> list:
    if value is None:
        return []
    typed(value, list, 'tags')
    rule = 'an array of at most 30 tags of 2 to 30 characters without < > , : & |'
    if len(value) > 30:
        raise field_error('tags', rule)
    for tag in value:
        if not isinstance(tag, str) or not 2 <= len(tag) <= 30 or TAG_FORBIDDEN & set(tag):
            raise field_error('tags', rule)
    return list(value)


def parse_material(fields: dict, extractable: bool):
    """Return (plain material, secure import dict) from payload/encryptedNonce/iv."""
    nonce, init_vector = fields.get('encryptedNonce'), fields.get('iv')
    if fields.get('encryptionAlgorithm') is not None and nonce is None and init_vector is None:
        raise field_error('encryptionAlgorithm', 'provided only with encryptedNonce and iv')
    if nonce is not None or init_vector is not None:
        if extractable:
            raise field_error('encryptedNonce', 'omitted for standard keys: import tokens only protect root keys')
        if nonce is None or init_vector is None:
            raise field_error('iv' if init_vector is None else 'encryptedNonce', 'provided together with encryptedNonce and iv')
        if fields.get('payload') is None:
            raise KmsError(400, 'KEY_PAYLOAD_REQ_ERR', 'A payload is required for secure import', target=('field', 'payload'))
        algorithm = fields.get('encryptionAlgorithm') or 'RSAES_OAEP_SHA_256'
        if algorithm not in IMPORT_ALGORITHMS:
            raise field_error('encryptionAlgorithm', ' or '.join(IMPORT_ALGORITHMS))
        return None, {'payload': decode_base64(fields['payload'], 'payload'), 'encryptedNonce': decode_base64(nonce, 'encryptedNonce'),
                      'iv': decode_base64(init_vector, 'iv'), 'encryptionAlgorithm': algorithm}
    if fields.get('payload') is None:
        return None, None
    material = decode_base64(fields['payload'], 'payload')
    if extractable and not 1 <= len(material) <= MAX_STANDARD_PAYLOAD:
        raise field_error('payload', f'base64 encoded key material of 1 to {MAX_STANDARD_PAYLOAD} bytes')
    if not extractable and len(material) not in ROOT_SIZES:
        raise field_error('payload', 'base64 encoded key material of 128, 192 or 256 bits (16, 24 or 32 bytes)')
    return material, None


def parse_rotation(value, extractable: bool, previous: dict | None = None):
    """A rotation policy ``{enabled?, interval_month?}``; ``previous`` supplies a missing interval."""
    if value is None:
        return None
    rotation = canonical_fields(typed(value, dict, 'rotation'), ('enabled', 'interval_month'))
    if extractable:
        raise KmsError(400, 'KEY_ROOT_REQ_ERR',
                       'Requested action can only be completed with a root key: Rotation policy cannot be set on a standard key')
    enabled = typed(rotation.get('enabled', True), bool, 'enabled')
    interval = rotation.get('interval_month')
    if interval is None and previous is not None:
        interval = previous.get('interval_month')
    if interval is None and not enabled:
        return {'enabled': False}
    interval = typed(interval, int, 'interval_month') if interval is not None else None
    if interval is None or not 1 <= interval <= 12:
        raise field_error('interval_month', 'an integer between 1 and 12 (inclusive)')
    return {'enabled': enabled, 'interval_month': interval}


def parse_dual_auth(value):
    if value is None:
        return None
    dual = canonical_fields(typed(value, dict, 'dualAuthDelete'), ('enabled',))
    if 'enabled' not in dual:
        raise field_error('enabled', 'true or false')
    return typed(dual['enabled'], bool, 'enabled')


def parse_key_create(resource: dict, overrides: bool, now) -> KeySpec:
    """Validate one key resource of POST /keys or /keys_with_policy_overrides."""
    fields = canonical_fields(resource, OVERRIDE_FIELDS if overrides else CREATE_FIELDS)
    if fields.get('type') != KEY_TYPE:
        raise field_error('type', f"'{KEY_TYPE}'")
    name = _string_field(fields, 'name', 2, 90, required=True)
    extractable = fields.get('extractable')
    extractable = True if extractable is None else typed(extractable, bool, 'extractable')
    spec = KeySpec(name=name, extractable=extractable)
    spec.description = _string_field(fields, 'description', 2, 240)
    if fields.get('expirationDate') is not None:
        spec.expiration_date = parse_rfc3339(typed(fields['expirationDate'], str, 'expirationDate'))
        if spec.expiration_date is None or spec.expiration_date <= now:
            raise field_error('expirationDate', 'a date in RFC 3339 format later than the current time')
    spec.aliases = _aliases(fields.get('aliases'))
    spec.tags = _tags(fields.get('tags'))
    spec.material, spec.secure_import = parse_material(fields, extractable)
    if overrides:
        spec.rotation = parse_rotation(fields.get('rotation'), extractable)
        spec.dual_auth_delete = parse_dual_auth(fields.get('dualAuthDelete'))
    return spec
