// Settings: the INI settings in one tab per section, validated in the browser, saved with POST;
// a server rejection is shown beside the field it names.
import { html, useEffect, useState, get, post, errText, toast, ApiError } from '../lib.js';
import { ErrorBox, Spinner, Tabs, Field, Toggle } from '../components.js';

const SECTIONS = [
  ['general', 'General'], ['storage', 'Storage'], ['database', 'Database'], ['web', 'Web & security'],
  ['streams', 'Streams'], ['memory', 'Memory'], ['api_detection', 'Detection API'],
  ['detection', 'Detection'], ['mqtt', 'MQTT'], ['onvif', 'ONVIF'], ['other', 'Other'],
];

// Flat (C-style) keys → INI section.
const FLAT_RULES = [
  [/^(log_|syslog_|pid_file)/, 'general'],
  [/^(storage_|max_storage|retention_days|auto_delete|generate_thumb|thumbnails_|mp4_|min_free)/, 'storage'],
  [/^db_/, 'database'],
  [/^(web_|auth_|login_rate|force_mfa|trusted_|demo_mode)/, 'web'],
  [/^max_streams/, 'streams'],
  [/^(buffer_size|memory_|use_swap|swap_)/, 'memory'],
  [/^(api_detection|default_detection|pre_detection|post_detection)/, 'api_detection'],
  [/^detection_/, 'detection'],
  [/^mqtt_/, 'mqtt'],
  [/^onvif_/, 'onvif'],
];

const LABELS = {
  log_level: 'Log level', port: 'Port', bind_ip: 'Bind address', path: 'Path', path_hls: 'Live segment path',
  max_size: 'Maximum size (bytes, 0 = no cap)', retention_days: 'Retention (days)',
  min_free_pct: 'Minimum free space (%)', auth_enabled: 'Require sign-in',
  auth_timeout_hours: 'Idle session timeout (hours)', auth_absolute_timeout_hours: 'Absolute session timeout (hours)',
  mp4_directory_format: 'Directory layout', broker_host: 'Broker host', broker_port: 'Broker port',
};
const CHOICES = {
  log_level: [[0, 'Error'], [1, 'Warning'], [2, 'Info'], [3, 'Debug']],
  mp4_directory_format: [['year_month_day', 'Year/month/day'], ['year_month', 'Year/month'], ['flat', 'Flat']],
  storage_mp4_directory_format: [['year_month_day', 'Year/month/day'], ['year_month', 'Year/month'], ['flat', 'Flat']],
};
const RANGES = [
  [/port$/, 1, 65535], [/_pct$/, 0, 100], [/^log_level$/, 0, 3], [/retention_days$/, 0, 36500],
  [/(timeout_hours|interval|count|max_attempts|window_seconds|keepalive)/, 0, 1e7], [/qos$/, 0, 2],
];

const bare = (k) => k.replace(/^.*\./, '');
function humanise(key) {
  const b = bare(key);
  if (LABELS[b]) return LABELS[b];
  const s = b.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// → { nested: bool, values: {"section.key": value} }
function flatten(data) {
  const entries = Object.entries(data || {});
  const nested = entries.length > 0 && entries.every(([, v]) => v && typeof v === 'object' && !Array.isArray(v));
  const values = {};
  if (nested) {
    for (const [sec, obj] of entries) for (const [k, v] of Object.entries(obj)) values[`${sec}.${k}`] = v;
  } else {
    for (const [k, v] of entries) {
      if (v && typeof v === 'object') continue; // arrays/objects are not INI values
      const rule = FLAT_RULES.find(([re]) => re.test(k));
      values[`${rule ? rule[1] : 'other'}.${k}`] = v;
    }
  }
  return { nested, values };
}

function validate(key, value, original) {
  const b = bare(key);
  if (typeof original === 'number') {
    if (value === '' || !Number.isFinite(Number(value))) return 'Enter a number';
    const r = RANGES.find(([re]) => re.test(b));
    if (r && (Number(value) < r[1] || Number(value) > r[2])) return `Between ${r[1]} and ${r[2]}`;
    if (Number(value) < 0 && !/retention|threshold/.test(b)) return 'Must not be negative';
  }
  if (/(^|_)path$|_file$|^path_/.test(b) && typeof value === 'string' && value && !value.startsWith('/')) {
    return 'Use an absolute path (starting with /)';
  }
  return null;
}

// Which of our keys does a server error name? Accepts "key", "section.key", "[section] key".
function matchField(err, keys) {
  const cands = [err.field, err.body && err.body.section && err.field && `${err.body.section}.${err.field}`].filter(Boolean);
  for (const c of cands) {
    const norm = String(c).replace(/^\[(\w+)\]\s*/, '$1.');
    const hit = keys.find((k) => k === norm) || keys.find((k) => bare(k) === bare(norm));
    if (hit) return hit;
  }
  const msg = String(err.message || '');
  const lead = msg.match(/^\s*([\w.]+)\s*:/); // "retention_days: must be a number"
  if (lead) {
    const hit = keys.find((k) => k === lead[1]) || keys.find((k) => bare(k) === bare(lead[1]));
    if (hit) return hit;
  }
  const m = msg.match(/\[(\w+)\]\s*(\w+)/) || msg.match(/\b(\w+)\.(\w+)\b/);
  if (m && keys.includes(`${m[1]}.${m[2]}`)) return `${m[1]}.${m[2]}`;
  return keys.filter((k) => new RegExp(`\\b${bare(k)}\\b`).test(msg)).sort((a, b) => bare(b).length - bare(a).length)[0] || null;
}

function SettingInput({ k, value, original, onChange, error }) {
  const b = bare(k);
  if (typeof original === 'boolean') {
    return html`<div class=${'field' + (error ? ' has-error' : '')}><${Toggle} label=${humanise(k)} name=${k} checked=${value} onChange=${onChange} />
      ${error && html`<small class="field-error" role="alert">${error}</small>`}</div>`;
  }
  const choices = CHOICES[b];
  return html`<${Field} label=${humanise(k)} error=${error} hint=${b !== humanise(k) ? b : undefined}>${(id, d) => (choices
    ? html`<select id=${id} name=${k} value=${String(value)} aria-describedby=${d} aria-invalid=${error ? 'true' : undefined}
        onChange=${(e) => onChange(typeof original === 'number' ? Number(e.currentTarget.value) : e.currentTarget.value)}>
        ${choices.map(([v, l]) => html`<option value=${String(v)}>${l}</option>`)}</select>`
    : html`<input id=${id} name=${k} aria-describedby=${d} aria-invalid=${error ? 'true' : undefined}
        type=${typeof original === 'number' ? 'number' : /password|secret/.test(b) ? 'password' : 'text'}
        autocomplete=${/password|secret/.test(b) ? 'new-password' : 'off'}
        value=${value ?? ''} onInput=${(e) => onChange(e.currentTarget.value)} />`)}<//>`;
}

// The MQTT tab's live connection state (GET /api/mqtt/status, polled while the tab shows).
function MqttState() {
  const [st, setSt] = useState(null);
  const [err, setErr] = useState(null);
  useEffect(() => {
    let live = true;
    const poll = async () => {
      try { const s = await get('/api/mqtt/status'); if (live) { setSt(s); setErr(null); } } catch (e) { if (live) setErr(e); }
    };
    poll();
    const timer = setInterval(poll, 5000);
    return () => { live = false; clearInterval(timer); };
  }, []);
  if (err) return html`<p class="field-error" role="status">MQTT status unavailable: ${errText(err)}</p>`;
  if (!st) return html`<p class="muted" role="status">Checking the MQTT connection…</p>`;
  const label = { connected: 'Connected', connecting: 'Connecting…', disconnected: 'Disconnected', refused: 'Refused by the broker', disabled: 'Off' }[st.state] || st.state;
  return html`<div class="mqtt-state" role="status" data-state=${st.state}>
    <strong>Connection: ${label}</strong>${st.broker && st.state !== 'disabled' ? html` <span class="muted">(${st.broker})</span>` : ''}
    ${st.last_error && html`<p class=${st.state === 'connected' ? 'muted' : 'field-error'}>${st.last_error}</p>`}
    ${st.state !== 'disabled' && html`<p class="muted">${st.published ?? 0} published, ${st.queued ?? 0} queued, ${st.dropped ?? 0} dropped while the broker was away</p>`}
    <p class="muted">Changes to MQTT settings apply after a restart.</p>
  </div>`;
}

export function SettingsPage() {
  const [orig, setOrig] = useState(null);
  const [vals, setVals] = useState({});
  const [nested, setNested] = useState(true);
  const [tab, setTab] = useState('general');
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => { document.title = 'Settings · LightNVR'; }, []);
  const load = async () => {
    try {
      const data = await get('/api/settings');
      const f = flatten(data.settings && typeof data.settings === 'object' ? data.settings : data);
      setOrig(f.values); setVals(f.values); setNested(f.nested); setError(null); setErrors({});
    } catch (err) { setError(err); }
  };
  useEffect(() => { load(); }, []);

  if (!orig) return html`<section class="page"><h1>Settings</h1><${ErrorBox} error=${error} onRetry=${load} />${!error && html`<${Spinner} />`}</section>`;
  const keys = Object.keys(orig);
  const present = SECTIONS.filter(([id]) => keys.some((k) => k.startsWith(id + '.')));
  const changed = keys.filter((k) => String(vals[k]) !== String(orig[k]));
  const tabs = present.map(([id, label]) => ({ id, label, dirty: changed.some((k) => k.startsWith(id + '.')) }));
  const active = present.some(([id]) => id === tab) ? tab : (present[0] || ['general'])[0];

  const save = async (e) => {
    e.preventDefault();
    const errs = {};
    for (const k of changed) { const m = validate(k, vals[k], orig[k]); if (m) errs[k] = m; }
    setErrors(errs);
    if (Object.keys(errs).length) {
      setTab(Object.keys(errs)[0].split('.')[0]);
      setError(new Error('Some values are not valid — see the highlighted fields'));
      return;
    }
    if (!changed.length) { toast('Nothing to save'); return; }
    const body = {};
    for (const k of changed) {
      const [sec, key] = [k.split('.')[0], k.slice(k.indexOf('.') + 1)];
      const v = typeof orig[k] === 'number' ? Number(vals[k]) : vals[k];
      if (nested) (body[sec] = body[sec] || {})[key] = v;
      else body[key] = v;
    }
    setBusy(true);
    try {
      const res = await post('/api/settings', body);
      toast(res && res.restart_required ? 'Saved — some changes apply after a restart' : 'Settings saved', 'ok');
      await load();
    } catch (err) {
      const hit = err instanceof ApiError ? matchField(err, keys) : null;
      if (err instanceof ApiError && err.fields) {
        const fe = {};
        for (const [fk, msg] of Object.entries(err.fields)) { const m = matchField({ field: fk, message: '' }, keys); if (m) fe[m] = msg; }
        setErrors(fe);
      } else if (hit) { setErrors({ [hit]: err.message }); setTab(hit.split('.')[0]); }
      setError(hit ? new Error(`Not saved: ${err.message}`) : err);
    } finally { setBusy(false); }
  };
  return html`<section class="page">
    <div class="page-head"><h1>Settings</h1></div>
    <form class="settings" onSubmit=${save} novalidate>
      <${ErrorBox} error=${error} />
      <${Tabs} tabs=${tabs} active=${active} onChange=${setTab} label="Settings sections" />
      ${present.map(([id]) => html`<div role="tabpanel" id=${'panel-' + id} aria-labelledby=${'tab-' + id}
          hidden=${id !== active} class="card form-grid settings-panel">
        ${id === 'mqtt' && id === active && html`<${MqttState} />`}
        ${keys.filter((k) => k.startsWith(id + '.')).map((k) => html`<${SettingInput} key=${k} k=${k}
          value=${vals[k]} original=${orig[k]} error=${errors[k]}
          onChange=${(v) => { setVals({ ...vals, [k]: v }); if (errors[k]) setErrors({ ...errors, [k]: null }); }} />`)}
      </div>`)}
      <div class="form-actions sticky-actions">
        <span class="muted">${changed.length ? `${changed.length} unsaved change${changed.length > 1 ? 's' : ''}` : 'No changes'}</span>
        <button type="button" class="btn" disabled=${!changed.length || busy} onClick=${() => { setVals(orig); setErrors({}); setError(null); }}>Discard</button>
        <button type="submit" class="btn primary" disabled=${busy || !changed.length}>${busy ? 'Saving…' : 'Save settings'}</button>
      </div>
    </form>
  </section>`;
}

export { errText };
