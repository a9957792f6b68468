# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every response carries an HTTP ``Date`` header from the emulator's movable clock (as real services send ``Date``)."""

from __future__ import annotations

import datetime
import email.utils

import requests

from hpcs_emulator.testing import INSTANCE_A

UTC = datetime.timezone.utc


def _date(response) -> datetime.datetime:
    values = response.raw.headers.getlist('Date')
    assert len(values) == 1, values  # one Date header, the emulator's (the HTTP server adds none of its own)
    assert values[0].endswith(' GMT')
    return email.utils.parsedate_to_datetime(values[0])


def _clock(emu, **body) -> datetime.datetime:
    answer = requests.post(f'{emu.http_url}/_emulator/clock', json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return datetime.datetime.strptime(answer.json()['now'], '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=UTC)


def test_kms_answers_carry_the_emulator_clock(alice, emu):
    before = _date(alice.list_keys())
    assert abs((before - datetime.datetime.now(UTC)).total_seconds()) < 5
    moved = _clock(emu, advance=400 * 86400)
    after = _date(alice.list_keys())
    assert after == moved
    assert (after - before).days == 400


def test_a_set_clock_shows_in_errors_faults_and_control_answers(alice, emu):
    when = _clock(emu, set='2030-01-02T03:04:05Z')
    assert when == datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    missing = alice.get_key('5e1b7c9a-0000-4000-8000-000000000000')
    assert missing.status_code == 404 and _date(missing) == when
    assert _date(requests.get(f'{emu.http_url}/_emulator/health', timeout=10)) == when
    fault = {'rules': [{'service': 'kms', 'path': '/api/v2/keys', 'status': 503, 'times': 1}]}
    assert requests.post(f'{emu.http_url}/_emulator/faults', json=fault, timeout=10).status_code in (200, 201)
    faulted = alice.list_keys()
    assert faulted.status_code == 503 and _date(faulted) == when
    token = requests.post(f'{emu.http_url}/identity/token', data={'grant_type': 'nonsense'}, timeout=10)
    assert _date(token) == when
    unknown = requests.get(f'{emu.http_url}/api/v2/keys', headers={'Bluemix-Instance': INSTANCE_A}, timeout=10)
    assert _date(unknown) == when


def test_https_answers_carry_it_too(emu):
    when = _clock(emu, set='2031-05-06T07:08:09Z')
    answer = requests.get(f'{emu.https_url}/_emulator/health', verify=emu.ca_path, timeout=10)
    assert _date(answer) == when
