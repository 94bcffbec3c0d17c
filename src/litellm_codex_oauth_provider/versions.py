"""Which LiteLLM and openai versions this package supports, and what to tell a user about theirs.

The supported ranges are the package's own requirements (pyproject.toml, read from the installed
metadata); the tested ends are the two stacks CI runs the whole suite on (scripts/stacks/).
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.version import InvalidVersion, Version

from .protocol import PACKAGE

#: Used when the package metadata cannot be read (a source checkout without an install).
REQUIREMENTS = {
    "litellm": "litellm>=1.106.2,!=1.107.*,<1.111",
    "openai": "openai>=2.45,<4",
}
#: The oldest and newest versions the whole suite runs on in CI (scripts/stacks/*.txt).
TESTED = {
    "litellm": ("1.106.2", "1.110.2"),
    "openai": ("2.45.0", "3.57.0"),
}
#: Releases that must never be used, with the reason.
WITHDRAWN = {"litellm": (("1.107", "1.107.* was a compromised release and was pulled"),)}

LABELS = {"litellm": "LiteLLM", "openai": "openai"}


@dataclass(frozen=True)
class VersionVerdict:
    """One package's installed version against the supported range, in words."""

    supported: bool
    detail: str
    fix: str | None = None


def requirement(name: str) -> Requirement:
    """This package's requirement on `name`, from its installed metadata when there is one."""
    try:
        for line in importlib.metadata.requires(PACKAGE) or []:
            found = Requirement(line)
            if found.name == name and found.marker is None:
                return found
    except importlib.metadata.PackageNotFoundError:
        pass
    return Requirement(REQUIREMENTS[name])


def _tested_words(name: str) -> str:
    oldest, newest = TESTED[name]
    words = f"tested with {LABELS[name]} {oldest} to {newest}"
    for prefix, _reason in WITHDRAWN.get(name, ()):
        words += f", except {prefix}.*"
    return words


def assess(name: str, installed: str | None) -> VersionVerdict:
    """Whether `installed` (None: not installed) is in the supported range, and what to do if not."""
    wanted = requirement(name)
    install = f"pip install '{wanted.name}{wanted.specifier}'"
    label = LABELS[name]
    if installed is None:
        return VersionVerdict(False, "not installed", install)
    try:
        version = Version(installed)
    except InvalidVersion:
        return VersionVerdict(False, f"{installed} is not a version this check understands", install)
    for prefix, reason in WITHDRAWN.get(name, ()):
        if version.base_version == prefix or version.base_version.startswith(prefix + "."):
            return VersionVerdict(False, f"{installed}: do not use it: {reason}", install)
    if wanted.specifier.contains(version, prereleases=True):
        return VersionVerdict(True, f"{installed}, supported ({_tested_words(name)})")
    oldest = TESTED[name][0]
    if version < Version(oldest):
        return VersionVerdict(
            False,
            f"{installed} is older than {oldest}, the oldest {label} this package supports",
            f"upgrade it: {install}",
        )
    return VersionVerdict(
        False,
        f"{installed} is newer than the {label} releases this package supports ({_tested_words(name)});"
        " it may work, but nothing has checked it",
        f"{install}, or upgrade {PACKAGE} if a newer release supports it",
    )


def installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
