# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Callback of the chaos run: writes what each task reported (no key material, no secrets) as JSON.

Enabled by benchmarks/chaos.py only (ANSIBLE_CALLBACKS_ENABLED=chaos_record); the file is CHAOS_RECORD_FILE.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: chaos_record
type: aggregate
short_description: Record task outcomes of a chaos run as JSON
description:
  - Writes, per host, the play recap and the failed and changed tasks (message, failed or changed batch entries with
    their actions and messages) to the file named by the environment variable CHAOS_RECORD_FILE.
"""

MAX_MSG = 600


def _label(item):
    if isinstance(item, dict):
        return item.get('id') or item.get('name') or item.get('key_id') or str(sorted(item))
    return str(item)


def _entries(result: dict) -> list:
    """The failed or changed entries of a batch (or loop) result."""
    entries = []
    for entry in result.get('results') or []:
        if not isinstance(entry, dict) or not (entry.get('failed') or entry.get('changed')):
            continue
        entries.append({'item': _label(entry.get('item')), 'failed': bool(entry.get('failed')),
                        'changed': bool(entry.get('changed')), 'actions': entry.get('actions') or [],
                        'msg': str(entry.get('msg') or '')[:MAX_MSG]})
    return entries


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'chaos_record'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tasks = []

    def _add(self, outcome: str, result) -> None:
        data = result._result  # pylint: disable=protected-access
        self.tasks.append({
            'host': result._host.get_name(),  # pylint: disable=protected-access
            'task': result._task.get_name(),  # pylint: disable=protected-access
            'outcome': outcome, 'changed': bool(data.get('changed')), 'censored': 'censored' in data,
            'msg': str(data.get('msg') or '')[:MAX_MSG * 4], 'summary': data.get('summary'), 'entries': _entries(data),
        })

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._add('ignored' if ignore_errors else 'failed', result)

    def v2_runner_on_unreachable(self, result):
        self._add('unreachable', result)

    def v2_runner_on_ok(self, result):
        if result._result.get('changed') or 'summary' in result._result:  # pylint: disable=protected-access
            self._add('ok', result)

    def v2_playbook_on_stats(self, stats):
        recap = {host: stats.summarize(host) for host in sorted(stats.processed)}
        path = os.environ.get('CHAOS_RECORD_FILE')
        if path:
            with open(path, 'w', encoding='utf-8') as handle:
                json.dump({'recap': recap, 'tasks': self.tasks}, handle, indent=1)
