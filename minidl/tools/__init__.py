"""Tools around the engine: gradient checking, profiling, graph drawing, save/load."""
