"""Neural-network building blocks."""

from minidl.nn import functional
