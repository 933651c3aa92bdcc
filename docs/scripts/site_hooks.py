"""mkdocs hooks (named in mkdocs.yml): the repository link and the pages' edit links.

The repository's public address is not written into the sources: whoever publishes the site
sets ``MINIDL_REPO_URL`` (for example ``https://github.com/<owner>/minidl``), and
``MINIDL_EDIT_URI`` if the default branch is not ``main``.  Without ``MINIDL_REPO_URL`` the site
shows neither a repository link nor edit buttons, rather than a link that leads nowhere.
"""

from __future__ import annotations

import os


def on_config(config):
    if config.repo_url:
        # mkdocs would guess "edit/master/docs/" for GitHub and GitLab; this repository's branch is main.
        config.edit_uri = os.environ.get("MINIDL_EDIT_URI", "edit/main/docs/")
    else:
        config.edit_uri = None
    return config
