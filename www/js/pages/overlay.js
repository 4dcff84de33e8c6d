// Live detection overlay: the motion detector's changed cells and bounding box, and the boxes of
// recent stored detections, drawn over a live tile in 0..1 picture units. Polled from
// /api/detection/results/{stream} (no argument = the last couple of detection rounds) while shown.
import { html, useEffect, useState, useInterval, get, enc } from '../lib.js';

const POLL_MS = 1000;

export function DetectionOverlay({ stream }) {
  const [res, setRes] = useState(null);
  const load = () => get(`/api/detection/results/${enc(stream)}`).then(setRes).catch(() => setRes(null));
  useEffect(() => { load(); }, [stream]);
  useInterval(load, POLL_MS, [stream]);
  if (!res) return null;
  const m = res.motion;
  const dets = res.detections || [];
  // Whole-frame rows (external triggers, motion events) carry no box worth drawing.
  const boxes = dets.filter((d) => d.width < 1 || d.height < 1);
  const moving = !!(m && m.moving);
  return html`<svg class="det-overlay" viewBox="0 0 1 1" preserveAspectRatio="none" aria-hidden="true"
      data-moving=${moving ? 'true' : 'false'} data-cells=${m ? m.cells.length : 0}>
    ${m && m.cells.map((c) => html`<rect class="det-cell" x=${c.x} y=${c.y} width=${c.width} height=${c.height} />`)}
    ${m && m.box && moving && html`<rect class="det-box" x=${m.box.x} y=${m.box.y} width=${m.box.width} height=${m.box.height} />`}
    ${boxes.map((d) => html`<rect class="det-box obj" x=${d.x} y=${d.y} width=${d.width} height=${d.height}><title>${d.label}</title></rect>`)}
  </svg>`;
}
