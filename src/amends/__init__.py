"""amends: the service-recovery desk."""

__version__ = "0.1.0"
