// First-run setup wizard (LightNVR's): shown to an admin while GET /api/setup/status says the
// setup is not complete and no camera exists yet. Three steps — storage, first camera, done — then POST /api/setup/status
// marks it complete for everyone; "Skip setup" marks it complete too.
import { html, useEffect, useState, get, post, isAdmin, toast, fmtBytes } from '../lib.js';
import { ErrorBox, Field, Spinner } from '../components.js';

const STEPS = ['Storage', 'First camera', 'Done'];

function StorageStep() {
  const [h, setH] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { get('/api/storage/health').then(setH, setError); }, []);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!h) return html`<${Spinner} />`;
  return html`<div class="stack">
    <p>Recordings are kept in <code data-testid="setup-storage-path">${h.path}</code>
      (set by <code>[storage] path</code> in the configuration file).</p>
    <p>${fmtBytes(h.free_bytes)} free of ${fmtBytes(h.total_bytes)}. The oldest recordings are
      deleted when the disk runs short; retention can be set in Settings.</p>
  </div>`;
}

function CameraStep({ onAdded }) {
  const [f, setF] = useState({ name: '', url: '' });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const inp = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const add = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      await post('/api/streams', { name: f.name.trim(), url: f.url.trim(), enabled: true, record: true });
      toast(`Camera ${f.name.trim()} added`, 'ok');
      onAdded(f.name.trim());
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return html`<form class="stack" onSubmit=${add} novalidate>
    <p>Add the first camera now, or later on the Streams page.</p>
    <${ErrorBox} error=${error} />
    <${Field} label="Name" hint="Letters, digits, - and _">${(id, d) => html`<input id=${id} name="setup-name"
      aria-describedby=${d} value=${f.name} onInput=${inp('name')} />`}<//>
    <${Field} label="RTSP address" hint="rtsp://user:password@camera/stream">${(id, d) => html`<input id=${id}
      name="setup-url" aria-describedby=${d} value=${f.url} onInput=${inp('url')} />`}<//>
    <div class="row"><button type="submit" class="btn primary" disabled=${busy}>Add camera</button></div>
  </form>`;
}

export function SetupWizard({ onDone }) {
  const [step, setStep] = useState(0);
  const [camera, setCamera] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { document.title = 'Setup · LightNVR'; }, []);
  const finish = async () => {
    try { await post('/api/setup/status', { complete: true }); onDone(); } catch (err) { setError(err); }
  };
  return html`<section class="page setup-wizard" aria-labelledby="setup-title">
    <div class="page-head"><h1 id="setup-title">Welcome to LightNVR</h1></div>
    <ol class="row" aria-label="Setup steps">${STEPS.map((s, i) => html`<li key=${s}
      class=${'chip' + (i === step ? ' ok' : '')} aria-current=${i === step ? 'step' : undefined}>${i + 1}. ${s}</li>`)}</ol>
    <div class="card">
      <h2>${STEPS[step]}</h2>
      <${ErrorBox} error=${error} />
      ${step === 0 && html`<${StorageStep} />`}
      ${step === 1 && (camera
        ? html`<p>Camera <strong>${camera}</strong> is added; it starts recording at once.</p>`
        : html`<${CameraStep} onAdded=${(name) => { setCamera(name); setStep(2); }} />`)}
      ${step === 2 && html`<p>Setup is complete${camera ? html` — <strong>${camera}</strong> is recording` : ''}.
        Live view, recordings and the timeline are in the menu.</p>`}
      <div class="form-actions">
        ${step < 2 && html`<button type="button" class="btn ghost" onClick=${finish}>Skip setup</button>`}
        ${step > 0 && step < 2 && html`<button type="button" class="btn" onClick=${() => setStep(step - 1)}>Back</button>`}
        ${step < 2
          ? html`<button type="button" class="btn primary" onClick=${() => setStep(step + 1)}>Next</button>`
          : html`<button type="button" class="btn primary" onClick=${finish}>Finish</button>`}
      </div>
    </div>
  </section>`;
}

// Above the Live page of an admin whose server reports an unfinished setup and has no camera
// yet (a true first run), the wizard is shown; the page itself stays usable below it.
// Other roles, other pages, and a server that cannot say, just get the page.
export function SetupGate({ user, page, children }) {
  const [pending, setPending] = useState(false);
  useEffect(() => {
    if (!isAdmin(user) || page !== 'live') { setPending(false); return; }
    Promise.all([get('/api/setup/status'), get('/api/streams')]).then(
      ([s, streams]) => setPending(s && s.complete === false && Array.isArray(streams) && !streams.length),
      () => setPending(false));
  }, [user && user.id, page]);
  return html`${pending && html`<${SetupWizard} onDone=${() => setPending(false)} />`}${children}`;
}
