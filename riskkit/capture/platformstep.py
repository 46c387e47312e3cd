"""The form's step "Ihre Plattform": the modules the school uses (mandatory ones fixed on), for whom and on which
legal basis, hosting, operation, size and extra data categories, edited in `Draft.platform`. A school that has not
described its platform sees every module ticked; its first entry here describes it."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from ..model.catalogue import Catalogue, Module
from ..model.platform import HOSTINGS, OPERATIONS
from .draft import Draft, ModuleDraft, PlatformDraft
from .fields import Fields, html, row, show


class PlatformStep:
    """The platform step's widgets; `note` tells a school that has not described its platform what counts."""

    def __init__(self, draft: Draft, catalogue: Catalogue, fields: Fields, heading: w.Widget):
        self.draft, self.catalogue, self.fields = draft, catalogue, fields
        self._off: dict[str, ModuleDraft] = {}  # modules switched off in this session, restored if switched on again
        f, p = fields, self._view()
        self.note = html("paragraph", f.t("form.platform_undescribed"))
        show(self.note, draft.platform is None)
        hostings = [(f.t(f"form.hosting.{h}"), h) for h in HOSTINGS]
        operations = [(f.t(f"form.operation.{o}"), o) for o in OPERATIONS]
        since = f.field("platform.running_since", w.DatePicker(value=p.running_since, layout=w.Layout(width="14em")),
                        f.t("form.running_since"), self._set("running_since"))
        show(since, p.operation == "running")

        def operation(value: str) -> None:
            self._edit().operation = value
            show(since, value == "running")

        general = row([
            f.field("platform.hosting", f.menu(hostings, p.hosting, layout=w.Layout(width="18em")),
                    f.t("form.hosting"), self._set("hosting", none=True)),
            f.field("platform.operation", w.ToggleButtons(options=operations, value=p.operation,
                                                          style={"button_width": "auto"}),
                    f.t("form.operation"), operation),
            since,
        ], align_items="flex-end")
        size = row([
            f.field("platform.pupils", w.Text(p.pupils, layout=w.Layout(width="18em")), f.t("form.pupils"),
                    self._set("pupils")),
            f.field("platform.staff", w.Text(p.staff, layout=w.Layout(width="18em")), f.t("form.staff"),
                    self._set("staff")),
        ])
        modules = [self._module(m, p) for m in catalogue.modules]
        extra = [
            f.switch(f"platform.extra_data.{c.id}", w.Checkbox(c.id in p.extra_data, indent=False),
                    f.t("form.special_category", category=c.title[f.lang]) if c.special else c.title[f.lang],
                    self._extra(c.id))
            for c in catalogue.extra_data_categories
        ]
        self.widget = w.VBox([heading, self.note, general, size, html("heading", 4, f.t("form.modules")), *modules,
                              html("heading", 4, f.t("form.extra_data")), *extra])
        self.widget.add_class("rk-step")

    def _view(self) -> PlatformDraft:
        return self.draft.platform or PlatformDraft.every_module(self.catalogue)

    def _edit(self) -> PlatformDraft:
        """The draft's platform, described from now on (created from what counted before: every module)."""
        if self.draft.platform is None:
            self.draft.platform = PlatformDraft.every_module(self.catalogue)
            show(self.note, False)
        return self.draft.platform

    def _set(self, name: str, none: bool = False) -> Callable[[object], None]:
        def setter(value: object) -> None:
            setattr(self._edit(), name, (value or None) if none else value)
        return setter

    def _extra(self, category: str) -> Callable[[bool], None]:
        def setter(on: bool) -> None:
            extra = self._edit().extra_data
            if on and category not in extra:
                extra.append(category)
            elif not on and category in extra:
                extra.remove(category)
        return setter

    def _module(self, module: Module, p: PlatformDraft) -> w.VBox:
        f, lang = self.fields, self.fields.lang
        base = f"platform.modules.{module.id}"
        use = p.modules.get(module.id)
        current = use or ModuleDraft()
        bases = {b.id: b for b in self.catalogue.legal_bases}
        options = [(f"{bases[b].title[lang]} ({bases[b].article[lang]})", b) for b in module.processing.legal_bases]

        def part(name: str) -> Callable[[object], None]:
            def setter(value: object) -> None:
                modules = self._edit().modules
                target = modules.setdefault(module.id, ModuleDraft())
                setattr(target, name, value or None if name == "legal_basis" else value)
            return setter

        details = row([
            f.field(f"{base}.legal_basis", f.menu(options, current.legal_basis, layout=w.Layout(width="30em")),
                    f.t("form.legal_basis"), part("legal_basis")),
            f.field(f"{base}.groups", w.Text(current.groups, layout=w.Layout(width="24em")), f.t("form.groups"),
                    part("groups")),
        ])
        show(details, use is not None)

        def switch(on: bool) -> None:
            modules = self._edit().modules
            if on:
                modules[module.id] = self._off.pop(module.id, ModuleDraft())
            elif module.id in modules:
                self._off[module.id] = modules.pop(module.id)
            show(details, on)

        title = f.t("form.module_mandatory", module=module.title[lang]) if module.mandatory else module.title[lang]
        box = w.Checkbox(use is not None or module.mandatory, indent=False, disabled=module.mandatory)
        widget = w.VBox([f.switch(base, box, title, switch), details])
        widget.add_class("rk-sub")
        return widget
