// The live risk matrix (riskkit/capture/livematrix.py). `Plotly` is the plotly.js of the plotly package, which the
// widget sends as its `plotly` trait (an ES module's text); the first view imports it from a blob URL, once per
// page: nothing is loaded from anywhere else.

let plotly = null;

/** plotly.js, imported once from the text the widget carries. */
function loadPlotly(model) {
  if (!plotly) {
    const url = URL.createObjectURL(new Blob([model.get("plotly")], { type: "text/javascript" }));
    plotly = import(/* webpackIgnore: true */ url).then((m) => {
      URL.revokeObjectURL(url);
      return m.default;
    });
  }
  return plotly;
}

const STILL = { transition: { duration: 0 }, frame: { duration: 0, redraw: false } };

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
  const Plotly = await loadPlotly(model);
  const figure = document.createElement("div");
  figure.className = "rk-live-matrix";
  figure.setAttribute("role", "figure");
  const plot = document.createElement("div");
  plot.setAttribute("aria-hidden", "true"); // the list below says what the chart shows
  const list = document.createElement("ul");
  list.className = "rk-visually-hidden";
  figure.append(plot, list);
  el.append(figure);
  let drawn = Promise.resolve();

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

  draw();
  model.on("change:spec", draw);
  model.on("change:points", move);
  return () => {
    model.off("change:spec", draw);
    model.off("change:points", move);
    Plotly.purge(plot);
  };
}

export default { render };
