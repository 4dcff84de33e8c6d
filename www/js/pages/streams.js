// Streams: list with live state; add/edit form with every stream field, 7×24 schedule grid,
// connection test; soft or permanent delete.
import {
  html, useEffect, useRef, useState, useInterval, get, post, put, del, enc, canWrite, toast,
  errText, fetchStreams, ApiError,
} from '../lib.js';
import { Modal, ErrorBox, Icon, Spinner, Empty, Field, Toggle, Badge, confirmDialog } from '../components.js';
import { streamState } from './live.js';
import { ZoneEditor } from './zones.js';

// What the daemon sees on the camera (its reader's stats), else the configured values.
export function detected(s) {
  const st = s.stats || {};
  const w = st.width || s.width, hgt = st.height || s.height, fps = st.fps || s.fps;
  const parts = [st.video_codec || s.codec, w ? `${w}×${hgt}` : '', fps ? `${Math.round(fps * 10) / 10} fps` : '',
    st.video_codec ? (st.audio_codec ? `audio ${st.audio_codec}` : 'no audio') : ''];
  return parts.filter(Boolean).join(' · ');
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DEFAULTS = {
  name: '', url: '', sub_stream_url: '', enabled: true, streaming_enabled: true, record: true,
  record_audio: true, segment_duration: 60, protocol: 0, priority: 5, width: 0, height: 0, fps: 0,
  codec: '', retention_days: -1, detection_retention_days: -1, max_storage_mb: 0,
  record_on_schedule: false, recording_schedule: Array(168).fill(true),
  detection_based_recording: false, detection_model: '', detection_threshold: 50,
  detection_interval: 10, pre_detection_buffer: 5, post_detection_buffer: 10, detection_api_url: '',
  motion_sensitivity: 0.5, motion_min_area: 0.01, motion_cooldown: 3, detection_every_frame: false,
  detection_schedule: Array(168).fill(true), motion_trigger_source: '',
  tags: '',
};
// Fields whose change restarts the stream's threads (the server's StreamConfig.restart_needed):
// the recording gets a gap of a few seconds. Every other field applies in place.
const RESTART_FIELDS = { url: 'Stream URL', enabled: 'Enabled', streaming_enabled: 'Live view', record: 'Record',
  protocol: 'Transport', record_audio: 'Record audio',
  detection_based_recording: 'Detection-based recording' };
const NUMERIC = ['segment_duration', 'protocol', 'priority', 'width', 'height', 'fps', 'retention_days',
  'detection_retention_days', 'max_storage_mb', 'detection_threshold', 'detection_interval',
  'pre_detection_buffer', 'post_detection_buffer', 'motion_sensitivity', 'motion_min_area',
  'motion_cooldown'];

// The schedule arrives as 168 booleans (C API) or a '0'/'1' string; '' or missing = always.
function parseSchedule(v) {
  if (Array.isArray(v) && v.length === 168) return v.map((x) => x === true || x === 1 || x === '1');
  if (typeof v === 'string' && v.length === 168) return [...v].map((c) => c === '1');
  return Array(168).fill(true);
}

function fromServer(s) {
  const f = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS)) if (s[k] !== undefined && s[k] !== null) f[k] = s[k];
  f.recording_schedule = parseSchedule(s.recording_schedule);
  f.detection_schedule = parseSchedule(s.detection_schedule);
  if (Array.isArray(f.tags)) f.tags = f.tags.join(', ');
  return f;
}

function validate(f, isNew) {
  const e = {};
  if (!f.name.trim()) e.name = 'Give the stream a name';
  else if (/[/\\]|\.\.|[\u0000-\u001f]/.test(f.name)) e.name = 'No slashes, backslashes, ".." or control characters';
  else if (f.name.length > 64) e.name = 'At most 64 characters';
  if (!/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(f.url.trim())) e.url = 'Enter a camera URL such as rtsp://host:554/path';
  if (f.sub_stream_url && !/^[a-z]+:\/\//i.test(f.sub_stream_url)) e.sub_stream_url = 'Enter a full URL or leave empty';
  const num = (k, lo, hi, msg) => { const v = Number(f[k]); if (!Number.isFinite(v) || v < lo || v > hi) e[k] = msg; };
  num('segment_duration', 10, 86400, 'Between 10 and 86400 seconds');
  num('retention_days', -1, 36500, '-1 (inherit), 0 (keep forever) or a number of days');
  num('detection_retention_days', -1, 36500, '-1 (inherit), 0 (keep forever) or a number of days');
  num('max_storage_mb', 0, 1e9, '0 (no quota) or a size in MB');
  num('priority', 1, 10, 'Between 1 and 10');
  num('fps', 0, 240, 'Between 0 and 240');
  num('detection_threshold', 0, 100, 'Between 0 and 100 (%)');
  num('pre_detection_buffer', 0, 300, 'Between 0 and 300 seconds');
  num('post_detection_buffer', 0, 300, 'Between 0 and 300 seconds');
  num('detection_interval', 1, 3600, 'Between 1 and 3600 seconds');
  num('motion_sensitivity', 0, 1, 'Between 0 and 1');
  num('motion_min_area', 0.0001, 1, 'More than 0, at most 1 (the whole picture)');
  num('motion_cooldown', 0, 3600, 'Between 0 and 3600 seconds');
  if (f.motion_trigger_source && f.motion_trigger_source === f.name) e.motion_trigger_source = 'Choose another stream';
  if (isNew === undefined) return e;
  return e;
}

// `prefix` tells two grids on one form apart for screen readers ("Detection Sun 03:00").
export function ScheduleGrid({ value, onChange, disabled, label = 'Weekly recording schedule', prefix = '' }) {
  const painting = useRef(null);
  const set = (i, on) => { const v = value.slice(); v[i] = on; onChange(v); };
  const down = (i) => (e) => { if (disabled) return; e.preventDefault(); painting.current = !value[i]; set(i, !value[i]); };
  const enter = (i) => () => { if (painting.current !== null && value[i] !== painting.current) set(i, painting.current); };
  useEffect(() => {
    const up = () => { painting.current = null; };
    window.addEventListener('pointerup', up);
    return () => window.removeEventListener('pointerup', up);
  }, []);
  const preset = (fn) => onChange(Array.from({ length: 168 }, (_, i) => fn(Math.floor(i / 24), i % 24)));
  return html`<div class=${'schedule' + (disabled ? ' disabled' : '')}>
    <div class="schedule-presets">
      <button type="button" class="btn small" disabled=${disabled} onClick=${() => preset(() => true)}>Always</button>
      <button type="button" class="btn small" disabled=${disabled} onClick=${() => preset(() => false)}>Never</button>
      <button type="button" class="btn small" disabled=${disabled} onClick=${() => preset((d, h) => d >= 1 && d <= 5 && h >= 8 && h < 18)}>Weekdays 8–18</button>
      <button type="button" class="btn small" disabled=${disabled} onClick=${() => preset((d, h) => h >= 20 || h < 7)}>Nights</button>
    </div>
    <div class="schedule-scroll"><table class="schedule-grid" role="grid" aria-label=${label}>
      <thead><tr><th scope="col"><span class="sr-only">Day</span></th>${Array.from({ length: 24 }, (_, h) => html`<th scope="col">${h % 3 === 0 ? h : html`<span class="sr-only">${h}</span>`}</th>`)}</tr></thead>
      <tbody>${DAYS.map((d, di) => html`<tr><th scope="row">${d}</th>
        ${Array.from({ length: 24 }, (_, h) => { const i = di * 24 + h; return html`<td><button type="button"
          class=${'slot' + (value[i] ? ' on' : '')} aria-pressed=${value[i] ? 'true' : 'false'} disabled=${disabled}
          aria-label=${`${prefix}${d} ${String(h).padStart(2, '0')}:00`} onPointerDown=${down(i)} onPointerEnter=${enter(i)}
          onKeyDown=${(e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); set(i, !value[i]); } }}></button></td>`; })}
      </tr>`)}</tbody></table></div>
  </div>`;
}

function num(f, k) { return f[k] === '' ? '' : f[k]; }

function StreamForm({ initial, isNew, onClose, onSaved, streams }) {
  const [f, setF] = useState(initial);
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [test, setTest] = useState(null);
  const set = (k) => (v) => setF({ ...f, [k]: v });
  const restarting = Object.keys(RESTART_FIELDS).filter((k) => String(f[k]) !== String(initial[k])).map((k) => RESTART_FIELDS[k]);
  const inp = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const bind = (k, type = 'text', extra = {}) => (id, d) => html`<input id=${id} name=${k} type=${type}
    value=${type === 'number' ? num(f, k) : f[k]} onInput=${inp(k)} aria-describedby=${d}
    aria-invalid=${errors[k] ? 'true' : undefined} ...${extra} />`;

  const runTest = async () => {
    setTest({ busy: true });
    const url = f.url;
    try {
      const r = await post('/api/streams/test', { url: f.url, protocol: Number(f.protocol) });
      const i = r.info || r;
      if (r.success === false) setTest({ ok: false, msg: r.message || r.error || 'The camera did not answer' });
      else {
        const audio = i.audio_codec || i.audio || (i.has_audio ? 'yes' : '');
        setTest({ ok: true, msg: [i.codec || i.video_codec, i.width && `${i.width}×${i.height}`, i.fps && `${i.fps} fps`,
          audio ? `audio ${audio}` : (i.codec || i.video_codec ? 'no audio' : '')].filter(Boolean).join(' · ') || r.message || 'Connected' });
      }
    } catch (err) { setTest({ ok: false, msg: errText(err) }); return; }
    setTest((t) => ({ ...t, url }));
  };

  const save = async (e) => {
    e.preventDefault();
    const errs = validate(f, isNew);
    setErrors(errs);
    if (Object.keys(errs).length) { setError(new Error('Check the highlighted fields')); return; }
    if (isNew && test && !test.busy && !test.ok && test.url === f.url && !await confirmDialog({
      title: 'The connection test failed', confirm: 'Add anyway',
      message: `The camera did not answer the test: ${test.msg}. Add the stream anyway? The NVR keeps trying to connect, and records once the camera answers.`,
    })) return;
    const body = { ...f, name: f.name.trim(), url: f.url.trim() };
    for (const k of NUMERIC) body[k] = Number(body[k]);
    body.protocol = Number(body.protocol);
    if (!isNew) {
      // Send only what changed: the server merges it into the stored config, so a URL shown
      // without its credentials can never overwrite the stored one.
      for (const k of Object.keys(body)) if (JSON.stringify(body[k]) === JSON.stringify(initial[k])) delete body[k];
      delete body.name;
      if (!Object.keys(body).length) { onClose(); return; }
    }
    setBusy(true);
    setError(null);
    try {
      let res = null;
      if (isNew) await post('/api/streams', body);
      else res = await put(`/api/streams/${enc(initial.name)}`, body);
      toast(isNew ? `Stream ${body.name} added` : res && res.restarted ? `Stream ${initial.name} saved and restarted`
        : `Stream ${initial.name} saved — applied without a restart`, 'ok');
      onSaved();
    } catch (err) {
      if (err instanceof ApiError && err.field) setErrors({ [err.field]: err.message });
      if (err instanceof ApiError && err.fields) setErrors(err.fields);
      setError(err.status === 409 ? new Error(`A stream named "${f.name.trim()}" already exists`) : err);
    } finally { setBusy(false); }
  };

  return html`<${Modal} wide title=${isNew ? 'Add stream' : `Edit ${initial.name}`} onClose=${onClose}>
    <form class="stream-form" onSubmit=${save} novalidate>
      <${ErrorBox} error=${error} />
      <fieldset><legend>Camera</legend><div class="form-grid">
        <${Field} label="Name" error=${errors.name} hint=${isNew ? 'Shown in the UI and used in file names' : 'The name cannot be changed'}>${bind('name', 'text', { disabled: !isNew, required: true, autocomplete: 'off' })}<//>
        <${Field} label="Stream URL" error=${errors.url} wide>${bind('url', 'url', { required: true, placeholder: 'rtsp://user:pass@192.168.1.10:554/stream1', autocomplete: 'off' })}<//>
        <${Field} label="Sub-stream URL (optional)" error=${errors.sub_stream_url} wide>${bind('sub_stream_url', 'url', { autocomplete: 'off' })}<//>
        <${Field} label="Transport">${(id) => html`<select id=${id} name="protocol" value=${String(f.protocol)} onChange=${inp('protocol')}>
          <option value="0">TCP</option><option value="1">UDP</option></select>`}<//>
        <${Field} label="Priority" hint="1–10, higher starts first" error=${errors.priority}>${bind('priority', 'number', { min: 1, max: 10 })}<//>
        <div class="field wide test-row">
          <button type="button" class="btn" onClick=${runTest} disabled=${!f.url || (test && test.busy)}>${test && test.busy ? 'Testing…' : 'Test connection'}</button>
          ${test && !test.busy && html`<span class=${'test-result ' + (test.ok ? 'ok' : 'err')} role="status">${test.ok ? '✓ ' : '✗ '}${test.msg}</span>`}
        </div>
      </div></fieldset>
      <fieldset><legend>Behaviour</legend><div class="form-grid toggles">
        <${Toggle} label="Enabled" checked=${f.enabled} onChange=${set('enabled')} name="enabled" />
        <${Toggle} label="Live view" checked=${f.streaming_enabled} onChange=${set('streaming_enabled')} name="streaming_enabled" />
        <${Toggle} label="Record" checked=${f.record} onChange=${set('record')} name="record" />
        <${Toggle} label="Record audio" checked=${f.record_audio} onChange=${set('record_audio')} name="record_audio" />
      </div></fieldset>
      <fieldset><legend>Recording and retention</legend><div class="form-grid">
        <${Field} label="Segment length (seconds)" hint="A new file every this many seconds (60 = one a minute). The file being written shows in Recordings and on the Timeline as it grows." error=${errors.segment_duration}>${bind('segment_duration', 'number', { min: 10 })}<//>
        <${Field} label="Retention (days)" hint="-1 = global setting, 0 = keep forever" error=${errors.retention_days}>${bind('retention_days', 'number', { min: -1 })}<//>
        <${Field} label="Detection retention (days)" hint="-1 = global, 0 = forever" error=${errors.detection_retention_days}>${bind('detection_retention_days', 'number', { min: -1 })}<//>
        <${Field} label="Storage quota (MB)" hint="0 = no quota" error=${errors.max_storage_mb}>${bind('max_storage_mb', 'number', { min: 0 })}<//>
        <${Field} label="Tags" hint="Comma separated" error=${errors.tags}>${bind('tags')}<//>
      </div>
      <${Toggle} label="Record only on schedule" checked=${f.record_on_schedule} onChange=${set('record_on_schedule')} name="record_on_schedule" />
      <${ScheduleGrid} value=${f.recording_schedule} disabled=${!f.record_on_schedule} onChange=${set('recording_schedule')} />
      </fieldset>
      <details class="fold"><summary>Video details and detection</summary>
        <div class="form-grid">
          <${Field} label="Width" error=${errors.width}>${bind('width', 'number', { min: 0 })}<//>
          <${Field} label="Height" error=${errors.height}>${bind('height', 'number', { min: 0 })}<//>
          <${Field} label="FPS" error=${errors.fps}>${bind('fps', 'number', { min: 0 })}<//>
          <${Field} label="Codec" hint="Detected automatically">${bind('codec')}<//>
        </div>
        ${!isNew && initial.detected && html`<p class="muted small">The camera sends: ${initial.detected}.</p>`}
        <${Toggle} label="Detection-based recording" checked=${f.detection_based_recording} onChange=${set('detection_based_recording')} name="detection_based_recording"
          hint="Record only around detections (the pre- and post-buffers below) instead of continuously" />
        <div class="form-grid">
          <${Field} label="Detection model" hint="Motion is built in; others need a detection API">${(id, d) => html`<select id=${id} name="detection_model" aria-describedby=${d}
            value=${f.detection_model} onChange=${inp('detection_model')}>
            <option value="">None (external triggers only)</option><option value="motion">Motion (built in)</option>
            ${f.detection_model && f.detection_model !== 'motion' && html`<option value=${f.detection_model}>${f.detection_model}</option>`}
          </select>`}<//>
          <${Field} label="Threshold (%)" hint="Minimum confidence of an object detection" error=${errors.detection_threshold}>${bind('detection_threshold', 'number', { min: 0, max: 100, step: 5 })}<//>
          <${Field} label="Interval (s)" hint="At most one analysed frame per this many seconds" error=${errors.detection_interval}>${bind('detection_interval', 'number', { min: 1, max: 3600 })}<//>
          <${Field} label="Pre-buffer (s)" hint="Kept before a detection" error=${errors.pre_detection_buffer}>${bind('pre_detection_buffer', 'number', { min: 0, max: 300 })}<//>
          <${Field} label="Post-buffer (s)" hint="Recorded after the last detection" error=${errors.post_detection_buffer}>${bind('post_detection_buffer', 'number', { min: 0, max: 300 })}<//>
          <${Field} label="Detection API URL" wide>${bind('detection_api_url', 'url')}<//>
        </div>
        <fieldset class="motion-settings"><legend>Motion</legend><div class="form-grid">
          <${Field} label="Sensitivity (0–1)" hint="Higher notices smaller brightness changes; 0.5 is the default" error=${errors.motion_sensitivity}>${bind('motion_sensitivity', 'number', { min: 0, max: 1, step: 0.05 })}<//>
          <${Field} label="Minimum area (fraction)" hint="Share of the picture that must change: 0.01 = 1 %" error=${errors.motion_min_area}>${bind('motion_min_area', 'number', { min: 0.001, max: 1, step: 0.005 })}<//>
          <${Field} label="Cooldown (s)" hint="Quiet time between two motion events" error=${errors.motion_cooldown}>${bind('motion_cooldown', 'number', { min: 0, max: 3600 })}<//>
          <${Field} label="Also record when this stream detects" hint="Cross-stream trigger: record here when the chosen stream sees motion" error=${errors.motion_trigger_source}>${(id, d) => html`<select id=${id} name="motion_trigger_source" aria-describedby=${d}
            value=${f.motion_trigger_source} onChange=${inp('motion_trigger_source')}>
            <option value="">No other stream</option>
            ${(streams || []).filter((s) => s.name !== f.name).map((s) => html`<option value=${s.name}>${s.name}</option>`)}
            ${f.motion_trigger_source && !(streams || []).some((s) => s.name === f.motion_trigger_source) && html`<option value=${f.motion_trigger_source}>${f.motion_trigger_source}</option>`}
          </select>`}<//>
        </div>
        <${Toggle} label="Decode every frame" checked=${f.detection_every_frame} onChange=${set('detection_every_frame')} name="detection_every_frame"
          hint="For cameras with long keyframe intervals: costs more CPU; still at most one analysed frame per interval" />
        </fieldset>
        <fieldset><legend>Detection schedule</legend>
          <p class="hint">When detection may trigger a recording (separate from the recording schedule). Highlighted hours are on.</p>
          <${ScheduleGrid} value=${f.detection_schedule} onChange=${set('detection_schedule')}
            label="Weekly detection schedule" prefix="Detection " />
        </fieldset>
        ${!isNew && html`<${ZoneEditor} stream=${initial.name} />`}
      </details>
      <div class="form-actions">
        ${!isNew && html`<p class="muted small restart-note" role="status">${restarting.length
          ? html`<strong>Saving restarts the stream</strong> (a gap of a few seconds in its recording) because of: ${restarting.join(', ')}.`
          : `Changes here apply without restarting the stream. ${Object.values(RESTART_FIELDS).join(', ')} restart it.`}</p>`}
        <button type="button" class="btn" onClick=${onClose}>Cancel</button>
        <button type="submit" class="btn primary" disabled=${busy}>${busy ? 'Saving…' : isNew ? 'Add stream' : 'Save'}</button>
      </div>
    </form>
  <//>`;
}

export function StreamsPage({ user, query }) {
  const [streams, setStreams] = useState(null);
  const [error, setError] = useState(null);
  const [editing, setEditing] = useState(query.get('add') && canWrite(user) ? { form: { ...DEFAULTS }, isNew: true } : null);
  useEffect(() => { document.title = 'Streams · LightNVR'; }, []);
  const load = async () => {
    try { setStreams(await fetchStreams()); setError(null); } catch (err) { setError(err); }
  };
  useEffect(() => { load(); }, []);
  useInterval(load, 5000);

  const edit = async (s) => {
    try {
      let full = s;
      try { full = await get(`/api/streams/${enc(s.name)}/full`); } catch { full = await get(`/api/streams/${enc(s.name)}`); }
      setEditing({ form: { ...fromServer(full.stream || full), detected: detected(s) }, isNew: false });
    } catch (err) { toast(errText(err), 'error'); }
  };
  const remove = async (s) => {
    const how = await confirmDialog({
      title: `Delete ${s.name}?`, message: 'Choose how to delete this stream.', confirm: 'Delete', danger: true,
      options: [
        { value: 'soft', label: 'Remove (keep its recordings)', hint: 'The stream stops and leaves this list; its recordings stay and still follow retention.' },
        { value: 'permanent', label: 'Delete permanently', hint: 'Also erases its stored configuration for good. Recordings stay until retention removes them.' },
      ],
    });
    if (!how) return;
    try {
      await del(`/api/streams/${enc(s.name)}${how === 'permanent' ? '?permanent=true' : ''}`);
      toast(how === 'permanent' ? `${s.name} deleted permanently` : `${s.name} removed`, 'ok');
      load();
    } catch (err) { toast(errText(err), 'error'); }
  };
  const w = canWrite(user);
  return html`<section class="page">
    <div class="page-head"><h1>Streams</h1>
      ${w && html`<button type="button" class="btn primary" onClick=${() => setEditing({ form: { ...DEFAULTS, recording_schedule: Array(168).fill(true) }, isNew: true })}>
        <${Icon} name="plus" /> Add stream</button>`}</div>
    <${ErrorBox} error=${error} onRetry=${load} />
    ${streams === null && !error ? html`<${Spinner} />`
    : streams && streams.length === 0 ? html`<${Empty} title="No streams configured"><p>Add an RTSP camera to start recording.</p><//>`
    : streams && html`<div class="table-wrap" tabindex="0" role="region" aria-label="Streams table"><table class="table cards-sm">
        <caption class="sr-only">Configured streams</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">State</th><th scope="col" class="hide-sm">URL</th>
          <th scope="col" class="hide-sm">Video</th><th scope="col">Recording</th>${w && html`<th scope="col"><span class="sr-only">Actions</span></th>`}</tr></thead>
        <tbody>${streams.map((s) => html`<tr key=${s.name} data-stream=${s.name}>
          <td><strong>${s.name}</strong></td>
          <td><${Badge} state=${streamState(s)} />${(s.error || s.last_error) && html`<div class="small muted">${s.error || s.last_error}</div>`}</td>
          <td class="hide-sm url-cell" title=${s.url}>${s.url}</td>
          <td class="nowrap video-cell" data-video>${detected(s) || html`<span class="muted">not connected yet</span>`}</td>
          <td><span class="show-sm">Records: </span>${s.record ? (s.record_on_schedule ? 'on schedule' : 'continuous') : 'off'}</td>
          ${w && html`<td class="actions nowrap">
            <button type="button" class="btn small" onClick=${() => edit(s)} aria-label=${`Edit ${s.name}`}><${Icon} name="edit" /> Edit</button>
            <button type="button" class="btn small danger ghost" onClick=${() => remove(s)} aria-label=${`Delete ${s.name}`}><${Icon} name="trash" /></button>
          </td>`}
        </tr>`)}</tbody></table></div>`}
    ${editing && html`<${StreamForm} initial=${editing.form} isNew=${editing.isNew} streams=${streams}
      onClose=${() => setEditing(null)} onSaved=${() => { setEditing(null); load(); }} />`}
  </section>`;
}
