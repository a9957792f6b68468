# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write the playbook of a user guide page, as written there, to a file.

Usage: python docs_playbook.py PAGE.rst HEADING OUT.yml

The playbook is the first ``.. code-block:: yaml+jinja`` (or ``yaml``) after the section titled HEADING; its
indentation is removed, nothing else is changed.
"""

from __future__ import absolute_import, division, print_function

import sys
import textwrap

__metaclass__ = type


def playbook(text, heading):
    lines = text.splitlines()
    start = lines.index(heading)
    for index in range(start, len(lines)):
        if lines[index].strip() in ('.. code-block:: yaml+jinja', '.. code-block:: yaml'):
            body = []
            for line in lines[index + 1:]:
                if line.strip() and not line.startswith(' '):
                    break
                body.append(line)
            return textwrap.dedent('\n'.join(body)).strip() + '\n'
    raise SystemExit(f'no YAML code block after {heading!r}')


def main(argv):
    page, heading, out = argv[1:4]
    with open(page, encoding='utf-8') as handle:
        text = handle.read()
    with open(out, 'w', encoding='utf-8') as handle:
        handle.write(playbook(text, heading))


if __name__ == '__main__':
    main(sys.argv)
