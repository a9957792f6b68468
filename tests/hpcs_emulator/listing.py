# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GET/HEAD /api/v2/keys: query parameters, filter, search, sort (reference section 4.1)."""

from __future__ import annotations

import dataclasses
import re

from .clock import parse_rfc3339
from .errors import KmsError, query_error
from .model import VALID_STATES
from .validation import UUID_RE

MAX_LIMIT = 5000
DEFAULT_LIMIT = 200
MAX_SEARCH = 256
SEARCHABLE_LIMIT = 5000
DEFAULT_STATES = (1, 2, 3)

SORT_FIELDS = {
    'id': lambda key, now: key.id,
    'state': lambda key, now: key.state_at(now),
    'extractable': lambda key, now: key.extractable,
    'imported': lambda key, now: key.imported,
    'creationDate': lambda key, now: key.creation_date,
    'lastUpdateDate': lambda key, now: key.last_update_date or key.creation_date,
    'lastRotateDate': lambda key, now: key.last_rotate_date,
    'deletionDate': lambda key, now: key.deletion_date,
    'expirationDate': lambda key, now: key.expiration_date,
}
DATE_FILTERS = {
    'creationDate': lambda key: key.creation_date,
    'deletionDate': lambda key: key.deletion_date,
    'expirationDate': lambda key: key.expiration_date,
    'lastRotateDate': lambda key: key.last_rotate_date,
    'lastUpdateDate': lambda key: key.last_update_date or key.creation_date,
}
DATE_OPS = {
    None: lambda a, b: a == b,
    'gt': lambda a, b: a > b,
    'gte': lambda a, b: a >= b,
    'lt': lambda a, b: a < b,
    'lte': lambda a, b: a <= b,
}
_DATE_VALUE = re.compile(r'^(?:(gt|gte|lt|lte):)?"([^"]+)"$')


def arg(args, name: str) -> str | None:
    """A query parameter; an empty value counts as absent (the IBM Python SDK sends ``state=``)."""
    value = args.get(name)
    return value if value else None


def parse_int(args, name: str, default: int, low: int, high: int | None) -> int:
    raw = arg(args, name)
    if raw is None:
        return default
    rule = f'an integer between {low} and {high} (inclusive)' if high is not None else f'an integer of at least {low}'
    if not re.fullmatch(r'\d+', raw):
        raise query_error(name, rule)
    value = int(raw)
    if value < low or (high is not None and value > high):
        raise query_error(name, rule)
    return value


def parse_bool(args, name: str) -> bool | None:
    raw = arg(args, name)
    if raw is None:
        return None
    if raw.lower() not in ('true', 'false'):
        raise query_error(name, 'true or false')
    return raw.lower() == 'true'


def parse_states(raw: str, name: str = 'state') -> set:
    rule = 'a comma-separated list of states from 0, 1, 2, 3, 5 without spaces'
    if not re.fullmatch(r'\d(,\d)*', raw or ''):
        raise query_error(name, rule)
    states = {int(item) for item in raw.split(',')}
    if not states <= set(VALID_STATES):
        raise query_error(name, rule)
    return states


@dataclasses.dataclass
class Search:
    query: str
    term: str
    scopes: tuple
    negate: bool
    exact: bool

    def matches(self, key) -> bool:
        values = []
        if 'name' in self.scopes:
            values.append(key.name)
        if 'alias' in self.scopes:
            values.extend(key.aliases)
        if self.exact:
            hit = any(value == self.term for value in values)
        else:
            needle = self.term.lower()
            hit = any(needle in value.lower() for value in values)
        return hit != self.negate

    def to_metadata(self) -> dict:
        return {'query': self.query, 'scopes': list(self.scopes), 'not': self.negate, 'exact': self.exact}


def parse_search(raw: str | None) -> Search | None:
    if raw is None:
        return None
    query = raw[:-1] if raw.endswith(',') else raw  # the Go client appends a comma
    if len(query) > MAX_SEARCH:
        raise query_error('search', f'a string of at most {MAX_SEARCH} characters')
    term, scopes, negate, exact = query, [], False, False
    while True:
        prefix, sep, rest = term.partition(':')
        if not sep or prefix not in ('not', 'exact', 'escape', 'alias', 'name'):
            break
        term = rest
        if prefix == 'escape':
            break
        if prefix == 'not':
            negate = True
        elif prefix == 'exact':
            exact = True
        elif prefix not in scopes:
            scopes.append(prefix)
    if not term:
        raise query_error('search', 'a non-empty search term')
    return Search(query=query, term=term, scopes=tuple(scopes or ('name', 'alias')), negate=negate, exact=exact)


def parse_sort(raw: str | None) -> list:
    if raw is None:
        return [('id', False)]
    rule = 'a comma-separated list of ' + ', '.join(SORT_FIELDS) + ' (prefix - for descending)'
    result = []
    for item in raw.split(','):
        descending = item.startswith('-')
        field = item[1:] if descending else item
        if field not in SORT_FIELDS:
            raise query_error('sort', rule)
        result.append((field, descending))
    return result


def parse_filter(raw: str | None):
    """Return (predicates, states or None, extractable or None) from the ``filter`` parameter."""
    if raw is None:
        return [], None, None
    predicates, states, extractable, counts = [], None, None, {}
    for term in raw.split():
        prop, sep, value = term.partition('=')
        if not sep:
            raise query_error('filter', 'space-separated property=value terms')
        counts[prop] = counts.get(prop, 0) + 1
        if counts[prop] > 3:
            raise query_error('filter', 'at most three terms for one property')
        if prop == 'state':
            states = parse_states(value, 'filter')
        elif prop == 'extractable':
            if value.lower() not in ('true', 'false'):
                raise query_error('filter', 'extractable=true or extractable=false')
            extractable = value.lower() == 'true'
        elif prop in DATE_FILTERS:
            predicates.append(_date_predicate(prop, value))
        else:
            raise query_error('filter', 'terms on ' + ', '.join(list(DATE_FILTERS) + ['extractable', 'state']))
    return predicates, states, extractable


def _date_predicate(prop: str, value: str):
    getter = DATE_FILTERS[prop]
    if value.lower() == 'none':
        return lambda key: getter(key) is None
    match = _DATE_VALUE.match(value)
    when = parse_rfc3339(match.group(2)) if match else None
    if when is None:
        raise query_error('filter', f'{prop}=[gt:|gte:|lt:|lte:]"<RFC 3339 date>" or {prop}=none')
    compare = DATE_OPS[match.group(1)]
    return lambda key: getter(key) is not None and compare(getter(key).replace(microsecond=0), when)


@dataclasses.dataclass
class KeyQuery:
    limit: int
    offset: int
    states: set
    extractable: bool | None
    search: Search | None
    sort: list
    predicates: list


def parse_key_query(args) -> KeyQuery:
    limit = parse_int(args, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = parse_int(args, 'offset', 0, 0, None)
    predicates, filter_states, filter_extractable = parse_filter(arg(args, 'filter'))
    state = arg(args, 'state')
    if filter_states is not None and state is not None:
        raise query_error('state', "used either in 'filter' or as its own parameter, not both")
    if filter_extractable is not None and arg(args, 'extractable') is not None:
        raise query_error('extractable', "used either in 'filter' or as its own parameter, not both")
    states = filter_states or (parse_states(state) if state is not None else set(DEFAULT_STATES))
    extractable = filter_extractable if filter_extractable is not None else parse_bool(args, 'extractable')
    return KeyQuery(limit=limit, offset=offset, states=states, extractable=extractable, search=parse_search(arg(args, 'search')),
                    sort=parse_sort(arg(args, 'sort')), predicates=predicates)


def _sorted(keys: list, sort: list, now) -> list:
    result = list(keys)
    for field, descending in reversed(sort):
        getter = SORT_FIELDS[field]

        def sort_key(key, getter=getter):
            value = getter(key, now)
            return (value is not None, value if value is not None else 0)
        result.sort(key=sort_key, reverse=descending)
    return result


def select_keys(instance, query: KeyQuery, ring: str | None, now):
    """Return (matching keys in order, extra metadata) before paging."""
    candidates = [
        key for key in instance.keys.values()
        if key.state_at(now) in query.states
        and (query.extractable is None or key.extractable == query.extractable)
        and (ring is None or key.key_ring == ring)
        and all(predicate(key) for predicate in query.predicates)
    ]
    metadata = {}
    search = query.search
    if search is None:
        return _sorted(candidates, query.sort, now), metadata
    lookup = None
    if search.negate:
        pass  # a negated search has no exact lookup
    elif UUID_RE.match(search.term):
        lookup = instance.keys.get(search.term.lower())
    elif search.term in instance.aliases:
        lookup = instance.keys.get(instance.aliases[search.term])
    if lookup is not None and lookup not in candidates:
        lookup = None
    metadata['searchQuery'] = search.to_metadata()
    if len(candidates) > SEARCHABLE_LIMIT:
        if lookup is None:
            raise KmsError(400, 'KEY_SEARCH_TOO_BROAD',
                           f'The search covers more than {SEARCHABLE_LIMIT} keys: narrow it with state, extractable or filter',
                           target=('query_param', 'search'))
        metadata['incompleteSearch'] = True
        return [lookup], metadata
    metadata['incompleteSearch'] = False
    matched = _sorted([key for key in candidates if key is not lookup and search.matches(key)], query.sort, now)
    return ([lookup] if lookup is not None else []) + matched, metadata
