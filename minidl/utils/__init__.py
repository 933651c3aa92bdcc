"""PyTorch's import paths: ``minidl.utils.data`` is `minidl.data` (as ``torch.utils.data``)."""
