// A disclosure heading (riskkit/capture/aria.py): a real <button> inside a heading, with aria-expanded, so the
// keyboard reaches it with Tab and opens it with Enter or Space, and a screen reader says whether it is open.
export default {
  render({ model, el }) {
    const heading = document.createElement("h" + model.get("level"));
    heading.className = "rk-fold-heading";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "rk-fold-button";
    const sync = () => {
      button.textContent = model.get("title");
      button.setAttribute("aria-expanded", String(model.get("expanded")));
    };
    button.addEventListener("click", () => {
      model.set("expanded", !model.get("expanded"));
      model.save_changes();
    });
    model.on("change:title", sync);
    model.on("change:expanded", sync);
    sync();
    heading.append(button);
    el.append(heading);
  },
};
