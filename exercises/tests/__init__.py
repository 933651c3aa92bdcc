"""Tests of the exercises: each test takes the implementation under test as ``ex``."""
