"""The capture form's field registry: every input with its caption as a real <label>, its problem area and its edit
wired to the draft, keyed like the school file (`risks.profiling.likelihood`); plus the small layout helpers the
form's pieces share."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as w

from markupsafe import Markup

from ..figures.markup import macro, text_label
from ..model.i18n import TEXT_LIMIT, Lang, label, number_text
from .aria import Disclosure

FRAGMENTS = "form.html.j2"  # the capture form's markup, autoescaped (riskkit/figures/templates)
CHOOSE = ""  # the value of a menu's "please choose" entry (a None value would show an empty menu)


def css_class(key: str) -> str:
    """A CSS class naming a field (`rk-risks-profiling-reason`), so a browser test can find it."""
    return "rk-" + re.sub(r"[^a-z0-9-]+", "-", key.lower()).strip("-")


def row(children: list[w.Widget], **layout: str) -> w.HBox:
    """A row that wraps when narrow, with a gap between its items."""
    box = w.HBox(children, layout=w.Layout(**{"flex_flow": "row wrap", **layout}))
    box.add_class("rk-row")
    return box


def section(title: str | None, children: list[w.Widget]) -> w.VBox:
    """An indented part of a risk card, with a bold title if given."""
    box = w.VBox([html("strong", title), *children] if title else children)
    box.add_class("rk-sub")
    return box


def html(name: str, *args: Any) -> w.HTML:
    """An HTML widget holding one fragment of `form.html.j2` (every text argument escaped)."""
    return w.HTML(fragment(name, *args))


def fragment(name: str, *args: Any) -> Markup:
    """One macro of `form.html.j2`, its text arguments escaped."""
    return macro(FRAGMENTS, name, *args)


def show(widget: w.Widget, visible: bool) -> None:
    """Show or hide a widget (hidden widgets keep their values and stay registered)."""
    display = None if visible else "none"
    if widget.layout.display != display:
        widget.layout.display = display


class Lazy(w.VBox):
    """A box whose contents are built the first time it is shown (parts most schools never open: a severity raise,
    a partial measure's scope, residual values set by hand), which keeps opening a school fast."""

    def __init__(self, build: Callable[[], list[w.Widget]], visible: bool):
        super().__init__()
        self._build: Callable[[], list[w.Widget]] | None = build
        self.set(visible)

    @property
    def built(self) -> bool:
        return self._build is None

    def set(self, visible: bool) -> None:
        if visible and self._build:
            build, self._build = self._build, None
            self.children = build()
        show(self, visible)


class Fold(w.VBox):
    """A disclosure heading (aria.Disclosure) over contents that `build` makes when first opened; `on_open` and
    `on_close` run after each opening and closing."""

    def __init__(self, title: str, build: Callable[[], list[w.Widget]], level: int,
                 on_open: Callable[[], None], on_close: Callable[[], None]):
        self.heading = Disclosure(title=title, level=level)
        self.body = Lazy(build, False)
        self._on = {True: on_open, False: on_close}
        super().__init__([self.heading, self.body])
        self.add_class("rk-fold")
        self.heading.observe(lambda change: self._show(change["new"]), "expanded")

    @property
    def opened(self) -> bool:
        return self.heading.expanded

    @opened.setter
    def opened(self, value: bool) -> None:
        self.heading.expanded = value  # the heading's observer builds, shows or hides the contents

    @property
    def title(self) -> str:
        return self.heading.title

    @title.setter
    def title(self, value: str) -> None:
        self.heading.title = value

    def _show(self, value: bool) -> None:
        self.body.set(value)
        self._on[value]()


def close(widget: w.Widget, keep: w.Widget | None = None) -> None:
    """Close a widget and all inside it except `keep` (ipywidgets' close_all would close every widget in the kernel)."""
    if widget is keep:
        return
    for child in getattr(widget, "children", ()):
        close(child, keep)
    widget.close()


class Fields:
    """The inputs, their problem areas and captions, and the add/remove buttons of one rendering of the form.
    `on_edit(key)` runs after a user's edit has reached the draft."""

    def __init__(self, lang: Lang, on_edit: Callable[[str], None]):
        self.lang: Lang = lang
        self.inputs: dict[str, w.ValueWidget] = {}
        self.errors: dict[str, w.HTML] = {}
        self.captions: dict[str, str] = {}
        self.buttons: dict[str, w.Button] = {}  # add/remove planned measures, keyed like their rows
        self.quiet = False
        self._on_edit = on_edit

    def t(self, key: str, **values: Any) -> str:
        """A label in the form's language, with `{placeholders}` filled."""
        text = label(key, self.lang)
        return text.format(**values) if values else text

    def markup(self, key: str, **values: Any) -> Markup:
        """A label as HTML for a message: the label and every value escaped."""
        return text_label(key, self.lang, **values)

    def menu(self, options: list[tuple[str, Any]], value: Any, **kwargs: Any) -> w.Dropdown:
        """A drop-down menu that starts with "please choose" (read back as None)."""
        return w.Dropdown(options=[(self.t("form.choose"), CHOOSE), *options],
                          value=CHOOSE if value is None else value, **kwargs)

    def field(self, key: str, widget: w.ValueWidget, caption: str, setter: Callable[[Any], None]) -> w.VBox:
        """An input with its caption as a real <label>, its problem area below, and its edit wired to the draft."""
        self.switch(key, widget, caption, setter)
        error = self.errors[key] = w.HTML()
        error.add_class("rk-error")
        # overflow visible: an input's margin must not make its box a scroll region (no keyboard way into it)
        return w.VBox([widget, error], layout=w.Layout(width=widget.layout.width, overflow="visible"))

    def switch(self, key: str, widget: w.ValueWidget, caption: str, setter: Callable[[Any], None]) -> w.ValueWidget:
        """An input that cannot be wrong (a tick box that switches a part on), so without a problem area."""
        widget.description = caption
        widget.style.description_width = "initial"
        widget.add_class("rk-stacked")
        widget.add_class(css_class(key))
        widget.layout.width = widget.layout.width or "100%"
        self.inputs[key] = widget
        self.captions[key] = caption
        widget.observe(lambda change: self._edit(key, setter, change["new"]), "value")
        return widget

    def forget(self, prefix: str) -> None:
        """Drop the fields and buttons whose keys start with `prefix` (rows about to be rebuilt)."""
        for registry in (self.inputs, self.errors, self.captions, self.buttons):
            for key in [k for k in registry if k.startswith(prefix)]:
                del registry[key]

    def clear_errors(self) -> None:
        for error in self.errors.values():
            error.value = ""

    @contextmanager
    def quietly(self) -> Iterator[None]:
        """Set widget values without treating them as the user's edits."""
        self.quiet = True
        try:
            yield
        finally:
            self.quiet = False

    def _edit(self, key: str, setter: Callable[[Any], None], value: Any) -> None:
        if self.quiet:
            return
        setter(value)
        if key in self.errors:
            self.errors[key].value = self._length(value)
        self._on_edit(key)

    def _length(self, value: Any) -> str:
        """A text's length against the limit, once it is near it (a counter while typing; over it, a problem)."""
        if not isinstance(value, str) or len(value) < TEXT_LIMIT * 0.9:
            return ""
        count, limit = number_text(len(value), self.lang), number_text(TEXT_LIMIT, self.lang)
        if len(value) > TEXT_LIMIT:
            return fragment("field_problem", self.t("form.text_too_long", count=count, limit=limit))
        return self.t("form.text_near_limit", count=count, limit=limit)
