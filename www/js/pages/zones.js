// Zone editor: draw detection zones (polygons in 0..1 picture coordinates) over a current snapshot
// of the stream and save them through /api/streams/{name}/zones. The zones are saved on their own
// button, not with the stream form: the zones API replaces the whole list and the detector takes
// it at once, so they need no stream restart and no diff against the stream config.
import { html, useEffect, useRef, useState, get, post, enc, toast } from '../lib.js';
import { ErrorBox, Toggle } from '../components.js';

const COLORS = ['#e53935', '#1e88e5', '#43a047', '#fb8c00', '#8e24aa', '#00897b'];
const MAX_POINTS = 32;  // the server's limit (database/zones.py MAX_ZONE_POINTS) is the real check

// Click position → normalised point, clamped: a click on the frame's very edge must stay in 0..1.
function toPoint(e, el) {
  const r = el.getBoundingClientRect();
  const c = (v) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;
  return { x: c((e.clientX - r.left) / r.width), y: c((e.clientY - r.top) / r.height) };
}

const pts = (poly) => poly.map((p) => `${p.x},${p.y}`).join(' ');

function nextId(zones) {
  let i = zones.length + 1;
  while (zones.some((z) => z.id === `zone_${i}`)) i += 1;
  return `zone_${i}`;
}

export function ZoneEditor({ stream }) {
  const [zones, setZones] = useState(null);
  const [draft, setDraft] = useState([]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [snap, setSnap] = useState({ t: Date.now(), ok: true });
  // The stage takes the picture's shape so that 0..1 on the SVG is 0..1 of the camera's frame.
  const [ratio, setRatio] = useState('16 / 9');
  const surface = useRef(null);

  useEffect(() => {
    get(`/api/streams/${enc(stream)}/zones`)
      .then((r) => setZones(r.zones || []))
      .catch((err) => { setError(err); setZones([]); });
  }, [stream]);

  const addPoint = (e) => {
    if (draft.length >= MAX_POINTS) return;
    setDraft([...draft, toPoint(e, surface.current)]);
  };
  const closeDraft = () => {
    if (draft.length < 3) return;
    const id = nextId(zones);
    setZones([...zones, { id, name: `Zone ${zones.length + 1}`, enabled: true, type: 'include',
      color: COLORS[zones.length % COLORS.length], polygon: draft }]);
    setDraft([]);
  };
  const change = (i, k) => (v) => setZones(zones.map((z, j) => (j === i ? { ...z, [k]: v } : z)));
  const remove = (i) => setZones(zones.filter((_, j) => j !== i));

  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      // Keep each zone's stored fields (class filter, confidence) and send only what the API knows.
      const body = zones.map(({ id, name, enabled, type, color, polygon, filter_classes, min_confidence }) => ({
        id, name, enabled, type, color, polygon,
        ...(filter_classes !== undefined ? { filter_classes } : {}),
        ...(min_confidence !== undefined ? { min_confidence } : {}),
      }));
      await post(`/api/streams/${enc(stream)}/zones`, { zones: body });
      toast(`Zones of ${stream} saved`, 'ok');
    } catch (err) { setError(err); } finally { setBusy(false); }
  };

  if (zones === null) return html`<p class="muted">Loading zones…</p>`;
  return html`<fieldset class="zone-editor"><legend>Detection zones</legend>
    <p class="hint" id="zone-help">Click on the picture to add corners, then “Close zone”. Motion counts
      only inside enabled include zones and never inside exclude zones; with no zone, the whole picture counts.
      A zone's objects (comma-separated labels, e.g. “person, car”) limit it to those labels; empty means any.</p>
    <${ErrorBox} error=${error} />
    <div class="zone-stage" style=${`aspect-ratio:${ratio}`}>
      ${snap.ok
        ? html`<img class="zone-snapshot" alt=${`Current picture of ${stream}`}
            src=${`/api/streams/${enc(stream)}/snapshot?t=${snap.t}`} onError=${() => setSnap({ ...snap, ok: false })}
            onLoad=${(e) => { const i = e.currentTarget; if (i.naturalWidth) setRatio(`${i.naturalWidth} / ${i.naturalHeight}`); }} />`
        : html`<div class="zone-snapshot zone-nosnap">No picture from the camera yet</div>`}
      <svg ref=${surface} class="zone-surface" viewBox="0 0 1 1" preserveAspectRatio="none"
        role="img" aria-label=${`Zones of ${stream}: click to add a corner`} aria-describedby="zone-help"
        data-testid="zone-surface" onClick=${addPoint}>
        ${zones.map((z) => html`<polygon points=${pts(z.polygon)} class=${'zone-shape' + (z.type === 'exclude' ? ' exclude' : '') + (z.enabled ? '' : ' off')}
          style=${`--zc:${z.color || '#e53935'}`} />`)}
        ${draft.length > 0 && html`<polyline points=${pts(draft)} class="zone-draft" />`}
        ${draft.map((p) => html`<circle cx=${p.x} cy=${p.y} r="0.008" class="zone-dot" />`)}
      </svg>
    </div>
    <div class="zone-tools">
      <button type="button" class="btn small" onClick=${closeDraft} disabled=${draft.length < 3}>Close zone (${draft.length} points)</button>
      <button type="button" class="btn small" onClick=${() => setDraft(draft.slice(0, -1))} disabled=${!draft.length}>Undo point</button>
      <button type="button" class="btn small" onClick=${() => setSnap({ t: Date.now(), ok: true })}>New picture</button>
    </div>
    ${zones.length > 0 && html`<ul class="zone-list">${zones.map((z, i) => html`<li key=${z.id} data-zone=${z.id}>
      <span class="zone-swatch" style=${`--zc:${z.color || '#e53935'}`} aria-hidden="true"></span>
      <label class="sr-only" for=${`zn-${i}`}>Name of zone ${i + 1}</label>
      <input id=${`zn-${i}`} name=${`zone-name-${i}`} value=${z.name} maxlength="64"
        onInput=${(e) => change(i, 'name')(e.currentTarget.value)} />
      <label class="sr-only" for=${`zt-${i}`}>Type of zone ${i + 1}</label>
      <select id=${`zt-${i}`} name=${`zone-type-${i}`} value=${z.type || 'include'} onChange=${(e) => change(i, 'type')(e.currentTarget.value)}>
        <option value="include">Include</option><option value="exclude">Exclude</option></select>
      <label class="sr-only" for=${`zc-${i}`}>Objects of zone ${i + 1} (comma-separated labels, empty for any)</label>
      <input id=${`zc-${i}`} name=${`zone-classes-${i}`} value=${z.filter_classes || ''} maxlength="256"
        placeholder="any object" title="Labels this zone counts, comma-separated (e.g. person, car); empty: any"
        onInput=${(e) => change(i, 'filter_classes')(e.currentTarget.value)} />
      <${Toggle} label="Enabled" checked=${z.enabled} onChange=${change(i, 'enabled')} name=${`zone-enabled-${i}`} />
      <button type="button" class="btn small danger ghost" onClick=${() => remove(i)} aria-label=${`Delete zone ${z.name}`}>Delete</button>
    </li>`)}</ul>`}
    <div class="zone-tools">
      <button type="button" class="btn primary small" onClick=${save} disabled=${busy}>${busy ? 'Saving zones…' : 'Save zones'}</button>
    </div>
  </fieldset>`;
}
