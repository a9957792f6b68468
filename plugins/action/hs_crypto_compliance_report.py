# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Action plugin of ``ibm.hs_crypto.hs_crypto_compliance_report`` (documented in plugins/modules/): write the JSON, HTML
and JUnit reports of ``hs_crypto_compliance_info`` results on the controller.

Why not ``ansible.builtin.copy`` with the filters, as before: every pass of Ansible's templating over the results of a
large estate walks all of them (ansible-core 2.19 and later check each value for templates and tags), and the role
needed several (the list over hostvars, one per report); at 50 instances x 1,000 keys the reports took 84 s of a 218 s
run. Here the registered results are read as they were stored (``HostVars.raw_get``: a module's registered return holds
no template), rendered once each with the same functions as the filters, and written only when the bytes differ.
"""

import json
import os
import stat
import tempfile
from collections.abc import Mapping

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.action import ActionBase

from ansible_collections.ibm.hs_crypto.plugins.plugin_utils._compliance_report import (ReportInputError, normalize, render_html,
                                                                                       render_junit, totals)

FORMATS = {"json": ".json", "html": ".html", "junit": ".junit.xml"}
ARGUMENT_SPEC = {
    "dest": {"type": "path", "required": True},
    "name": {"type": "str", "default": "compliance"},
    "formats": {"type": "list", "elements": "str", "choices": list(FORMATS), "default": list(FORMATS)},
    "results": {"type": "raw"},
    "var": {"type": "str", "default": "hs_crypto_compliance_result"},
    "title": {"type": "str"},
    "suite_name": {"type": "str", "default": "ibm.hs_crypto compliance"},
    "mode": {"type": "raw", "default": "0600"},
}


def render_json(results):
    """Every result, sorted keys, two-space indent, a final newline (what ``to_nice_json(indent=2)`` wrote before)."""
    return json.dumps(results, indent=2, sort_keys=True) + "\n"


def file_mode(value):
    """An octal string (V(0600)) or an integer, as ansible.builtin.copy takes it; symbolic modes are not taken."""
    if isinstance(value, int) and not isinstance(value, bool):
        mode = value
    else:
        text = str(value).strip()
        if not text or any(char not in "01234567" for char in text):
            raise AnsibleActionFail(f"mode must be an octal file mode such as '0600' (got {value!r})")
        mode = int(text, 8)
    if mode > 0o7777:
        raise AnsibleActionFail(f"mode must be an octal file mode such as '0600' (got {value!r})")
    return mode


def play_results(task_vars, var):
    """The ``var`` of every host of the play that has one and did not fail, in play order, as stored (not templated)."""
    results = []
    for host in task_vars.get("ansible_play_hosts") or []:
        variables = task_vars["hostvars"].raw_get(host)
        result = variables.get(var) if isinstance(variables, Mapping) else None
        if isinstance(result, Mapping) and not result.get("failed") and not result.get("skipped"):
            results.append(result)
    return results


def write_if_changed(path, content, mode, check_mode):
    """Write ``content`` to ``path`` (atomically: a temporary file in the same folder, then a rename) unless the file
    already holds exactly these bytes with this mode; True when it was (or, in check mode, would be) written."""
    data = to_bytes(content)
    try:
        with open(path, "rb") as handle:
            same = handle.read() == data and stat.S_IMODE(os.fstat(handle.fileno()).st_mode) == mode
    except FileNotFoundError:
        same = False
    if same or check_mode:
        return not same
    folder = os.path.dirname(path) or "."
    descriptor, temporary = tempfile.mkstemp(prefix=".hs-crypto-report-", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return True


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        mode = file_mode(args["mode"])
        given = args["results"]
        try:
            results = normalize(given if given is not None else play_results(task_vars or {}, args["var"]))
        except ReportInputError as exc:
            raise AnsibleActionFail(f"results: {exc}") from None
        folder = args["dest"]
        if not os.path.isdir(folder) and not (self._task.check_mode and not os.path.exists(folder)):
            # (in check mode, a folder that a task before this one would have created: every file would be written)
            raise AnsibleActionFail(f"dest: {folder} is not a directory (create it first)")
        renderers = {
            "json": lambda: render_json(results),
            "html": lambda: render_html(results, title=args["title"]),
            "junit": lambda: render_junit(results, suite_name=args["suite_name"]),
        }
        files = []
        for name in dict.fromkeys(args["formats"]):  # in the order given, each once
            path = os.path.join(folder, args["name"] + FORMATS[name])
            content = renderers[name]()
            try:
                written = write_if_changed(path, content, mode, self._task.check_mode)
            except OSError as exc:
                raise AnsibleActionFail(f"could not write the {name} report {path}: {to_native(exc)}") from None
            files.append({"format": name, "path": path, "bytes": len(to_bytes(content)), "changed": written})
        result.update(changed=any(item["changed"] for item in files), files=files, totals=totals(results))
        return result
