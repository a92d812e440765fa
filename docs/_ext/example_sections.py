"""Griffe extension for the API pages: read `Example:` as a Google-style examples section.

The zoo docstrings head their doctests with `Example:` (what `doctest` and readers see).
Griffe's Google parser only knows the plural, `Examples:`, and would render the singular
as an admonition whose `>>>` lines turn into nested block quotes. This renames the
header when the docstrings are read; the source files are not touched.
"""

import re

import griffe

_SINGULAR = re.compile(r"^(\s*)Example:[ \t]*$", re.MULTILINE)


class ExampleSections(griffe.Extension):
    def on_instance(self, *, obj, **kwargs):
        docstring = obj.docstring
        if docstring is not None and "Example:" in docstring.value:
            docstring.value = _SINGULAR.sub(r"\1Examples:", docstring.value)
