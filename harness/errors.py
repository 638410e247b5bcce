"""The few exceptions gradharness raises on purpose."""


class HarnessError(ValueError):
    """Bad input: a one-line message naming the argument, what was expected and what came."""


class BackendUnavailable(HarnessError):
    """A backend's framework is not installed (the message has the install command)."""


class LayoutError(HarnessError):
    """A weight does not fit the layout it is being converted to or from."""


class GradientMismatchError(AssertionError):
    """Raised by assertion helpers when a report has a mismatch. str(): first the headline
    (the verdict and the likely cause, in one line), then the located summary."""

    def __init__(self, report):
        super().__init__(f"{report.headline()}\n{report.summary()}")
        self.report = report
