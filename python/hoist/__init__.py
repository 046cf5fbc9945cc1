"""hoist: move tables between S3 and in-memory Apache Arrow at the speed of the hardware."""

from ._hoist import version as _c_version

__version__ = _c_version()

__all__ = ["__version__"]
