// Live view: a grid of 1/4/9/16 players with state badges, snapshots and manual recording.
// Players are low-latency MSE (fMP4 over a WebSocket, ../mse_player.js) unless the browser
// cannot do it or the user chose HLS (kept in this browser); grid tiles ask for the camera's
// sub-stream, single view and fullscreen for the main stream.
import {
  html, useEffect, useRef, useState, useInterval, fetchStreams, post, enc, canWrite, toast, errText,
} from '../lib.js';
import { Badge, HlsPlayer, Icon, ErrorBox, Empty, Spinner } from '../components.js';
import { DetectionOverlay } from './overlay.js';
import { MsePlayer, mseSupported, liveMode, LIVE_MODE_KEY } from '../mse_player.js';
import { WebRtcPlayer, webrtcAvailable } from '../webrtc_player.js';

const LAYOUTS = [1, 4, 9, 16];

// What the badge says: a recording stream says "recording" even if its reader says "active".
export function streamState(s) {
  const raw = String(s.state ?? s.status ?? '').toLowerCase();
  if (s.enabled === false) return 'disabled';
  if (['error', 'failed', 'reconnecting', 'starting', 'connecting', 'stopping'].includes(raw)) return raw;
  if (s.recording === true || s.is_recording === true) return 'recording';
  return raw || 'inactive';
}

const PHONE = '(max-width: 600px)';
const MODE_LABELS = { auto: 'Auto', mse: 'Low latency (MSE)', hls: 'HLS' };

function Tile({ stream, user, onRecChange, overlay, mode, grid }) {
  const tileRef = useRef(null);
  const videoRef = useRef(null);
  const [play, setPlay] = useState('loading');
  const [full, setFull] = useState(false);
  const [fallback, setFallback] = useState(''); // why MSE gave way to HLS for this tile
  const [info, setInfo] = useState(null); // the MSE header: audio, note
  const [muted, setMuted] = useState(true);
  const [snapTick, setSnapTick] = useState(Date.now());
  const [snapOk, setSnapOk] = useState(true); // the server has a still for this stream
  const [snapShown, setSnapShown] = useState(false);
  const [busy, setBusy] = useState(false);
  const name = stream.name;
  const state = streamState(stream);
  const live = stream.streaming_enabled !== false;
  // Only a stream whose reader receives packets has a playlist and a snapshot; asking while
  // it starts or reconnects just produces 404s, so those show their state instead.
  const running = ['active', 'recording'].includes(state);
  const playing = play === 'playing';
  // Refresh the still while the video is not playing (starting or camera down).
  useInterval(() => { if (!playing && running) { setSnapOk(true); setSnapTick(Date.now()); } }, 10000, [playing, running]);
  const errMsg = stream.error_message || stream.last_error || stream.error;

  useEffect(() => {
    const onFs = () => setFull(document.fullscreenElement === tileRef.current);
    document.addEventListener('fullscreenchange', onFs);
    return () => document.removeEventListener('fullscreenchange', onFs);
  }, []);
  const [rtcFailed, setRtcFailed] = useState(''); // why WebRTC (go2rtc) gave way to MSE/HLS
  const useRtc = mode === 'webrtc' && !rtcFailed;
  const useMse = !useRtc && mode !== 'hls' && mseSupported() && !fallback;
  const sub = grid && !full; // tiles of a grid take the sub-stream, fullscreen the main one
  const fullscreen = () => {
    const el = tileRef.current;
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else if (el && el.requestFullscreen) el.requestFullscreen().catch(() => {});
  };
  const manualActive = !!stream.manual_recording;
  // Continuous recording already covers this stream; the server refuses a manual start then.
  const continuous = !!stream.recording && !manualActive;
  const toggleRec = async () => {
    setBusy(true);
    try {
      await post(`/api/streams/${enc(name)}/recording`, { action: manualActive ? 'stop' : 'start' });
      toast(manualActive ? `Stopped recording ${name}` : `Recording ${name}`, 'ok');
      onRecChange();
    } catch (err) {
      toast(`${name}: ${errText(err)}`, 'error');
    } finally {
      setBusy(false);
    }
  };
  const snapUrl = `/api/streams/${enc(name)}/snapshot?t=${snapTick}`;
  return html`<article class="tile" ref=${tileRef} aria-label=${'Camera ' + name} data-stream=${name}>
    <div class="tile-video" onClick=${fullscreen} title="Click for fullscreen">
      ${live && running && useRtc ? html`<${WebRtcPlayer} stream=${name} muted=${muted} label=${'Live video of ' + name}
        videoRef=${videoRef} onState=${(s) => setPlay(s)} onFallback=${(why) => { setRtcFailed(why); setPlay('loading'); }} />`
      : live && running && useMse ? html`<${MsePlayer} stream=${name} sub=${sub} muted=${muted}
        label=${'Live video of ' + name} videoRef=${videoRef} onState=${(s) => setPlay(s)}
        onInfo=${setInfo} onFallback=${(why) => { setFallback(why); setInfo(null); setPlay('loading'); }} />`
      : live && running ? html`<${HlsPlayer} src=${`/hls/${enc(name)}/index.m3u8`} label=${'Live video of ' + name}
        onState=${(s) => setPlay(s)} muted=${muted} />` : null}
      ${!playing && live && snapOk && html`<img class="tile-snap" src=${snapUrl} alt=""
        onError=${() => setSnapOk(false)} onLoad=${() => setSnapShown(true)} />`}
      ${!live ? html`<div class="tile-offline"><strong>Live view off</strong><span>Turn on "Live view" in the stream settings.</span></div>`
      : !running ? html`<div class=${'tile-offline' + (snapShown && snapOk ? ' over-snap' : '')}><strong>${state}</strong><span>${errMsg || (state === 'disabled' ? 'This stream is disabled.' : 'No video from this camera yet.')}</span></div>`
      : !playing && html`<div class="tile-status" role="status">
        ${play === 'error' ? 'Waiting for video…' : play === 'reconnecting'
        ? html`<span class="spinner small" aria-hidden="true"></span> Reconnecting…`
        : html`<span class="spinner small" aria-hidden="true"></span> Starting…`}</div>`}
      ${info && info.note && html`<div class="tile-note" title=${info.note}
        style="position:absolute;left:0;right:0;bottom:0;font-size:.75em;padding:2px 6px;background:rgba(0,0,0,.55);color:#fff">${info.note}</div>`}
      ${overlay && running && html`<${DetectionOverlay} stream=${name} width=${stream.width} height=${stream.height} />`}
    </div>
    <header class="tile-bar">
      <h2 class="tile-name" title=${name}>${name}</h2>
      <${Badge} state=${state} title=${errMsg || state} />
      <span class="live-kind" data-kind=${useRtc ? 'webrtc' : useMse ? 'mse' : 'hls'} title=${useRtc ? 'WebRTC live view (go2rtc)' : fallback ? `HLS: ${fallback}` : useMse ? (rtcFailed ? `MSE: ${rtcFailed}` : 'Low-latency live view (MSE)') : 'HLS live view'}
        style="font-size:.7em;opacity:.7">${useRtc ? 'WebRTC' : useMse ? 'MSE' : 'HLS'}</span>
      <div class="tile-actions">
      ${live && running && (!useMse || (info && info.audio)) && html`<button type="button" class="btn icon-btn small ghost mute-btn"
        onClick=${(e) => { e.stopPropagation(); setMuted(!muted); }} aria-pressed=${muted ? 'false' : 'true'}
        title=${muted ? 'Unmute' : 'Mute'} aria-label=${(muted ? 'Unmute ' : 'Mute ') + name}><${Icon} name=${muted ? 'mute' : 'sound'} /></button>`}
      ${live && running && html`<a class="btn icon-btn small ghost snap-btn" href=${`/api/streams/${enc(name)}/snapshot`}
        download=${`${name}.jpg`} title="Save a snapshot" aria-label=${'Snapshot of ' + name}><${Icon} name="camera" /></a>`}
      ${canWrite(user) && html`<button type="button" class="btn small rec-btn"
        disabled=${busy || continuous || !running}
        onClick=${toggleRec} aria-pressed=${manualActive ? 'true' : 'false'}
        title=${continuous ? 'Disabled: continuous recording is already on for this stream' : !running ? `Disabled: the stream is not running (${state})` : manualActive ? 'Stop manual recording' : 'Start manual recording'}>
        <span class="rec-ind" aria-hidden="true"></span>${manualActive ? 'STOP' : 'REC'}${continuous ? html`<span class="rec-why"> · always on</span>` : !running ? html`<span class="rec-why"> · offline</span>` : ''}<span class="sr-only">${manualActive ? ` manual recording of ${name}` : ` start manual recording of ${name}`}</span></button>`}
      <a class="btn small ghost back-btn" href=${`#/timeline?stream=${enc(name)}&back=300`}
        title="Play the last 5 minutes">−5 min<span class="sr-only"> (play the last 5 minutes of ${name})</span></a>
      <button type="button" class="btn icon-btn small ghost" onClick=${fullscreen}
        aria-label=${'Fullscreen ' + name} title="Fullscreen"><${Icon} name="full" /></button>
      </div>
    </header>
  </article>`;
}

export function LivePage({ user }) {
  const [streams, setStreams] = useState(null);
    const [error, setError] = useState(null);
  const [layout, setLayout] = useState(Number(localStorage.getItem('lightnvr.layout')) || 4);
  const [page, setPage] = useState(0);
  const [overlay, setOverlay] = useState(localStorage.getItem('lightnvr.overlay') === '1');
  const [mode, setMode] = useState(localStorage.getItem(LIVE_MODE_KEY) === 'webrtc' ? 'webrtc' : liveMode());
  const [rtc, setRtc] = useState(false); // the daemon's go2rtc serves WebRTC: offer it as a mode
  useEffect(() => { webrtcAvailable().then((st) => setRtc(!!st)); }, []);
  const [phone, setPhone] = useState(() => window.matchMedia(PHONE).matches);
  useEffect(() => {
    const mq = window.matchMedia(PHONE);
    const on = () => setPhone(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  const chooseMode = (m) => { localStorage.setItem(LIVE_MODE_KEY, m); setMode(m); };
  useEffect(() => { document.title = 'Live · LightNVR'; }, []);
  const toggleOverlay = () => { localStorage.setItem('lightnvr.overlay', overlay ? '0' : '1'); setOverlay(!overlay); };

  const load = async () => {
    try {
      setStreams(await fetchStreams());
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => { load(); }, []);
  useInterval(load, 5000);

  const choose = (n) => { setLayout(n); setPage(0); localStorage.setItem('lightnvr.layout', String(n)); };
  const visible = (streams || []).filter((s) => s.enabled !== false);
  const pages = Math.max(1, Math.ceil(visible.length / layout));
  const shown = visible.slice(page * layout, page * layout + layout);
  const cols = phone ? 1 : Math.sqrt(layout); // a phone stacks the tiles: no layout buttons
  return html`<section class="page page-live">
    <div class="page-head">
      <h1>Live</h1>
      ${!phone && html`<div class="seg" role="group" aria-label="Grid layout">
        ${LAYOUTS.map((n) => html`<button type="button" class=${'seg-btn' + (layout === n ? ' active' : '')}
          aria-pressed=${layout === n ? 'true' : 'false'} onClick=${() => choose(n)}
          title=${`${n} camera${n > 1 ? 's' : ''}`}>${n === 1 ? '1' : `${Math.sqrt(n)}×${Math.sqrt(n)}`}</button>`)}
      </div>`}
      <label class="inline live-mode" title="How live video reaches this browser (remembered here)">Player
        <select value=${mode} onChange=${(e) => chooseMode(e.target.value)} aria-label="Live view mode">
          ${Object.entries(rtc || mode === 'webrtc' ? { ...MODE_LABELS, webrtc: 'WebRTC (go2rtc)' } : MODE_LABELS)
            .map(([k, v]) => html`<option value=${k}>${v}</option>`)}
        </select></label>
      <button type="button" class=${'btn small' + (overlay ? ' primary' : '')} aria-pressed=${overlay ? 'true' : 'false'}
        onClick=${toggleOverlay} title="Draw the cells and boxes of current detections over the video">Detections</button>
    </div>
    <${ErrorBox} error=${error} onRetry=${load} />
    ${streams === null && !error ? html`<${Spinner} />`
    : visible.length === 0 ? html`<${Empty} title="No cameras yet">
        <p>Add a camera on the Streams page to see it here.</p>
        ${canWrite(user) && html`<a class="btn primary" href="#/streams?add=1">Add a stream</a>`}<//>`
    : html`<div class=${`grid grid-${cols}`}>
        ${shown.map((s) => html`<${Tile} key=${s.name + mode} stream=${s} user=${user} onRecChange=${load}
          overlay=${overlay} mode=${mode} grid=${layout > 1 || phone} />`)}
      </div>
      ${pages > 1 && html`<nav class="pager" aria-label="Camera pages">
        <button type="button" class="btn" disabled=${page === 0} onClick=${() => setPage(page - 1)}>Previous</button>
        <span>Page ${page + 1} of ${pages}</span>
        <button type="button" class="btn" disabled=${page >= pages - 1} onClick=${() => setPage(page + 1)}>Next</button>
      </nav>`}`}
  </section>`;
}
