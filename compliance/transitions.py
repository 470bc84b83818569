"""What every transition function raises when the policy says no.

The message is for the person who tried: it says which rule stopped them and what to do.
Views turn it into a message on the page (never a 500); tests assert on it.
"""


class Refused(Exception):
    """A guarded step was refused; str(exc) is the reason, in plain words."""
