"""The "Coming from PyTorch" table promises only names that exist."""

import pytest

import minidl as md
from minidl.ops.torch_methods import TENSOR_METHODS, TENSOR_PROPERTIES
from minidl.tools.pytorch_names import markdown_tables, minidl_names, resolve


@pytest.mark.parametrize("name", minidl_names())
def test_every_minidl_name_in_the_table_exists(name):
    assert resolve(name) is not None


def test_every_tensor_method_in_the_table_is_on_tensor():
    for name in list(TENSOR_METHODS) + list(TENSOR_PROPERTIES):
        assert hasattr(md.Tensor, name), name
    assert "`x.view`" in markdown_tables()
