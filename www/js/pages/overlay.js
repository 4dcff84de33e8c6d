// Live detection overlay: the motion detector's changed cells and bounding box, and the boxes of
// recent stored detections, drawn over a live tile (0..1 picture units from the API). Polled from
// /api/detection/results/{stream} (no argument = the last couple of detection rounds) while shown.
import { html, useEffect, useState, useInterval, get, enc } from '../lib.js';

const POLL_MS = 1000;

// The SVG has the picture's shape and is centred like the video's `object-fit: contain`, so the
// marks sit on the letterboxed picture, not on the bars; 16:9 until the stream reports its size.
export function DetectionOverlay({ stream, width, height }) {
  const w = width > 0 && height > 0 ? width : 16;
  const h = width > 0 && height > 0 ? height : 9;
  const r = (b, cls, kids) => html`<rect class=${cls} x=${b.x * w} y=${b.y * h} width=${b.width * w} height=${b.height * h}>${kids}</rect>`;
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
  return html`<svg class="det-overlay" viewBox=${`0 0 ${w} ${h}`} aria-hidden="true"
      data-moving=${moving ? 'true' : 'false'} data-cells=${m ? m.cells.length : 0}>
    ${m && m.cells.map((c) => r(c, 'det-cell'))}
    ${m && m.box && moving && r(m.box, 'det-box')}
    ${boxes.map((d) => r(d, 'det-box obj', html`<title>${d.label}</title>`))}
  </svg>`;
}
