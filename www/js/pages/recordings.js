// Recordings: filterable, sortable, paged table with batch actions and a modal player.
import {
  html, useEffect, useRef, useState, get, post, put, del, enc, canWrite, toast, errText, fetchStreams,
  fmtBytes, fmtDuration, fmtTime, recStart, recDuration, isAdmin, recStream, recTrigger, recSize, downloadUrl,
} from '../lib.js';
import { Modal, ErrorBox, Icon, Spinner, Empty, confirmDialog } from '../components.js';
import Hls from '/node_modules/hls.js/dist/hls.mjs';

const COLUMNS = [
  { id: 'stream_name', label: 'Stream' },
  { id: 'start_time', label: 'Started' },
  { id: 'duration', label: 'Length' },
  { id: 'size_bytes', label: 'Size' },
];
const TRIGGERS = ['scheduled', 'detection', 'motion', 'manual'];

function readFilters(query) {
  return {
    stream: query.get('stream') || '', from: query.get('from') || '', to: query.get('to') || '',
    trigger: query.get('trigger') || '', protected: query.get('protected') || '', tag: query.get('tag') || '',
    label: query.get('label') || '', sort: query.get('sort') || 'start_time', order: query.get('order') || 'desc',
    page: Number(query.get('page')) || 1, limit: Number(query.get('limit')) || 20,
  };
}

function writeFilters(f) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v !== '' && v !== null && v !== undefined) q.set(k, String(v));
  location.hash = '#/recordings?' + q.toString();
}

// Day boundaries in the browser's zone, sent as UTC ISO-8601.
const dayStart = (d) => new Date(`${d}T00:00:00`).toISOString().replace(/\.\d+Z$/, 'Z');
const dayEnd = (d) => new Date(`${d}T23:59:59`).toISOString().replace(/\.\d+Z$/, 'Z');

function apiQuery(f) {
  // include_incomplete: the segment being written is listed too (marked "recording"): a new
  // camera shows footage at once instead of after its first segment closes.
  const q = new URLSearchParams({ page: f.page, limit: f.limit, sort: f.sort, order: f.order, include_incomplete: '1' });
  if (f.stream) q.set('stream', f.stream);
  if (f.from) q.set('start', dayStart(f.from));
  if (f.to) q.set('end', dayEnd(f.to));
  if (f.trigger) q.set('capture_method', f.trigger);
  if (f.protected) q.set('protected', f.protected === 'yes' ? '1' : '0');
  if (f.tag) q.set('tag', f.tag);
  if (f.label) q.set('label', f.label);
  return q.toString();
}

// The segment still being written: listed, playable up to its live edge, never deleted here.
export const isOpen = (r) => r.recording === true || r.is_complete === false || r.is_complete === 0;

function Thumb({ rec }) {
  const [ok, setOk] = useState(true);
  return html`<div class="thumb">${ok
    ? html`<img src=${`/api/recordings/thumbnail/${rec.id}/0`} alt="" loading="lazy" onError=${() => setOk(false)} />`
    : html`<${Icon} name="rec" size=${20} />`}</div>`;
}

// The detections within a recording, each a button that seeks the player to its moment.
function DetectionList({ rec, videoRef }) {
  const [dets, setDets] = useState(null);
  useEffect(() => {
    get(`/api/recordings/${rec.id}/detections`).then((r) => setDets(r.detections || [])).catch(() => setDets([]));
  }, [rec.id]);
  if (dets === null) return null;
  const seek = (d) => { const v = videoRef.current; if (v) { v.currentTime = Math.max(0, d.offset); v.play().catch(() => {}); } };
  return html`<section class="det-list" aria-label="Detections in this recording">
    <h3>Detections (${dets.length})</h3>
    ${dets.length === 0 ? html`<p class="muted">Nothing was detected during this recording.</p>`
    : html`<ul>${dets.map((d) => html`<li key=${d.id} data-label=${d.label}>
        <button type="button" class="btn small ghost" onClick=${() => seek(d)}
          aria-label=${`Play from ${d.label} at ${fmtDuration(d.offset)}`}>▶ ${fmtDuration(d.offset)}</button>
        <span class="chip">${d.label}</span>
        ${d.label !== 'motion' && d.confidence < 1 ? html`<span class="muted small">${Math.round(d.confidence * 100)} %</span>` : null}
        <span class="muted small">${fmtTime(new Date(d.timestamp * 1000))}</span>
      </li>`)}</ul>`}
  </section>`;
}

// The segment still being written, through hls.js over the timeline's playlist of it (its whole
// fragments so far). When playback reaches the end, a fresh playlist has the seconds recorded
// since, so it plays on up to the live edge.
function GrowingVideo({ rec, videoRef, onError }) {
  const ref = useRef(null);
  useEffect(() => {
    const v = ref.current;
    videoRef.current = v;
    if (!Hls.isSupported()) { v.src = `/api/recordings/play/${rec.id}`; return undefined; }
    let hls = null;
    let stopped = false;
    // Half a second in: the segment before this one ends exactly where this one starts.
    const from = (Number(recStart(rec)) / 1000 + 0.5).toFixed(3);
    const open = (pos) => {
      if (stopped) return;
      if (hls) hls.destroy();
      hls = new Hls({ enableWorker: false, startPosition: pos });
      hls.on(Hls.Events.ERROR, (_e, d) => {
        if (!d.fatal) return;
        v.dataset.hlsError = `${d.type}:${d.details}`;
        onError(new Error('This recording cannot be played yet — try again in a few seconds'));
      });
      hls.on(Hls.Events.MANIFEST_PARSED, () => { v.play().catch(() => {}); });
      hls.loadSource(`/api/timeline/manifest?stream=${enc(recStream(rec))}&start=${from}&end=${Math.floor(Date.now() / 1000) + 60}`);
      hls.attachMedia(v);
    };
    let last = 0;
    const ended = () => { last = v.currentTime; setTimeout(() => open(last), 1000); };
    v.addEventListener('ended', ended);
    open(0);
    return () => { stopped = true; v.removeEventListener('ended', ended); if (hls) hls.destroy(); };
  }, [rec.id]);
  return html`<video ref=${ref} class="player" controls autoplay muted playsinline data-mode="growing"
    aria-label=${'Recording (still being written) of ' + recStream(rec)}></video>`;
}

export function RecordingPlayer({ rec, user, onClose, onChanged }) {
  const [prot, setProt] = useState(!!rec.protected);
  const [error, setError] = useState(null);
  const videoRef = useRef(null);
  const name = recStream(rec);
  const open = isOpen(rec);
  const protect = async () => {
    try {
      await put(`/api/recordings/${rec.id}/protect`, { protected: !prot });
      setProt(!prot);
      toast(!prot ? 'Recording protected' : 'Protection removed', 'ok');
      onChanged && onChanged();
    } catch (err) { setError(err); }
  };
  // One rule in both delete dialogs, the server's: a protected recording is kept unless an
  // administrator deletes it on purpose (then ?force=true); everyone else unprotects it first.
  const admin = isAdmin(user);
  const remove = async () => {
    const message = !prot ? `Delete the ${name} recording from ${fmtTime(recStart(rec))}? This cannot be undone.`
      : admin ? `This recording is protected. Protected recordings are kept unless an administrator deletes them on purpose. Delete the ${name} recording from ${fmtTime(recStart(rec))} anyway? This cannot be undone.`
        : 'This recording is protected. Protected recordings are kept: unprotect it first, or ask an administrator.';
    if (prot && !admin) { await confirmDialog({ title: 'Protected recording', message, confirm: 'OK' }); return; }
    if (!await confirmDialog({ title: prot ? 'Delete a protected recording?' : 'Delete recording?', message, confirm: prot ? 'Delete anyway' : 'Delete', danger: true })) return;
    try {
      await del(`/api/recordings/${rec.id}${prot ? '?force=true' : ''}`);
      toast('Recording deleted', 'ok');
      onChanged && onChanged();
      onClose();
    } catch (err) { setError(err); }
  };
  return html`<${Modal} wide title=${`${name} · ${fmtTime(recStart(rec))}`} onClose=${onClose}
    footer=${html`
      <a class="btn" href=${`/api/recordings/download/${rec.id}`} download><${Icon} name="download" /> Download</a>
      ${canWrite(user) && html`<button type="button" class="btn" onClick=${protect} aria-pressed=${prot ? 'true' : 'false'}>
        <${Icon} name="lock" /> ${prot ? 'Unprotect' : 'Protect'}</button>
        ${!open && html`<button type="button" class="btn danger" onClick=${remove}><${Icon} name="trash" /> Delete</button>`}`}`}>
    <${ErrorBox} error=${error} />
    ${open && html`<p class="notice" role="status"><span class="rec-dot" aria-hidden="true"></span> Still being recorded (started ${fmtTime(recStart(rec))}): playback goes on up to the newest seconds.</p>`}
    ${open ? html`<${GrowingVideo} rec=${rec} videoRef=${videoRef} onError=${setError} />`
    : html`<video ref=${videoRef} class="player" src=${`/api/recordings/play/${rec.id}`} controls autoplay muted playsinline
      aria-label=${'Recording of ' + name} onError=${() => setError(new Error('This recording cannot be played (file missing or unsupported codec)'))}></video>`}
    <dl class="meta">
      <div><dt>Length</dt><dd>${fmtDuration(recDuration(rec))}</dd></div>
      <div><dt>Size</dt><dd>${fmtBytes(recSize(rec))}</dd></div>
      <div><dt>Trigger</dt><dd>${recTrigger(rec)}</dd></div>
      ${rec.width ? html`<div><dt>Video</dt><dd>${rec.width}×${rec.height} ${rec.codec || ''}</dd></div>` : null}
      <div><dt>Protected</dt><dd>${prot ? 'yes' : 'no'}</dd></div>
    </dl>
    <${DetectionList} rec=${rec} videoRef=${videoRef} />
  <//>`;
}

async function zipDownload(ids) {
  const job = await post('/api/recordings/batch-download', { ids, filename: `recordings-${ids.length}.zip` });
  const token = job.token || job.job_id;
  if (!token) throw new Error('The server did not start a download job');
  // The server builds the ZIP while it is sent, so a 'ready' token needs no waiting.
  for (let i = 0; job.status !== 'ready' && i < 600; i++) {
    const st = await get(`/api/recordings/batch-download/status/${enc(token)}`);
    if (st.status === 'complete' || st.complete || st.ready) break;
    if (st.status === 'error') throw new Error(st.error || 'ZIP creation failed');
    if (i === 0) toast('Preparing ZIP…', 'info', 3000);
    await new Promise((r) => setTimeout(r, 1000));
  }
  downloadUrl(`/api/recordings/batch-download/result/${enc(token)}`, `recordings-${ids.length}.zip`);
}

async function batchDelete(ids, includeProtected = false) {
  const res = await post('/api/recordings/batch-delete', includeProtected ? { ids, include_protected: true } : { ids });
  const job = res.job_id || res.jobId;
  if (!job) return res;
  for (let i = 0; i < 300; i++) {
    const p = await get(`/api/recordings/batch-delete/progress/${enc(job)}`);
    if (p.complete && p.status === 'error') throw new Error(p.error_message || 'Batch delete failed');
    if (p.complete || p.status === 'complete' || p.status === 'done') return p;
    if (p.status === 'error') throw new Error(p.error || p.status_message || 'Batch delete failed');
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('Batch delete is taking long; check again later');
}

// Phones get the filters folded (they took half the first screen); the summary says how many
// are on, so a filtered list is never mistaken for everything.
const narrow = () => typeof window !== 'undefined' && window.matchMedia && window.matchMedia('(max-width: 600px)').matches;

function Filters({ f, streams, tags, labels }) {
  const set = (k) => (e) => writeFilters({ ...f, [k]: e.currentTarget.value, page: 1 });
  const reset = () => writeFilters({ sort: f.sort, order: f.order, limit: f.limit, page: 1 });
  const [open] = useState(() => !narrow());
  const on = ['stream', 'from', 'to', 'trigger', 'protected', 'tag', 'label'].filter((k) => f[k]).length;
  return html`<details class="filters-fold" open=${open}>
    <summary>Filters${on ? ` (${on} on)` : ''}</summary>
    <form class="filters" onSubmit=${(e) => e.preventDefault()} aria-label="Filters">
    <label>Stream<select value=${f.stream} onChange=${set('stream')}>
      <option value="">All streams</option>
      ${streams.map((s) => html`<option value=${s.name}>${s.name}</option>`)}</select></label>
    <label>From<input type="date" value=${f.from} onChange=${set('from')} /></label>
    <label>To<input type="date" value=${f.to} onChange=${set('to')} /></label>
    <label>Trigger<select value=${f.trigger} onChange=${set('trigger')}>
      <option value="">Any</option>${TRIGGERS.map((t) => html`<option value=${t}>${t}</option>`)}</select></label>
    <label>Protected<select value=${f.protected} onChange=${set('protected')}>
      <option value="">Any</option><option value="yes">Protected</option><option value="no">Not protected</option></select></label>
    <label>Tag<select value=${f.tag} onChange=${set('tag')}>
      <option value="">Any</option>${tags.map((t) => html`<option value=${t}>${t}</option>`)}</select></label>
    <label>Detected<select name="label" value=${f.label} onChange=${set('label')}>
      <option value="">Anything or nothing</option>${labels.map((t) => html`<option value=${t}>${t}</option>`)}
      ${f.label && !labels.includes(f.label) && html`<option value=${f.label}>${f.label}</option>`}</select></label>
    <button type="button" class="btn ghost filters-clear" onClick=${reset} disabled=${!on}
      title=${on ? 'Show every recording again' : 'No filter is on'}>Clear filters</button>
  </form></details>`;
}

export function RecordingsPage({ query, user }) {
  const f = readFilters(query);
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [streams, setStreams] = useState([]);
  const [tags, setTags] = useState([]);
  const [labels, setLabels] = useState([]);
  const [sel, setSel] = useState(new Set());
  const [playing, setPlaying] = useState(null);
  const [busy, setBusy] = useState(false);
  const key = apiQuery(f);
  useEffect(() => { document.title = 'Recordings · LightNVR'; }, []);
  useEffect(() => {
    fetchStreams().then(setStreams).catch(() => {});
    get('/api/recordings/detection-labels').then((r) => setLabels((r.labels || []).map((x) => (typeof x === 'string' ? x : x.label)))).catch(() => {});
    get('/api/recordings/tags').then((t) => setTags((Array.isArray(t) ? t : t.tags || []).map((x) => (typeof x === 'string' ? x : x.tag || x.name)))).catch(() => {});
  }, []);
  const load = async () => {
    try {
      const res = await get('/api/recordings?' + key);
      setData(res);
      setError(null);
    } catch (err) { setError(err); }
  };
  useEffect(() => { setSel(new Set()); load(); }, [key]);

  const rows = (data && data.recordings) || [];
  const pg = (data && data.pagination) || {};
  const total = pg.total ?? rows.length;
  const pages = pg.pages || Math.max(1, Math.ceil(total / f.limit));
  // The segment being written is not selectable: a batch delete must never take the file the
  // recorder is still writing.
  const selectable = rows.filter((r) => !isOpen(r));
  const allOn = selectable.length > 0 && selectable.every((r) => sel.has(r.id));
  const toggle = (id) => { const s = new Set(sel); if (s.has(id)) s.delete(id); else s.add(id); setSel(s); };
  const toggleAll = () => setSel(allOn ? new Set() : new Set(selectable.map((r) => r.id)));
  const sortBy = (col) => writeFilters({ ...f, sort: col, order: f.sort === col && f.order === 'desc' ? 'asc' : 'desc', page: 1 });
  const ids = [...sel];

  const run = async (label, fn) => {
    setBusy(true);
    try { const res = await fn(); toast(typeof label === 'function' ? label(res) : label, 'ok'); setSel(new Set()); await load(); } catch (err) { toast(errText(err), 'error', 8000); } finally { setBusy(false); }
  };
  const deleted = (p) => {
    const skipped = (p && p.skipped_protected) || 0;
    const done = p && typeof p.succeeded === 'number' ? p.succeeded : ids.length - skipped;
    return `Deleted ${done} recording(s)` + (skipped ? `; ${skipped} protected kept` : '');
  };
  const doDelete = async () => {
    const admin = isAdmin(user);
    const choice = await confirmDialog({
      title: `Delete ${ids.length} recording${ids.length > 1 ? 's' : ''}?`,
      message: 'Protected recordings are kept unless an administrator deletes them on purpose. Deleted files cannot be recovered.',
      confirm: 'Delete', danger: true,
      options: admin ? [{ value: 'skip', label: 'Keep protected recordings', hint: 'They are skipped and counted.' },
        { value: 'all', label: 'Delete protected recordings too', hint: 'Only administrators may.' }] : undefined,
    });
    if (!choice) return;
    run(deleted, () => batchDelete(ids, choice === 'all'));
  };
  const doProtect = (on) => run(on ? 'Protected' : 'Protection removed', () => post('/api/recordings/batch-protect', { ids, protected: on }));
  const doZip = () => run('Download started', () => zipDownload(ids));

  const th = (c) => html`<th scope="col" aria-sort=${f.sort === c.id ? (f.order === 'asc' ? 'ascending' : 'descending') : undefined}>
    <button type="button" class="th-sort" onClick=${() => sortBy(c.id)}>${c.label}
      <span aria-hidden="true">${f.sort === c.id ? (f.order === 'asc' ? ' ▲' : ' ▼') : ''}</span></button></th>`;
  return html`<section class="page">
    <div class="page-head"><h1>Recordings</h1>
      <button type="button" class="btn ghost" onClick=${load}><${Icon} name="refresh" /> Refresh</button></div>
    <${Filters} f=${f} streams=${streams} tags=${tags} labels=${labels} />
    ${sel.size > 0 && html`<div class="batchbar" role="region" aria-label="Selected recordings">
      <strong>${sel.size} selected</strong>
      <button type="button" class="btn" disabled=${busy} onClick=${doZip}><${Icon} name="download" /> Download ZIP</button>
      ${canWrite(user) && html`
        <button type="button" class="btn" disabled=${busy} onClick=${() => doProtect(true)}><${Icon} name="lock" /> Protect</button>
        <button type="button" class="btn" disabled=${busy} onClick=${() => doProtect(false)}>Unprotect</button>
        <button type="button" class="btn danger" disabled=${busy} onClick=${doDelete}><${Icon} name="trash" /> Delete</button>`}
      <button type="button" class="btn ghost" onClick=${() => setSel(new Set())}>Clear selection</button>
    </div>`}
    <${ErrorBox} error=${error} onRetry=${load} />
    ${data === null && !error ? html`<${Spinner} />`
    : rows.length === 0 && !error ? html`<${Empty} title="No recordings match"><p>Change the filters or wait for cameras to record.</p><//>`
    : html`<div class="table-wrap" tabindex="0" role="region" aria-label="Recordings table"><table class="table rec-table">
        <caption class="sr-only">Recordings, ${total} in total</caption>
        <thead><tr>
          <th scope="col" class="col-check"><input type="checkbox" aria-label="Select all on this page" checked=${allOn} onChange=${toggleAll} /></th>
          <th scope="col" class="col-thumb"><span class="sr-only">Preview</span></th>
          ${COLUMNS.map(th)}
          <th scope="col" class="hide-sm">Trigger</th>
          <th scope="col"><span class="sr-only">Actions</span></th>
        </tr></thead>
        <tbody>${rows.map((r) => html`<tr key=${r.id} class=${sel.has(r.id) ? 'selected' : ''} data-id=${r.id}>
          <td class="col-check"><input type="checkbox" aria-label=${`Select recording ${r.id}`} checked=${sel.has(r.id)} disabled=${isOpen(r)}
            title=${isOpen(r) ? 'Still being recorded' : undefined} onChange=${() => toggle(r.id)} /></td>
          <td class="col-thumb"><button type="button" class="thumb-btn" onClick=${() => setPlaying(r)} aria-label=${`Play recording ${r.id}`}><${Thumb} rec=${r} /></button></td>
          <td>${recStream(r)}${r.protected ? html` <span class="chip" title="Protected"><${Icon} name="lock" size=${12} /> protected</span>` : ''}
            ${isOpen(r) ? html` <span class="chip rec" title="Still being written: plays up to the last few seconds"><span class="rec-dot" aria-hidden="true"></span>recording</span>` : ''}</td>
          <td class="nowrap">${fmtTime(recStart(r))}</td>
          <td class="nowrap">${fmtDuration(recDuration(r))}</td>
          <td class="nowrap">${fmtBytes(recSize(r))}</td>
          <td class="hide-sm"><span class="chip">${recTrigger(r)}</span>
            ${(r.detection_labels || []).map((d) => html` <span class="chip det" data-label=${d.label}>${d.label} ×${d.count}</span>`)}</td>
          <td class="actions nowrap">
            <button type="button" class="btn icon-btn small" onClick=${() => setPlaying(r)} aria-label=${`Play recording ${r.id}`} title="Play"><${Icon} name="play" /></button>
            <a class="btn icon-btn small" href=${`/api/recordings/download/${r.id}`} download aria-label=${`Download recording ${r.id}`} title="Download"><${Icon} name="download" /></a>
          </td></tr>`)}
        </tbody></table></div>
      <nav class="pager" aria-label="Pages">
        <button type="button" class="btn" disabled=${f.page <= 1} onClick=${() => writeFilters({ ...f, page: f.page - 1 })}>Previous</button>
        <span class="pager-text">Page ${f.page} of ${pages} · ${total} recording${total === 1 ? '' : 's'}</span>
        <button type="button" class="btn" disabled=${f.page >= pages} onClick=${() => writeFilters({ ...f, page: f.page + 1 })}>Next</button>
        <label class="inline">Per page <select value=${f.limit} onChange=${(e) => writeFilters({ ...f, limit: e.currentTarget.value, page: 1 })}>
          ${[10, 20, 50, 100].map((n) => html`<option value=${n}>${n}</option>`)}</select></label>
      </nav>`}
    ${playing && html`<${RecordingPlayer} rec=${playing} user=${user} onClose=${() => setPlaying(null)} onChanged=${load} />`}
  </section>`;
}
