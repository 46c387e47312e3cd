"""The two pieces of the capture form that ipywidgets cannot make accessible, as anywidgets with plain HTML: a
disclosure heading (a button with aria-expanded inside a real heading) and the status line as a live region that
also ties each field's problem text to its input (aria-describedby, aria-invalid)."""

from __future__ import annotations

from importlib import resources

import anywidget
import traitlets


def package_text(name: str) -> str:
    """A file shipped beside this module (a widget's ES module or stylesheet)."""
    return (resources.files(__package__) / name).read_text(encoding="utf-8")


class Disclosure(anywidget.AnyWidget):
    """A heading whose text is a button with aria-expanded (disclosure.js); `expanded` follows its clicks, Enter and
    Space."""

    _esm = package_text("disclosure.js")
    _css = package_text("aria.css")
    title = traitlets.Unicode().tag(sync=True)
    expanded = traitlets.Bool(False).tag(sync=True)
    level = traitlets.Int(3).tag(sync=True)


class LiveRegion(anywidget.AnyWidget):
    """The status line: `html` (markup from the form's autoescaped templates) in an element with role="status";
    also the form's language and whether it has unsaved changes (liveregion.js)."""

    _esm = package_text("liveregion.js")
    html = traitlets.Unicode().tag(sync=True)
    lang = traitlets.Unicode("de").tag(sync=True)  # the form's language; in the app also the page's
    title = traitlets.Unicode().tag(sync=True)  # the page's title in the app
    dirty = traitlets.Bool(False).tag(sync=True)  # unsaved changes: the browser asks before the tab closes

