"""The examples in zoo.data's docstrings run and print what they show."""

import doctest
import importlib
import pkgutil

import pytest

import zoo.data

MODULES = ["zoo.data"] + [f"zoo.data.{m.name}" for m in pkgutil.iter_modules(zoo.data.__path__)]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_info_cannot_be_changed_through_its_mappings():
    info = zoo.data.info("wine")
    with pytest.raises(TypeError):
        info.schemes["stratified"]["train"] = 1
    with pytest.raises(TypeError):
        zoo.data.info("sf_temps").options["window"] = 1
