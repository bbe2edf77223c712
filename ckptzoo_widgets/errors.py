"""The one exception users see: a clear message, never a traceback wall."""


class ZooError(Exception):
    """A zoo, source, reference or sort key that cannot be used, with the reason."""
