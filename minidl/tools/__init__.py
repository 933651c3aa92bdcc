"""Tools around the engine: gradient checking, profiling, anomaly detection, graph drawing, save/load, and the
table of PyTorch's names beside minidl's."""
