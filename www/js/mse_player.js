// Low-latency live player: fMP4 over a WebSocket (/api/live/{stream}/mse) into Media Source
// Extensions. The server sends a JSON header (MIME type with codecs, audio, note), the init
// segment, then one fragment per frame (docs/video.md, "Low-latency live view"). The player
// keeps the picture at the live edge, says "reconnecting" when data stops (camera outage,
// daemon restart) and resumes by itself: a new header means a new init segment follows.
// `onFallback(reason)` tells the tile to use HLS instead (no MSE, codec the browser cannot
// play, WebSockets blocked on the way).
import { html, useEffect, useRef, enc } from './lib.js';

const LIVE_EDGE_MAX_LAG = 0.5; // seconds behind the newest frame before we jump ahead
const LIVE_EDGE_TARGET = 0.1;
const STALL_MS = 3000; // no data this long: the tile says "reconnecting"
const DEAD_MS = 10000; // ... and this long: reconnect the socket
const KEEP_SECONDS = 10; // media kept behind the playhead (memory stays bounded)

export function mseSupported() {
  return typeof window.MediaSource === 'function' && typeof window.WebSocket === 'function';
}

// 'auto' (MSE, else HLS), 'mse' or 'hls': the user's choice, kept in this browser.
export const LIVE_MODE_KEY = 'lightnvr.liveMode';
export function liveMode() {
  const m = localStorage.getItem(LIVE_MODE_KEY);
  return m === 'mse' || m === 'hls' ? m : 'auto';
}

export function MsePlayer({ stream, sub = false, muted = true, onState, onInfo, onFallback, label, videoRef }) {
  const ref = useRef(null);
  useEffect(() => {
    const video = ref.current;
    if (videoRef) videoRef.current = video;
    if (!stream || !video) return undefined;
    let ws = null;
    let ms = null;
    let sb = null;
    let objectUrl = null;
    let queue = [];
    let stopped = false;
    let retry = null;
    let lastData = performance.now();
    let everOpened = false;
    let failures = 0;
    let state = '';
    const report = (s, detail) => {
      if (s === state) return;
      state = s;
      video.dataset.liveState = s; // for support and tests
      if (onState) onState(s, detail);
    };
    const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${proto}//${window.location.host}/api/live/${enc(stream)}/mse${sub ? '?sub=1' : ''}`;

    const teardownMedia = () => {
      queue = [];
      sb = null;
      if (ms && ms.readyState === 'open') {
        try { ms.endOfStream(); } catch { /* already ended */ }
      }
      ms = null;
      if (objectUrl) { URL.revokeObjectURL(objectUrl); objectUrl = null; }
    };
    const giveUp = (reason) => {
      stopped = true;
      if (ws) ws.close();
      teardownMedia();
      video.dataset.liveFallback = reason;
      if (onFallback) onFallback(reason);
    };
    const keepLive = () => {
      const b = video.buffered;
      if (!b.length) return;
      const start = b.start(b.length - 1);
      const end = b.end(b.length - 1);
      const target = Math.max(start, end - LIVE_EDGE_TARGET);
      // only ever forward: behind the live edge, or stuck before the newest buffered range
      if ((end - video.currentTime > LIVE_EDGE_MAX_LAG || video.currentTime < start)
          && target > video.currentTime) {
        video.currentTime = target;
      }
      if (video.paused) video.play().catch(() => {});
      if (sb && !sb.updating && video.currentTime - b.start(0) > 2 * KEEP_SECONDS) {
        try { sb.remove(0, video.currentTime - KEEP_SECONDS); } catch { /* try later */ }
      }
    };
    const pump = () => {
      if (!sb || sb.updating || !queue.length || !ms || ms.readyState !== 'open') return;
      const size = queue.reduce((n, b) => n + b.byteLength, 0);
      const data = new Uint8Array(size);
      let at = 0;
      for (const b of queue) { data.set(new Uint8Array(b), at); at += b.byteLength; }
      queue = [];
      try {
        sb.appendBuffer(data);
      } catch (err) {
        // QuotaExceeded or a decode error: start over from the next header
        if (ws) ws.close();
      }
    };
    const setup = (header) => {
      teardownMedia();
      if (!window.MediaSource.isTypeSupported(header.mime)) {
        giveUp(`this browser cannot play ${header.mime}`);
        return;
      }
      video.dataset.mime = header.mime;
      if (onInfo) onInfo(header);
      ms = new window.MediaSource();
      const mine = ms;
      objectUrl = URL.createObjectURL(ms);
      video.src = objectUrl;
      ms.addEventListener('sourceopen', () => {
        if (ms !== mine) return;
        sb = ms.addSourceBuffer(header.mime);
        sb.addEventListener('updateend', () => { keepLive(); pump(); });
        pump();
      }, { once: true });
    };
    const connect = () => {
      if (stopped) return;
      report(everOpened ? 'reconnecting' : 'loading');
      lastData = performance.now();
      const sock = new WebSocket(url);
      ws = sock;
      sock.binaryType = 'arraybuffer';
      sock.onmessage = (ev) => {
        if (ws !== sock) return;
        lastData = performance.now();
        if (typeof ev.data === 'string') {
          let header = null;
          try { header = JSON.parse(ev.data); } catch { return; }
          if (header && header.type === 'init') { everOpened = true; failures = 0; setup(header); }
          return;
        }
        queue.push(ev.data);
        pump();
      };
      sock.onclose = () => {
        if (ws !== sock) return;
        ws = null;
        if (stopped) return;
        if (!everOpened && ++failures >= 3) {
          giveUp('live WebSocket refused or blocked');
          return;
        }
        report('reconnecting');
        retry = setTimeout(connect, Math.min(5000, 1000 * failures || 1000));
      };
    };
    const watchdog = setInterval(() => {
      if (stopped || !ws) return;
      const quiet = performance.now() - lastData;
      if (quiet > DEAD_MS) { ws.close(); return; }
      if (quiet > STALL_MS) report('reconnecting');
    }, 1000);
    const onPlaying = () => report('playing');
    video.addEventListener('playing', onPlaying);
    video.addEventListener('timeupdate', onPlaying);
    connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      clearInterval(watchdog);
      video.removeEventListener('playing', onPlaying);
      video.removeEventListener('timeupdate', onPlaying);
      if (ws) { const s = ws; ws = null; s.close(); }
      teardownMedia();
      video.removeAttribute('src');
      video.load();
    };
  }, [stream, sub]);
  useEffect(() => { if (ref.current) ref.current.muted = muted; }, [muted]);
  return html`<video ref=${ref} class="video" muted=${muted} playsinline autoplay
    aria-label=${label}></video>`;
}
