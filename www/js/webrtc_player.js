// WebRTC live view through the daemon's managed go2rtc (docs/go2rtc.md). The browser makes a
// receive-only offer, posts it to our authenticated proxy `POST /go2rtc/api/webrtc?src=NAME`
// (LightNVR's path and body: a raw SDP, answered with a raw SDP) and plays the answer's
// tracks in the given <video>. ICE candidates travel inside the SDP (no trickle), so one
// request does the whole exchange, as LightNVR's UI does.
//
//   import { playWebRTC, webrtcAvailable } from './webrtc_player.js';
//   if (await webrtcAvailable()) {
//     const session = await playWebRTC(videoElement, 'front', { onState: (s) => ... });
//     ...
//     session.close();
//   }
//
// `WebRtcPlayer` wraps it for a live tile (the same props as mse_player.js's MsePlayer):
// onFallback(reason) when WebRTC cannot play, so the tile uses MSE or HLS instead.
import { html, useEffect, useRef } from './lib.js';

const OFFER_PATH = '/go2rtc/api/webrtc';
const STATUS_PATH = '/api/go2rtc/status';
const DEFAULT_TIMEOUT_MS = 30000; // [go2rtc] webrtc_connection_timeout_ms, when not known

// Whether this browser can do WebRTC and the daemon's go2rtc is up and serving it. Resolves
// to the status object (truthy) or null; never rejects.
export async function webrtcAvailable() {
  if (typeof window.RTCPeerConnection !== 'function') return null;
  try {
    const res = await fetch(STATUS_PATH, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!res.ok) return null;
    const st = await res.json();
    return st && st.webrtc_available ? st : null;
  } catch {
    return null;
  }
}

// Collect our ICE candidates into the local SDP before sending it (go2rtc takes one SDP).
function gathered(pc, ms) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); pc.removeEventListener('icegatheringstatechange', check); resolve(); };
    const check = () => { if (pc.iceGatheringState === 'complete') done(); };
    // host candidates arrive at once; a slow STUN server must not hold the picture back
    const timer = setTimeout(done, ms);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

// Play stream `name` over WebRTC in `video`. Options: onState(state) with 'connecting',
// 'playing', 'failed', 'closed'; timeoutMs (connection timeout); audio (default true:
// receive the camera's audio if it has any). Resolves to { pc, close() } once the answer is
// applied; rejects with an Error whose message is the server's reason (go2rtc down,
// unknown stream, WebRTC disabled) so the caller can fall back to MSE or HLS.
export async function playWebRTC(video, name, opts = {}) {
  const { onState = () => {}, timeoutMs = DEFAULT_TIMEOUT_MS, audio = true } = opts;
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  let closed = false;
  let timer = null;
  const setState = (s) => { video.dataset.liveState = s; onState(s); };
  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    pc.close();
    if (video.srcObject) video.srcObject = null;
    setState('closed');
  };
  setState('connecting');
  const media = new MediaStream();
  pc.addEventListener('track', (ev) => {
    media.addTrack(ev.track);
    if (video.srcObject !== media) video.srcObject = media;
    video.play().catch(() => { /* autoplay policy: muted videos play; others wait for a click */ });
  });
  pc.addEventListener('connectionstatechange', () => {
    if (closed) return;
    if (pc.connectionState === 'connected') { clearTimeout(timer); setState('playing'); }
    else if (pc.connectionState === 'failed') setState('failed');
  });
  pc.addTransceiver('video', { direction: 'recvonly' });
  if (audio) pc.addTransceiver('audio', { direction: 'recvonly' });
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, 2000);
    const res = await fetch(`${OFFER_PATH}?src=${encodeURIComponent(name)}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/sdp' },
      body: pc.localDescription.sdp,
    });
    const text = await res.text();
    if (!res.ok) {
      let why = `HTTP ${res.status}`;
      try { why = JSON.parse(text).error || why; } catch { /* not JSON */ }
      throw new Error(why);
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: text });
  } catch (err) {
    close();
    throw err;
  }
  timer = setTimeout(() => {
    if (!closed && pc.connectionState !== 'connected') setState('failed');
  }, timeoutMs);
  return { pc, close };
}

// A live tile's player: plays `stream` over WebRTC; states go to onState ('loading',
// 'playing'); when no WebRTC session can be had or its connection fails, onFallback(reason).
export function WebRtcPlayer({ stream, muted = true, onState, onFallback, label, videoRef, timeoutMs }) {
  const ref = useRef(null);
  useEffect(() => {
    const video = ref.current;
    if (videoRef) videoRef.current = video;
    if (!stream || !video) return undefined;
    let session = null;
    let stopped = false;
    const report = (s) => onState && onState(s);
    report('loading');
    const fail = (why) => {
      if (stopped) return;
      stopped = true;
      if (session) session.close();
      if (onFallback) onFallback(why);
    };
    playWebRTC(video, stream, {
      timeoutMs,
      onState: (s) => {
        if (s === 'playing') report('playing');
        // no media path (WebRTC port blocked, no usable ICE candidate): MSE or HLS instead
        else if (s === 'failed') fail('the WebRTC connection failed: is go2rtc\'s WebRTC port reachable?');
      },
    }).then((sess) => {
      if (stopped) sess.close(); else session = sess;
    }).catch((err) => fail(String((err && err.message) || err)));
    return () => { stopped = true; if (session) session.close(); };
  }, [stream]);
  useEffect(() => { if (ref.current) ref.current.muted = muted; }, [muted]);
  return html`<video ref=${ref} class="video" autoplay playsinline muted=${muted}
    aria-label=${label} data-player="webrtc"></video>`;
}
