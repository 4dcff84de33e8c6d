// Timeline: per-stream rulers of recorded segments (the one still being written included) that
// zoom from a day to 10 minutes (buttons, wheel, pinch) and scrub (drag with a time readout);
// detections and gaps drawn; play from any moment, running on across recordings; export a
// range as one MP4 (GET /api/export, cut at keyframes, no re-encoding).
import {
  html, useEffect, useRef, useState, get, enc, fetchStreams, isoDay, toDate, fmtClock, fmtTime,
  useInterval, downloadUrl,
} from '../lib.js';
import { ErrorBox, Spinner, Empty } from '../components.js';
import Hls from '/node_modules/hls.js/dist/hls.mjs';

const SPEEDS = [0.5, 1, 2, 4, 8];
const DAY = 86400;
const MIN_SPAN = 600; // 10 minutes: the closest zoom
const ZOOMS = [[DAY, '24 h'], [3600, '1 h'], [600, '10 min']];
const GAP_MIN = 2; // s: shorter breaks between recordings are keyframe seams, not gaps

const segStart = (s) => toDate(s.start_timestamp ?? s.start_time_unix ?? s.start_time);
const segEnd = (s) => toDate(s.end_timestamp ?? s.end_time_unix ?? s.end_time) || new Date();
const isoZ = (d) => d.toISOString().replace(/\.\d+Z$/, 'Z');
const dayStartOf = (day) => new Date(`${day}T00:00:00`);
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

async function loadSegments(stream, day) {
  const start = dayStartOf(day);
  const end = new Date(start.getTime() + DAY * 1000 - 1000);
  const res = await get(`/api/timeline/segments?stream=${enc(stream)}&start=${enc(isoZ(start))}&end=${enc(isoZ(end))}`);
  const segs = (Array.isArray(res) ? res : res.segments || [])
    .map((s) => ({ ...s, _s: segStart(s), _e: segEnd(s), _stream: s.stream || stream }))
    .filter((s) => s._s)
    .sort((a, b) => a._s - b._s);
  const marks = (res.detection_intervals || []).map((d) => ({ s: toDate(d.start_timestamp), e: toDate(d.end_timestamp), labels: d.labels || [], count: d.count || 1 }));
  return { segs, marks };
}

// Breaks between recordings (and before the first / after the last, up to `until`) in the view.
function gapsOf(segs, from, until) {
  const out = [];
  let t = from;
  for (const s of segs) {
    if (s._s - t > GAP_MIN * 1000) out.push([t, s._s]);
    t = Math.max(t, s._e.getTime());
  }
  if (until - t > GAP_MIN * 1000) out.push([t, until]);
  return out;
}

// Tick spacing for a span: about 6-12 labelled ticks whatever the zoom.
function tickStep(span) {
  const steps = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800];
  return steps.find((s) => span / s <= 10) || 10800;
}

function Scale({ view }) {
  const step = tickStep(view.span) * 1000;
  const first = Math.ceil(view.start / step) * step;
  const ticks = [];
  for (let t = first; t <= view.start + view.span * 1000; t += step) ticks.push(t);
  const fmt = (t) => { const d = new Date(t); return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`; };
  return html`<div class="ruler-row ruler-hours" aria-hidden="true"><div class="ruler-label"></div>
    <div class="ruler-scale">${ticks.map((t, i) => html`<span key=${t} class=${i % 2 ? 'minor' : ''}
      style=${`left:${((t - view.start) / (view.span * 1000)) * 100}%`}>${fmt(t)}</span>`)}</div></div>`;
}

// One stream's ruler. Pointer: a tap plays from that moment; a drag scrubs (readout follows,
// playback starts where it is let go); two fingers pinch-zoom; the wheel zooms round the pointer.
function Ruler({ name, segs, marks, view, now, playhead, range, onPick, onZoom, gapUntil }) {
  const pct = (d) => ((d - view.start) / 1000 / view.span) * 100;
  const inView = (a, b) => b > view.start && a < view.start + view.span * 1000;
  const [scrub, setScrub] = useState(null); // {x%, t}
  const ptrs = useRef(new Map());
  const pinch = useRef(null);
  const timeAt = (track, clientX) => {
    const r = track.getBoundingClientRect();
    const frac = clamp((clientX - r.left) / r.width, 0, 1);
    return { frac, t: new Date(view.start + frac * view.span * 1000), slack: (6 / Math.max(1, r.width)) * view.span * 1000 };
  };
  const down = (e) => {
    if (e.button && e.button !== 0) return;
    const track = e.currentTarget;
    track.setPointerCapture(e.pointerId);
    ptrs.current.set(e.pointerId, e.clientX);
    if (ptrs.current.size === 2) {
      const [a, b] = [...ptrs.current.values()];
      pinch.current = { dist: Math.abs(a - b) || 1, mid: timeAt(track, (a + b) / 2).t.getTime(), span: view.span };
      setScrub(null);
      return;
    }
    const p = timeAt(track, e.clientX);
    setScrub({ frac: p.frac, t: p.t });
  };
  const move = (e) => {
    const track = e.currentTarget;
    if (!ptrs.current.has(e.pointerId)) return;
    ptrs.current.set(e.pointerId, e.clientX);
    if (pinch.current) {
      if (ptrs.current.size < 2) return; // one finger left of a pinch: wait for it to lift
      const [a, b] = [...ptrs.current.values()];
      const span = pinch.current.span * (pinch.current.dist / Math.max(1, Math.abs(a - b)));
      onZoom(span, pinch.current.mid, 0.5);
      return;
    }
    const p = timeAt(track, e.clientX);
    setScrub({ frac: p.frac, t: p.t });
  };
  const up = (e) => {
    const track = e.currentTarget;
    ptrs.current.delete(e.pointerId);
    // A pinch ends when its last finger lifts: neither finger picks a moment.
    if (pinch.current || ptrs.current.size) {
      if (!ptrs.current.size) pinch.current = null;
      setScrub(null);
      return;
    }
    const p = timeAt(track, e.clientX);
    setScrub(null);
    onPick(name, p.t, p.slack);
  };
  const cancel = (e) => { ptrs.current.delete(e.pointerId); if (!ptrs.current.size) pinch.current = null; setScrub(null); };
  const wheel = (e) => {
    if (!e.deltaY || e.shiftKey) return;
    e.preventDefault();
    const p = timeAt(e.currentTarget, e.clientX);
    onZoom(view.span * (e.deltaY > 0 ? 1.5 : 1 / 1.5), p.t.getTime(), p.frac);
  };
  // Preact's onWheel is passive in Chromium, so preventDefault needs a listener of our own.
  const trackRef = useRef(null);
  const wheelRef = useRef(wheel);
  wheelRef.current = wheel;
  useEffect(() => {
    const el = trackRef.current;
    const fn = (e) => wheelRef.current(e);
    el.addEventListener('wheel', fn, { passive: false });
    return () => el.removeEventListener('wheel', fn);
  }, []);
  const viewEnd = view.start + view.span * 1000;
  const gaps = gapsOf(segs, view.start, Math.min(viewEnd, gapUntil)).filter(([a, b]) => inView(a, b));
  const keyPick = (e, s) => { if (e.detail === 0) { e.stopPropagation(); onPick(name, s._s, 0); } };
  return html`<div class="ruler-row">
    <div class="ruler-label" title=${name}>${name}</div>
    <div class="ruler-track" ref=${trackRef} data-stream=${name} data-view-start=${view.start} data-view-span=${view.span}
      onPointerDown=${down} onPointerMove=${move} onPointerUp=${up} onPointerCancel=${cancel}>
      ${gaps.map(([a, b]) => html`<span class="ruler-gap" key=${'g' + a}
        style=${`left:${Math.max(0, pct(a))}%;width:${Math.max(0.2, Math.min(100, pct(b)) - Math.max(0, pct(a)))}%`}
        title=${`No recording ${fmtClock(new Date(a))} – ${fmtClock(new Date(b))}`} aria-hidden="true"></span>`)}
      ${segs.filter((s) => inView(s._s, s._e)).map((s) => html`<button type="button" key=${s.id}
        class=${'ruler-seg' + (s.has_detection ? ' det' : '') + (s.recording ? ' live' : '')}
        style=${`left:${Math.max(0, pct(s._s))}%;width:${Math.max(0.25, Math.min(100, pct(s._e)) - Math.max(0, pct(s._s)))}%`}
        title=${`${fmtClock(s._s)} – ${s.recording ? 'now (recording)' : fmtClock(s._e)}`}
        aria-label=${`${name}: recording ${fmtClock(s._s)} to ${s.recording ? 'now, still recording' : fmtClock(s._e)}, play`}
        onClick=${(e) => keyPick(e, s)}></button>`)}
      ${marks.filter((m) => inView(m.s, m.e)).map((m) => html`<span class="ruler-mark" style=${`left:${Math.max(0, pct(m.s))}%;width:${Math.max(0.15, pct(m.e) - pct(m.s))}%`}
        title=${`${m.labels.join(', ') || 'detection'} at ${fmtClock(m.s)} (${m.count})`} data-labels=${m.labels.join(',')} aria-hidden="true"></span>`)}
      ${range && range.stream === name && range.start && range.end && inView(range.start, range.end) && html`<span class="ruler-range"
        style=${`left:${Math.max(0, pct(range.start))}%;width:${Math.max(0.2, Math.min(100, pct(range.end)) - Math.max(0, pct(range.start)))}%`} aria-hidden="true"></span>`}
      ${now >= view.start && now <= viewEnd && html`<span class="now-line" style=${`left:${pct(now)}%`} aria-hidden="true"></span>`}
      ${playhead && playhead.stream === name && inView(playhead.t, playhead.t) && html`<span class="playhead" style=${`left:${pct(playhead.t)}%`} aria-hidden="true"></span>`}
      ${scrub && html`<span class="scrub-line" style=${`left:${scrub.frac * 100}%`} aria-hidden="true"></span>
        <span class="scrub-readout" role="status" style=${`left:${scrub.frac * 100}%`}>${fmtClock(scrub.t)}</span>`}
    </div>
  </div>`;
}

// Plays one stream from moment `at`: an hls.js VOD playlist over the recordings from the chosen
// one to the end of the day (fMP4 byte ranges, one #EXT-X-PROGRAM-DATE-TIME per recording), so
// playback runs on across recording boundaries by itself. The segment being written is in it
// up to its last whole fragment; at the end of that, `onEnded` fetches a fresh playlist.
// Where hls.js cannot play (no MSE, manifest error) the recording files play one after another.
function TimelinePlayer({ pickKey, stream, seg, at, segs, dayEnd, speed, onTime, onEnded }) {
  const ref = useRef(null);
  const [fallback, setFallback] = useState(!Hls.isSupported());
  const [fbSeg, setFbSeg] = useState(seg);
  useEffect(() => { setFbSeg(seg); }, [pickKey]);
  useEffect(() => {
    const v = ref.current;
    if (!v || fallback) return undefined;
    const url = `/api/timeline/manifest?stream=${enc(stream)}&start=${Math.floor(seg._s / 1000)}&end=${Math.floor(dayEnd / 1000)}`;
    const hls = new Hls({ enableWorker: false, autoStartLoad: false });
    delete v.dataset.startedAt;
    hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) { hls.destroy(); setFallback(true); } });
    hls.once(Hls.Events.LEVEL_LOADED, (_e, d) => {
      const frags = d.details.fragments || [];
      const target = at.getTime();
      const f = frags.find((x) => x.programDateTime && x.programDateTime <= target
        && target < x.programDateTime + x.duration * 1000)
        || frags.find((x) => x.programDateTime && x.programDateTime > target) || frags[frags.length - 1];
      const pos = f ? f.start + clamp((target - (f.programDateTime || target)) / 1000, 0, f.duration) : 0;
      hls.startLoad(pos); // hls.js seeks there once the first fragment is buffered
      v.playbackRate = speed;
      v.play().catch(() => {});
    });
    const tick = () => {
      const d = hls.playingDate;
      if (!d) return;
      // The moment playback really began (for support and tests: what was asked vs shown).
      if (!v.dataset.startedAt && !v.paused) v.dataset.startedAt = String(d.getTime());
      v.dataset.playingAt = String(d.getTime());
      onTime(stream, d);
    };
    v.addEventListener('timeupdate', tick);
    hls.loadSource(url);
    hls.attachMedia(v);
    return () => { v.removeEventListener('timeupdate', tick); hls.destroy(); };
  }, [pickKey, fallback]);
  useEffect(() => { if (ref.current) ref.current.playbackRate = speed; }, [speed]);

  // Fallback: one recording file after another.
  useEffect(() => {
    const v = ref.current;
    if (!v || !fallback) return undefined;
    const offset = fbSeg === seg ? Math.max(0, (at - seg._s) / 1000) : 0;
    const seek = () => { if (offset > 0 && offset < (v.duration || Infinity)) v.currentTime = offset; v.playbackRate = speed; v.play().catch(() => {}); };
    v.addEventListener('loadedmetadata', seek, { once: true });
    return () => v.removeEventListener('loadedmetadata', seek);
  }, [fbSeg, fallback, pickKey]);
  const next = () => {
    if (!fallback) { onEnded(); return; }
    const n = segs.find((s) => s._s >= fbSeg._e - 1000 && s !== fbSeg);
    if (n) setFbSeg(n); else onEnded();
  };
  const fbTime = (e) => { if (fallback) onTime(stream, new Date(fbSeg._s.getTime() + e.currentTarget.currentTime * 1000)); };
  return fallback
    ? html`<video ref=${ref} class="player" key="fb" src=${`/api/recordings/play/${fbSeg.id}`} controls autoplay muted
        playsinline aria-label=${'Recorded video of ' + stream} onEnded=${next} onTimeUpdate=${fbTime} data-mode="files" data-stream=${stream}></video>`
    : html`<video ref=${ref} class="player" key="hls" controls muted playsinline aria-label=${'Recorded video of ' + stream}
        data-mode="hls" data-stream=${stream} onEnded=${next}></video>`;
}

// "HH:MM[:SS]" on `day` → Date
const atTime = (day, hms) => (hms ? new Date(`${day}T${hms.length === 5 ? hms + ':00' : hms}`) : null);
const hmsOf = (d) => (d ? fmtClock(d) : '');

export function TimelinePage({ query }) {
  const [day, setDay] = useState(query.get('day') || isoDay());
  const [streams, setStreams] = useState(null);
  const [chosen, setChosen] = useState(null);
  const [data, setData] = useState({});
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(false);
  const [current, setCurrent] = useState(null); // {key, stream, seg, at}
  const [playhead, setPlayhead] = useState(null);
  const [speed, setSpeed] = useState(1);
  const [gotoTime, setGotoTime] = useState('');
  const [gotoStream, setGotoStream] = useState('');
  const [notice, setNotice] = useState(null); // {text, next: {stream, t}}
  const [view, setView] = useState(() => ({ start: dayStartOf(query.get('day') || isoDay()).getTime(), span: DAY }));
  const [range, setRange] = useState({ stream: '', start: null, end: null });
  const [now, setNow] = useState(Date.now());
  const dayStart = dayStartOf(day);
  const dayEndMs = dayStart.getTime() + DAY * 1000 - 1000;
  const isToday = day === isoDay();
  useEffect(() => { document.title = 'Timeline · LightNVR'; }, []);

  useEffect(() => {
    fetchStreams().then((list) => {
      setStreams(list);
      const pre = query.get('stream');
      setChosen(pre ? [pre] : list.map((s) => s.name).slice(0, 4));
    }).catch(setError);
  }, []);

  const load = async (quiet = false) => {
    if (!chosen) return;
    if (!quiet) setLoading(true);
    try {
      const entries = await Promise.all(chosen.map(async (n) => [n, await loadSegments(n, day)]));
      setData(Object.fromEntries(entries));
      setError(null);
    } catch (err) { if (!quiet) setError(err); } finally { setLoading(false); }
  };
  useEffect(() => { load(); }, [day, chosen && chosen.join('\u0000')]);
  // Today the newest recording grows: refresh the rulers and the clock now and then.
  useInterval(() => { setNow(Date.now()); if (isToday) load(true); }, 10000, [day, chosen && chosen.join('\u0000')]);

  // The view stays inside the day, between 10 minutes and 24 hours wide.
  const zoomTo = (span, anchorMs, frac = 0.5) => {
    const s = clamp(span, MIN_SPAN, DAY);
    const start = clamp(anchorMs - frac * s * 1000, dayStart.getTime(), dayStart.getTime() + (DAY - s) * 1000);
    setView({ start, span: s });
  };
  // Zoom buttons centre on what matters: the playhead, else (today) the last minutes, else noon.
  const focus = () => (playhead ? playhead.t.getTime() : isToday ? Math.min(Date.now(), dayEndMs) : dayStart.getTime() + DAY * 500);
  const zoomButton = (span) => {
    if (span >= DAY) { setView({ start: dayStart.getTime(), span: DAY }); return; }
    const f = focus();
    zoomTo(span, f, playhead ? 0.5 : 0.85);
  };
  const pan = (dir) => zoomTo(view.span, view.start + view.span * 1000 * (0.5 + dir * 0.5), 0.5);

  // Pick a moment: the segment that holds it; else, within `slack`, the nearest one; else say
  // there is nothing at that time and offer the next recording.
  const pick = (stream, t, slack = 0) => {
    const segs = (data[stream] && data[stream].segs) || [];
    let seg = segs.find((s) => s._s <= t && t < s._e);
    let at = t;
    if (!seg && slack > 0) {
      const dist = (s) => (t < s._s ? s._s - t : t - s._e);
      const near = segs.filter((s) => dist(s) <= slack).sort((a, b) => dist(a) - dist(b))[0];
      if (near) { seg = near; at = t < near._s ? near._s : new Date(Math.max(near._s.getTime(), near._e.getTime() - 1000)); }
    }
    if (!seg) {
      const nextSeg = segs.find((s) => s._s > t);
      setNotice({
        text: `No recording of ${stream} at ${fmtTime(t)}.` + (nextSeg ? ` The next one starts at ${fmtClock(nextSeg._s)}.` : ' Nothing was recorded after that on this day.'),
        next: nextSeg ? { stream, t: nextSeg._s } : null,
      });
      return;
    }
    setNotice(null);
    setCurrent({ key: Date.now() + Math.random(), stream, seg, at });
    setPlayhead({ stream, t: at });
    setGotoStream(stream);
    setRange((r) => (r.stream === stream ? r : { stream, start: null, end: null }));
  };
  const onTime = (stream, t) => setPlayhead({ stream, t });
  // The media ended: at the end of the playlist (a stream still recording has more now), or
  // early, at a recording boundary (hls.js does that now and then on a loaded machine). Play on
  // from the first recording that still has more than 1.5 s after the playhead: the one
  // holding it, else the next one (segments come sorted by start).
  const onEnded = async () => {
    if (!current || !playhead) return;
    const segs = (await loadSegments(current.stream, day).catch(() => ({ segs: [] }))).segs;
    setData((d) => ({ ...d, [current.stream]: { ...(d[current.stream] || {}), segs } }));
    const seg = segs.find((s) => s._e - playhead.t > 1500);
    if (seg) setCurrent({ key: Date.now(), stream: current.stream, seg, at: seg._s > playhead.t ? seg._s : playhead.t });
  };
  const lookedAt = () => gotoStream || (current && current.stream) || (chosen || []).find((n) => data[n] && data[n].segs.length) || (chosen || [])[0];
  const go = (e) => {
    e.preventDefault();
    const stream = lookedAt();
    if (!gotoTime || !stream) return;
    const t = atTime(day, gotoTime);
    if (view.span < DAY && (t < view.start || t > view.start + view.span * 1000)) zoomTo(view.span, t.getTime());
    pick(stream, t);
  };
  // The last minutes of a stream, zoomed in on them; also reached as ?stream=NAME&back=SECONDS
  // (a link from a live tile).
  const playBack = (stream, seconds) => {
    const now = Date.now();
    if (!isToday) return;
    zoomTo(MIN_SPAN, now, 0.85);
    // from the oldest footage of those minutes when the stream began recording after their start
    pick(stream, new Date(now - seconds * 1000), seconds * 1000);
  };
  useEffect(() => {
    const back = Number(query.get('back'));
    const stream = query.get('stream');
    if (!back || !stream || !data[stream] || current) return;
    playBack(stream, back);
  }, [data]);

  const toggleStream = (n) => setChosen(chosen.includes(n) ? chosen.filter((x) => x !== n) : [...chosen, n]);
  const shiftDay = (d) => {
    const t = new Date(`${day}T12:00:00`); t.setDate(t.getDate() + d);
    const nd = isoDay(t);
    setDay(nd); setCurrent(null); setPlayhead(null); setNotice(null);
    setView({ start: dayStartOf(nd).getTime(), span: DAY });
  };

  // Export: start/end on the chosen stream; "Mark" takes the playhead's moment.
  const rStream = range.stream || lookedAt() || '';
  const mark = (which) => { if (playhead) setRange({ ...range, stream: playhead.stream, [which]: new Date(playhead.t.getTime()) }); };
  const setRangeTime = (which) => (e) => setRange({ ...range, stream: rStream, [which]: atTime(day, e.currentTarget.value) });
  const lastMinutes = (m) => { const end = new Date(); setRange({ stream: rStream, start: new Date(end - m * 60000), end }); };
  const rangeErr = !range.start || !range.end ? (playhead ? 'Set a start and an end: type the times, or mark them at the playhead'
    : `Set a start and an end: type the times, ${isToday ? 'pick "Last 5 minutes", ' : ''}or play a moment above and mark it at the playhead`) : range.end <= range.start ? 'The end must be after the start'
    : range.end - range.start > 3 * 3600 * 1000 ? 'At most 3 hours at a time' : null;
  const exportRange = () => {
    if (rangeErr || !rStream) return;
    const q = `stream=${enc(rStream)}&start=${(range.start.getTime() / 1000).toFixed(3)}&end=${(range.end.getTime() / 1000).toFixed(3)}`;
    downloadUrl(`/api/export?${q}`);
  };

  const segsOf = (n) => (data[n] && data[n].segs) || [];
  return html`<section class="page timeline-page">
    <div class="page-head"><h1>Timeline</h1></div>
    <div class="toolbar">
      <button type="button" class="btn" onClick=${() => shiftDay(-1)} aria-label="Previous day">‹</button>
      <label class="inline"><span class="sr-only">Day</span><input type="date" value=${day} onChange=${(e) => { const nd = e.currentTarget.value || isoDay(); setDay(nd); setCurrent(null); setView({ start: dayStartOf(nd).getTime(), span: DAY }); }} /></label>
      <button type="button" class="btn" onClick=${() => shiftDay(1)} aria-label="Next day">›</button>
      <form class="inline goto" onSubmit=${go}><label class="inline">Go to<input type="time" step="1" value=${gotoTime} onInput=${(e) => setGotoTime(e.currentTarget.value)} /></label>
        ${chosen && chosen.length > 1 && html`<label class="inline"><span class="sr-only">Stream to play</span><select name="goto_stream" value=${lookedAt()} onChange=${(e) => setGotoStream(e.currentTarget.value)}>
          ${chosen.map((n) => html`<option value=${n}>${n}</option>`)}</select></label>`}
        <button type="submit" class="btn">Play</button></form>
      ${isToday && chosen && chosen.length > 0 && html`<button type="button" class="btn" onClick=${() => playBack(lookedAt(), 300)}
        title="Play the last five minutes of the stream chosen under Go to">Last 5 min</button>`}
      <label class="inline">Speed<select value=${speed} onChange=${(e) => setSpeed(Number(e.currentTarget.value))}>
        ${SPEEDS.map((s) => html`<option value=${s}>${s}×</option>`)}</select></label>
    </div>
    <div class="toolbar zoombar" role="group" aria-label="Zoom">
      <span class="muted small">Zoom</span>
      ${ZOOMS.map(([s, label]) => html`<button type="button" class=${'btn small' + (Math.abs(view.span - s) < 1 ? ' primary' : '')}
        aria-pressed=${Math.abs(view.span - s) < 1 ? 'true' : 'false'} data-zoom=${s} onClick=${() => zoomButton(s)}>${label}</button>`)}
      <button type="button" class="btn small" onClick=${() => pan(-1)} aria-label="Earlier" disabled=${view.start <= dayStart.getTime()}>◀</button>
      <button type="button" class="btn small" onClick=${() => pan(1)} aria-label="Later" disabled=${view.start + view.span * 1000 >= dayStart.getTime() + DAY * 1000}>▶</button>
      <span class="muted small view-label">${fmtClock(new Date(view.start))} – ${view.start + view.span * 1000 >= dayStart.getTime() + DAY * 1000 ? '24:00:00' : fmtClock(new Date(view.start + view.span * 1000))}</span>
    </div>
    ${streams && streams.length > 0 && html`<fieldset class="chips-select"><legend>Streams</legend>
      ${streams.map((s) => html`<label class=${'chip-check' + (chosen && chosen.includes(s.name) ? ' on' : '')}>
        <input type="checkbox" checked=${chosen && chosen.includes(s.name)} onChange=${() => toggleStream(s.name)} />${s.name}</label>`)}
    </fieldset>`}
    <${ErrorBox} error=${error} onRetry=${load} />
    ${notice && html`<div class="alert info" role="status" data-testid="timeline-notice"><span>${notice.text}</span>
      ${notice.next && html`<button type="button" class="btn small" onClick=${() => pick(notice.next.stream, notice.next.t)}>Play from ${fmtClock(notice.next.t)}</button>`}</div>`}
    ${current && html`<div class="tl-player">
      <${TimelinePlayer} pickKey=${current.key} stream=${current.stream} seg=${current.seg} at=${current.at}
        segs=${segsOf(current.stream)} dayEnd=${new Date(dayEndMs)} speed=${speed} onTime=${onTime} onEnded=${onEnded} />
      <p class="muted" aria-live="off"><strong>${current.stream}</strong> · ${playhead ? fmtTime(playhead.t) : ''}</p>
    </div>`}
    ${streams === null ? html`<${Spinner} />`
    : streams.length === 0 ? html`<${Empty} title="No streams"><p>Add a stream to see its recordings here.</p><//>`
    : html`<div class="ruler" aria-busy=${loading ? 'true' : 'false'}>
        <${Scale} view=${view} />
        ${(chosen || []).map((n) => html`<${Ruler} key=${n} name=${n} segs=${segsOf(n)} marks=${(data[n] && data[n].marks) || []}
          view=${view} now=${now} playhead=${playhead} range=${range} onPick=${pick} onZoom=${zoomTo}
          gapUntil=${isToday ? now : dayEndMs} />`)}
        ${chosen && chosen.length > 0 && chosen.every((n) => data[n] && !data[n].segs.length) && !loading
          && html`<p class="muted center">No recordings on ${day} for the selected streams.</p>`}
        ${!current && chosen && chosen.some((n) => data[n] && data[n].segs.length)
          && html`<p class="muted small center">Tap a recorded stretch (blue) to play from that moment, or drag along a ruler to scrub. Zoom with the buttons, the mouse wheel or two fingers. Hatched stretches have no recording.</p>`}
      </div>`}
    ${streams && streams.length > 0 && html`<section class="card export-box" aria-labelledby="export-h">
      <h2 id="export-h">Export a range as one MP4</h2>
      <div class="toolbar">
        <label class="inline">Stream<select name="export_stream" value=${rStream} onChange=${(e) => setRange({ ...range, stream: e.currentTarget.value })}>
          ${(chosen || []).map((n) => html`<option value=${n}>${n}</option>`)}</select></label>
        <label class="inline">From<input type="time" step="1" name="export_start" value=${hmsOf(range.start)} onInput=${setRangeTime('start')} /></label>
        <button type="button" class="btn small" disabled=${!playhead} onClick=${() => mark('start')}
          title=${playhead ? undefined : 'Play a moment on the timeline first'}>Start at playhead</button>
        <label class="inline">To<input type="time" step="1" name="export_end" value=${hmsOf(range.end)} onInput=${setRangeTime('end')} /></label>
        <button type="button" class="btn small" disabled=${!playhead} onClick=${() => mark('end')}
          title=${playhead ? undefined : 'Play a moment on the timeline first'}>End at playhead</button>
        ${isToday && html`<button type="button" class="btn small" onClick=${() => lastMinutes(5)}>Last 5 minutes</button>`}
        <button type="button" class="btn primary" data-testid="export" disabled=${!!rangeErr} onClick=${exportRange}>Export MP4</button>
      </div>
      <p class="muted small">${rangeErr || `${rStream}: ${fmtTime(range.start)} – ${fmtClock(range.end)}. The file starts at the keyframe just before the start (up to a few seconds earlier) and is copied, not re-encoded.`}</p>
    </section>`}
  </section>`;
}
