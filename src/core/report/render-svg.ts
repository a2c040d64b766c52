/**
 * DOT → SVG with Graphviz compiled to WebAssembly (@hpcc-js/wasm-graphviz: the WASM module is
 * inlined in its JavaScript, so no system `dot`, no file beside the bundle and no network). The
 * module (815 KB of JavaScript) is imported on the first render, not when perfloop starts
 * (`--help`, `init`, the Action's start-up need none of it), and kept. Graphviz escapes XML itself (`<`, `&`, `"` in labels
 * and tooltips become entities), so untrusted label text cannot become SVG markup.
 */
import type { Graphviz } from "@hpcc-js/wasm-graphviz";

/** The DOT could not be rendered: the WASM module did not load, or Graphviz refused the graph. `cause` is the original error. */
export class SvgRenderError extends Error {
  override name = "SvgRenderError";
}

let graphviz: Promise<Graphviz> | null = null;

/**
 * Renders DOT source to an SVG document (shape: string in, `<?xml …?><svg …>…</svg>` out) with the
 * `dot` layout engine.
 * @throws SvgRenderError (original error as `cause`) when the module cannot load or Graphviz fails
 *   (a syntax error, for one); a failed load is retried on the next call.
 */
export async function renderSvg(dot: string): Promise<string> {
  let gv: Graphviz;
  try {
    graphviz ??= import("@hpcc-js/wasm-graphviz").then((m) => m.Graphviz.load());
    gv = await graphviz;
  } catch (error) {
    graphviz = null;
    throw new SvgRenderError(`cannot load Graphviz (WASM): ${(error as Error).message}`, { cause: error });
  }
  let svg: string;
  try {
    svg = gv.dot(dot, "svg");
  } catch (error) {
    throw new SvgRenderError(`Graphviz cannot render the graph: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!svg.includes("<svg")) throw new SvgRenderError("Graphviz returned no SVG");
  return svg;
}
