// The live risk matrix (riskkit/capture/livematrix.py). plotly.js is the one of the plotly package: the kernel sends
// it once per page on request, and it is run as a module of its own; nothing is loaded from anywhere else.

const STILL = { transition: { duration: 0 }, frame: { duration: 0, redraw: false } };
const PLOTLY = Symbol.for("riskkit.plotly.js");

/** plotly.js, asked of the kernel by the first matrix on the page and kept for the others. */
function plotly(model) {
  globalThis[PLOTLY] ??= new Promise((resolve, reject) => {
    const answer = (message, buffers) => {
      if (message?.type !== "plotly.js") return;
      model.off("msg:custom", answer);
      // Its UMD wrapper exports through `module` when there is one.
      const source = new Blob(["const module = { exports: {} };\n", buffers[0], "\nexport default module.exports;\n"],
                              { type: "text/javascript" });
      const url = URL.createObjectURL(source);
      import(url).then((loaded) => resolve(loaded.default), reject).finally(() => URL.revokeObjectURL(url));
    };
    model.on("msg:custom", answer);
    model.send({ type: "plotly.js" });
  });
  return globalThis[PLOTLY];
}

/** Plotly's pseudo-HTML as plain text: its line breaks as commas, the entities riskkit escaped user text with
 * (markup.plotly_text: `&amp;`, `&lt;`, `&gt;`) as the characters typed. */
function plain(text) {
  return String(text).replaceAll("<br>", ", ").replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

/** The text alternative: one line per marker, `R2: <title>, <kind>: <level>, likelihood 4, severity 3`. */
function describe(list, traces) {
  const items = traces.flatMap((trace) =>
    (trace.text || []).map((number, i) => {
      const item = document.createElement("li");
      item.textContent = `${number}: ${plain(trace.hovertext[i])}`;
      return item;
    }),
  );
  list.replaceChildren(...items);
}

async function render({ model, el }) {
  const figure = document.createElement("div");
  figure.className = "rk-live-matrix";
  figure.setAttribute("role", "figure");
  const plot = document.createElement("div");
  plot.setAttribute("aria-hidden", "true"); // the list below says what the chart shows
  const list = document.createElement("ul");
  list.className = "rk-visually-hidden";
  figure.append(plot, list);
  el.append(figure);
  const Plotly = await plotly(model);
  let drawn = Promise.resolve();

  // A view may be created before the model has the figure (messages of different widgets are applied out of
  // order): then nothing is drawn until the figure arrives.
  const draw = () => {
    const spec = model.get("spec");
    if (!spec.data) return; // no school open yet: nothing to draw
    figure.setAttribute("aria-label", model.get("label"));
    drawn = Plotly.react(plot, spec.data, spec.layout, spec.config);
    describe(list, spec.data.slice(spec.first));
  };
  // The markers move by a zero-length animation without redraw: plotly.js repositions the points (~20 ms)
  // instead of re-plotting the figure.
  const move = () => {
    const points = model.get("points");
    const first = model.get("spec").first;
    if (first === undefined) return;
    drawn.then(() => Plotly.animate(plot, { data: points, traces: points.map((_, i) => first + i) }, STILL));
    describe(list, points);
  };

  model.on("change:spec", draw);
  model.on("change:points", move);
  draw();
  return () => {
    model.off("change:spec", draw);
    model.off("change:points", move);
    Plotly.purge(plot);
  };
}

// Ask for plotly.js as soon as the widget exists (not awaited: anywidget gives initialize 2 s), so it is there by
// the time a school is opened and the matrix is shown.
export default { initialize: ({ model }) => void plotly(model), render };
