// The capture form's status line (riskkit/capture/aria.py): one element with role="status" that stays in the page,
// so a screen reader announces each new message (saved, not saved and why, a file that cannot be read). It sets the
// form's language (and in the app the page's language and title), and warns before a tab with unsaved changes closes.
// It also ties each field's problem text to its input: aria-describedby on the inputs and aria-invalid on the
// text fields and menus, set and cleared as the problem areas (.rk-error) fill and empty; and it gives the radio
// buttons of each choice one name, so that they form one group: one Tab stop, arrow keys move the choice.
let counter = 0;

function group(form) {
  for (const radio of form.querySelectorAll(".widget-radio-box input[type=radio]:not([name])")) {
    const box = radio.closest(".widget-radio-box");
    box.dataset.rkGroup ||= `rk-choice-${++counter}`;
    radio.name = box.dataset.rkGroup;
  }
}

function tie(error) {
  if (!error.id) error.id = `rk-problem-${++counter}`;
  const field = error.previousElementSibling;
  if (!field) return;
  const said = error.textContent.trim() !== "";
  const problem = error.textContent.trim().startsWith("⚠");  // a problem (a length counter alone is none)
  for (const input of field.querySelectorAll("input, textarea, select")) {
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== error.id);
    if (said) described.push(error.id);
    if (described.length) input.setAttribute("aria-describedby", described.join(" "));
    else input.removeAttribute("aria-describedby");
    if (input.type !== "radio" && input.type !== "checkbox") {
      if (problem) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }
}

function watch(form) {
  const errorOf = (node) => (node.nodeType === 1 ? node : node.parentElement)?.closest(".rk-error");
  new MutationObserver((changes) => {
    const errors = new Set();
    for (const change of changes) {
      const error = errorOf(change.target);
      if (error) errors.add(error);
    }
    errors.forEach(tie);
    group(form);
  }).observe(form, { subtree: true, childList: true, characterData: true });
}

export default {
  render({ model, el }) {
    const region = document.createElement("div");
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    region.className = "rk-status";
    const sync = () => { region.innerHTML = model.get("html"); };
    model.on("change:html", sync);
    sync();
    el.append(region);
    // the form's language (and, in the app, the page's language and title) follow the language switch
    const app = document.querySelector('meta[name="riskkit-capture"]');
    const language = () => {
      el.closest(".rk-form")?.setAttribute("lang", model.get("lang"));
      if (app) {
        document.documentElement.lang = model.get("lang");
        document.title = model.get("title");
      }
    };
    model.on("change:lang change:title", language);
    // closing or reloading the tab with unsaved changes asks first
    const warn = (event) => {
      if (model.get("dirty")) {
        event.preventDefault();
        event.returnValue = "";
      }
    };
    window.addEventListener("beforeunload", warn);
    // the form is watched once it holds this view (views are attached after render)
    const start = () => {
      const form = el.closest(".rk-form");
      if (!form) return requestAnimationFrame(start);
      language();
      if (form.dataset.rkWatched) return;
      form.dataset.rkWatched = "1";
      group(form);
      watch(form);
    };
    requestAnimationFrame(start);
    return () => window.removeEventListener("beforeunload", warn);
  },
};
