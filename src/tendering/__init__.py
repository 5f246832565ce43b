"""Public-resource e-tendering and auction platform (公共资源交易平台)."""

__version__ = "0.1.0"
