// Reusable widgets: modal dialogs, confirmation, badges, tabs, form fields, the HLS player.
import Hls from '/node_modules/hls.js/dist/hls.mjs';
import { html, useEffect, useRef, useState, setStore, store, errText } from './lib.js';

// ---------------------------------------------------------------------------------------------
// Icons: inline SVG paths (no icon font, nothing fetched).
const ICONS = {
  live: 'M4 6h11a1 1 0 0 1 1 1v3l4-3v10l-4-3v3a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1z',
  rec: 'M4 5h16v14H4z M8 5v14 M4 9h4 M4 13h4 M4 17h4',
  timeline: 'M3 12h18 M7 8v8 M12 6v12 M17 9v6',
  streams: 'M4 4h16v10H4z M8 20h8 M12 14v6',
  settings: 'M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8z M12 2v3 M12 19v3 M2 12h3 M19 12h3 M4.9 4.9l2.1 2.1 M17 17l2.1 2.1 M4.9 19.1 7 17 M17 7l2.1-2.1',
  users: 'M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z M2 21c0-4 3-6 7-6s7 2 7 6 M17 11a3 3 0 1 0 0-6 M22 21c0-3-2-5-5-5',
  system: 'M3 13h4l3-8 4 14 3-6h4',
  sun: 'M12 7a5 5 0 1 0 0 10 5 5 0 0 0 0-10z M12 1v2 M12 21v2 M1 12h2 M21 12h2 M4.2 4.2l1.4 1.4 M18.4 18.4l1.4 1.4 M4.2 19.8l1.4-1.4 M18.4 5.6l1.4-1.4',
  moon: 'M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z',
  logout: 'M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4 M16 17l5-5-5-5 M21 12H9',
  full: 'M4 9V4h5 M20 9V4h-5 M4 15v5h5 M20 15v5h-5',
  close: 'M6 6l12 12 M18 6L6 18',
  play: 'M7 4l13 8-13 8z',
  download: 'M12 3v12 M7 10l5 5 5-5 M4 21h16',
  trash: 'M4 7h16 M9 7V4h6v3 M6 7l1 13h10l1-13',
  lock: 'M6 11h12v10H6z M8 11V7a4 4 0 0 1 8 0v4',
  menu: 'M3 6h18 M3 12h18 M3 18h18',
  plus: 'M12 5v14 M5 12h14',
  edit: 'M4 20h4L20 8l-4-4L4 16z',
  dot: 'M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8z',
  refresh: 'M20 11a8 8 0 1 0-2.3 5.7 M20 4v7h-7',
  camera: 'M4 8h3l2-3h6l2 3h3v11H4z M12 10a3 3 0 1 0 0 6 3 3 0 0 0 0-6z',
  sound: 'M4 9h4l5-4v14l-5-4H4z M16 9a4 4 0 0 1 0 6 M18.5 6.5a8 8 0 0 1 0 11',
  mute: 'M4 9h4l5-4v14l-5-4H4z M16 9l5 6 M21 9l-5 6',
};

export function Icon({ name, size = 18, label }) {
  return html`<svg class="icon" width=${size} height=${size} viewBox="0 0 24 24"
    aria-hidden=${label ? undefined : 'true'} role=${label ? 'img' : undefined}
    aria-label=${label}><path d=${ICONS[name] || ICONS.dot} /></svg>`;
}

// ---------------------------------------------------------------------------------------------
// Modal: a native <dialog> (focus trapping, Escape, inert background come for free).
export function Modal({ title, onClose, children, wide, footer }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    const onCancel = (e) => { e.preventDefault(); onClose && onClose(); };
    d.addEventListener('cancel', onCancel);
    return () => { d.removeEventListener('cancel', onCancel); if (d.open) d.close(); };
  }, []);
  const backdrop = (e) => { if (e.target === ref.current && onClose) onClose(); };
  return html`<dialog ref=${ref} class=${'modal' + (wide ? ' modal-wide' : '')}
      aria-labelledby="modal-title" onClick=${backdrop}>
    <div class="modal-box">
      <header class="modal-head">
        <h2 id="modal-title">${title}</h2>
        <button type="button" class="btn icon-btn ghost" onClick=${onClose} aria-label="Close">
          <${Icon} name="close" /></button>
      </header>
      <div class="modal-body">${children}</div>
      ${footer && html`<footer class="modal-foot">${footer}</footer>`}
    </div>
  </dialog>`;
}

// confirm(): a promise-based confirmation dialog rendered by <ConfirmHost/> in the layout.
export function confirmDialog({ title, message, confirm = 'Confirm', danger = false, options }) {
  return new Promise((resolve) => {
    setStore({ confirm: { title, message, confirm, danger, options, resolve } });
  });
}

export function ConfirmHost() {
  const c = store.confirm;
  const [choice, setChoice] = useState(null);
  useEffect(() => { setChoice(c && c.options ? c.options[0].value : null); }, [c]);
  if (!c) return null;
  const done = (ok) => {
    setStore({ confirm: null });
    c.resolve(ok ? (c.options ? choice : true) : false);
  };
  return html`<${Modal} title=${c.title} onClose=${() => done(false)}
    footer=${html`
      <button type="button" class="btn" onClick=${() => done(false)}>Cancel</button>
      <button type="button" class=${'btn ' + (c.danger ? 'danger' : 'primary')}
        data-testid="confirm-ok" onClick=${() => done(true)}>${c.confirm}</button>`}>
    <p>${c.message}</p>
    ${c.options && html`<fieldset class="radio-list"><legend class="sr-only">Options</legend>
      ${c.options.map((o) => html`<label class="radio">
        <input type="radio" name="confirm-opt" value=${o.value} checked=${choice === o.value}
          onChange=${() => setChoice(o.value)} />
        <span><strong>${o.label}</strong>${o.hint && html`<br/><small class="muted">${o.hint}</small>`}</span>
      </label>`)}
    </fieldset>`}
  <//>`;
}

// ---------------------------------------------------------------------------------------------
export function Toasts() {
  return html`<div class="toasts" role="status" aria-live="polite">
    ${store.toasts.map((t) => html`<div class=${'toast ' + t.kind} key=${t.id}>${t.message}</div>`)}
  </div>`;
}

export function ErrorBox({ error, onRetry }) {
  if (!error) return null;
  return html`<div class="alert error" role="alert">
    <span>${errText(error)}</span>
    ${onRetry && html`<button type="button" class="btn small" onClick=${onRetry}>Retry</button>`}
  </div>`;
}

export function Spinner({ label = 'Loading…' }) {
  return html`<div class="spinner-wrap" role="status"><span class="spinner" aria-hidden="true"></span>
    <span class="muted">${label}</span></div>`;
}

export function Empty({ title, children }) {
  return html`<div class="empty"><h3>${title}</h3>${children}</div>`;
}

// Stream state → badge. Accepts the server's many spellings.
export function stateKind(state) {
  const s = String(state || '').toLowerCase();
  if (['recording'].includes(s)) return ['recording', 'rec'];
  if (['active', 'connected', 'running', 'streaming', 'ok', 'live'].includes(s)) return [s || 'active', 'ok'];
  if (['starting', 'connecting', 'reconnecting', 'stopping', 'pending'].includes(s)) return [s, 'warn'];
  if (['error', 'failed', 'dead'].includes(s)) return [s, 'err'];
  if (['disabled', 'inactive', 'stopped', 'idle', 'down', 'offline', ''].includes(s)) return [s || 'inactive', 'off'];
  return [s, 'off'];
}

export function Badge({ state, title }) {
  const [text, kind] = stateKind(state);
  return html`<span class=${'badge ' + kind} title=${title || text}>
    ${kind === 'rec' && html`<span class="rec-dot" aria-hidden="true"></span>`}${text}</span>`;
}

export function Tabs({ tabs, active, onChange, label }) {
  const keydown = (e) => {
    const i = tabs.findIndex((t) => t.id === active);
    let j = -1;
    if (e.key === 'ArrowRight') j = (i + 1) % tabs.length;
    if (e.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
    if (j >= 0) {
      e.preventDefault();
      onChange(tabs[j].id);
      const el = document.getElementById('tab-' + tabs[j].id);
      if (el) el.focus();
    }
  };
  return html`<div class="tabs" role="tablist" aria-label=${label} onKeyDown=${keydown}>
    ${tabs.map((t) => html`<button type="button" role="tab" id=${'tab-' + t.id}
      aria-selected=${t.id === active ? 'true' : 'false'} aria-controls=${'panel-' + t.id}
      tabindex=${t.id === active ? 0 : -1} class=${'tab' + (t.id === active ? ' active' : '')}
      onClick=${() => onChange(t.id)}>${t.label}${t.dirty ? ' •' : ''}</button>`)}
  </div>`;
}

// A labelled form field with hint and error text tied to the input for screen readers.
let fieldSeq = 0;
export function Field({ label, hint, error, children, id, wide }) {
  const fid = useRef(id || `f${++fieldSeq}`).current;
  const kids = typeof children === 'function' ? children(fid, error ? `${fid}-err` : hint ? `${fid}-hint` : undefined) : children;
  return html`<div class=${'field' + (error ? ' has-error' : '') + (wide ? ' wide' : '')}>
    <label for=${fid}>${label}</label>
    ${kids}
    ${hint && !error && html`<small id=${`${fid}-hint`} class="hint">${hint}</small>`}
    ${error && html`<small id=${`${fid}-err`} class="field-error" role="alert">${error}</small>`}
  </div>`;
}

export function Toggle({ label, checked, onChange, disabled, hint, name }) {
  return html`<label class="toggle">
    <input type="checkbox" role="switch" name=${name} checked=${!!checked} disabled=${disabled}
      onChange=${(e) => onChange(e.currentTarget.checked)} />
    <span class="toggle-track" aria-hidden="true"></span>
    <span class="toggle-label">${label}${hint && html`<small class="hint block">${hint}</small>`}</span>
  </label>`;
}

// ---------------------------------------------------------------------------------------------
// HLS player. hls.js when Media Source Extensions exist, the native player otherwise (Safari).
// The worker is off: it would need a blob: worker-src in the CSP for little gain at NVR bitrates.
export function HlsPlayer({ src, poster, controls = false, muted = true, onState, label, videoRef }) {
  const ref = useRef(null);
  useEffect(() => {
    const video = ref.current;
    if (videoRef) videoRef.current = video;
    if (!src || !video) return undefined;
    let hls = null;
    let retry = null;
    let stopped = false;
    const report = (s, detail) => onState && onState(s, detail);
    const start = () => {
      if (stopped) return;
      report('loading');
      if (Hls.isSupported()) {
        hls = new Hls({
          enableWorker: false, lowLatencyMode: false, liveSyncDurationCount: 2,
          manifestLoadingMaxRetry: 2, levelLoadingMaxRetry: 2, fragLoadingMaxRetry: 3,
          xhrSetup: (xhr) => { xhr.withCredentials = true; },
        });
        hls.on(Hls.Events.ERROR, (_e, data) => {
          if (!data.fatal) return;
          video.dataset.hlsError = `${data.type}:${data.details}`; // for support and tests
          report('error', data.details || data.type);
          try { hls.destroy(); } catch { /* already torn down */ }
          hls = null;
          retry = setTimeout(start, 4000); // camera may come back; keep trying quietly
        });
        hls.loadSource(src);
        hls.attachMedia(video);
        hls.on(Hls.Events.MANIFEST_PARSED, () => { video.play().catch(() => {}); });
      } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
        video.src = src;
        video.play().catch(() => {});
      } else {
        report('error', 'This browser cannot play HLS');
      }
    };
    const onPlaying = () => report('playing');
    const onWaiting = () => report('buffering');
    video.addEventListener('playing', onPlaying);
    video.addEventListener('waiting', onWaiting);
    start();
    return () => {
      stopped = true;
      clearTimeout(retry);
      video.removeEventListener('playing', onPlaying);
      video.removeEventListener('waiting', onWaiting);
      if (hls) hls.destroy();
      video.removeAttribute('src');
      video.load();
    };
  }, [src]);
  return html`<video ref=${ref} class="video" muted=${muted} playsinline autoplay
    controls=${controls} poster=${poster} aria-label=${label}></video>`;
}

// Theme: light/dark follows the OS unless the user picked one (remembered in localStorage).
export function applyTheme(theme) {
  const root = document.documentElement;
  if (theme === 'light' || theme === 'dark') root.dataset.theme = theme;
  else delete root.dataset.theme;
  setStore({ theme });
}
export function currentThemeIsDark() {
  const t = document.documentElement.dataset.theme;
  if (t) return t === 'dark';
  return window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
}
