// Timeline: a day ruler of recorded segments per stream; click to play from that moment,
// playback runs on into the next segment; speed control.
import {
  html, useEffect, useRef, useState, get, enc, fetchStreams, isoDay, toDate, fmtClock, fmtTime,
} from '../lib.js';
import { ErrorBox, Spinner, Empty } from '../components.js';
import Hls from '/node_modules/hls.js/dist/hls.mjs';

const SPEEDS = [0.5, 1, 2, 4, 8];
const DAY = 86400;

const segStart = (s) => toDate(s.start_timestamp ?? s.start_time_unix ?? s.start_time);
const segEnd = (s) => toDate(s.end_timestamp ?? s.end_time_unix ?? s.end_time) || new Date();

async function loadSegments(stream, day) {
  const start = new Date(`${day}T00:00:00`);
  const end = new Date(start.getTime() + DAY * 1000 - 1000);
  const iso = (d) => d.toISOString().replace(/\.\d+Z$/, 'Z');
  const res = await get(`/api/timeline/segments?stream=${enc(stream)}&start=${enc(iso(start))}&end=${enc(iso(end))}`);
  const segs = (Array.isArray(res) ? res : res.segments || [])
    .map((s) => ({ ...s, _s: segStart(s), _e: segEnd(s), _stream: s.stream || stream }))
    .filter((s) => s._s)
    .sort((a, b) => a._s - b._s);
  const marks = (res.detection_intervals || []).map((d) => ({ s: toDate(d.start_timestamp), e: toDate(d.end_timestamp), labels: d.labels || [], count: d.count || 1 }));
  return { segs, marks };
}

function Ruler({ name, segs, marks, dayStart, playhead, onPick }) {
  const pct = (d) => Math.min(100, Math.max(0, ((d - dayStart) / 1000 / DAY) * 100));
  // Time under the pointer, from the track's box; a few pixels of slack snap to a segment.
  const pickAt = (track, clientX) => {
    const r = track.getBoundingClientRect();
    const frac = Math.min(1, Math.max(0, (clientX - r.left) / r.width));
    const slack = (6 / Math.max(1, r.width)) * DAY * 1000;
    onPick(name, new Date(dayStart.getTime() + frac * DAY * 1000), slack);
  };
  return html`<div class="ruler-row">
    <div class="ruler-label" title=${name}>${name}</div>
    <div class="ruler-track" onClick=${(e) => pickAt(e.currentTarget, e.clientX)} data-stream=${name}>
      ${segs.map((s) => html`<button type="button" class=${'ruler-seg' + (s.has_detection ? ' det' : '')} key=${s.id}
        style=${`left:${pct(s._s)}%;width:${Math.max(0.25, pct(s._e) - pct(s._s))}%`}
        title=${`${fmtClock(s._s)} – ${fmtClock(s._e)}`}
        aria-label=${`${name}: recording ${fmtClock(s._s)} to ${fmtClock(s._e)}, play`}
        onClick=${(e) => { e.stopPropagation(); if (e.detail === 0) onPick(name, s._s, 0); else pickAt(e.currentTarget.parentElement, e.clientX); }}></button>`)}
      ${marks.map((m) => html`<span class="ruler-mark" style=${`left:${pct(m.s)}%;width:${Math.max(0.15, pct(m.e) - pct(m.s))}%`}
        title=${`${m.labels.join(', ') || 'detection'} at ${fmtClock(m.s)} (${m.count})`} data-labels=${m.labels.join(',')} aria-hidden="true"></span>`)}
      ${playhead && playhead.stream === name && html`<span class="playhead" style=${`left:${pct(playhead.t)}%`} aria-hidden="true"></span>`}
    </div>
  </div>`;
}

function Hours() {
  const marks = [0, 3, 6, 9, 12, 15, 18, 21, 24];
  return html`<div class="ruler-row ruler-hours" aria-hidden="true"><div class="ruler-label"></div>
    <div class="ruler-scale">${marks.map((h) => html`<span class=${h % 6 ? 'minor' : ''} style=${`left:${(h / 24) * 100}%`}>${String(h).padStart(2, '0')}:00</span>`)}</div></div>`;
}

// Plays one stream from moment `at`: an hls.js VOD playlist over the recordings from the chosen
// one to the end of the day (fMP4 byte ranges, one #EXT-X-PROGRAM-DATE-TIME per recording), so
// playback runs on across recording boundaries by itself. Where hls.js cannot play (no MSE,
// manifest error) it falls back to the recording files one after another.
function TimelinePlayer({ pickKey, stream, seg, at, segs, dayEnd, speed, onTime }) {
  const ref = useRef(null);
  const [fallback, setFallback] = useState(!Hls.isSupported());
  const [fbSeg, setFbSeg] = useState(seg);
  useEffect(() => { setFbSeg(seg); }, [pickKey]);
  useEffect(() => {
    const v = ref.current;
    if (!v || fallback) return undefined;
    const url = `/api/timeline/manifest?stream=${enc(stream)}&start=${Math.floor(seg._s / 1000)}&end=${Math.floor(dayEnd / 1000)}`;
    const hls = new Hls({ enableWorker: false, autoStartLoad: false });
    let frags = [];
    hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) { hls.destroy(); setFallback(true); } });
    hls.once(Hls.Events.LEVEL_LOADED, (_e, d) => {
      frags = d.details.fragments || [];
      const target = at.getTime();
      const f = frags.find((x) => x.programDateTime && x.programDateTime <= target
        && target < x.programDateTime + x.duration * 1000) || frags[0];
      const pos = f ? f.start + Math.max(0, (target - (f.programDateTime || target)) / 1000) : 0;
      hls.startLoad(pos); // hls.js seeks there once the first fragment is buffered
      v.playbackRate = speed;
      v.play().catch(() => {});
    });
    const tick = () => {
      const d = hls.playingDate;
      if (d) onTime(stream, d);
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
    if (!fallback) return;
    const n = segs.find((s) => s._s >= fbSeg._e - 1000 && s !== fbSeg);
    if (n) setFbSeg(n);
  };
  const fbTime = (e) => { if (fallback) onTime(stream, new Date(fbSeg._s.getTime() + e.currentTarget.currentTime * 1000)); };
  return fallback
    ? html`<video ref=${ref} class="player" key="fb" src=${`/api/recordings/play/${fbSeg.id}`} controls autoplay muted
        playsinline aria-label=${'Recorded video of ' + stream} onEnded=${next} onTimeUpdate=${fbTime} data-mode="files"></video>`
    : html`<video ref=${ref} class="player" key="hls" controls muted playsinline aria-label=${'Recorded video of ' + stream} data-mode="hls"></video>`;
}

export function TimelinePage({ query }) {
  const [day, setDay] = useState(query.get('day') || isoDay());
  const [streams, setStreams] = useState(null);
  const [chosen, setChosen] = useState(null);
  const [data, setData] = useState({});
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(false);
  const [current, setCurrent] = useState(null); // {seg, offset}
  const [playhead, setPlayhead] = useState(null);
  const [speed, setSpeed] = useState(1);
  const [gotoTime, setGotoTime] = useState('');
  const dayStart = new Date(`${day}T00:00:00`);
  useEffect(() => { document.title = 'Timeline · LightNVR'; }, []);

  useEffect(() => {
    fetchStreams().then((list) => {
      setStreams(list);
      const pre = query.get('stream');
      setChosen(pre ? [pre] : list.map((s) => s.name).slice(0, 4));
    }).catch(setError);
  }, []);

  const load = async () => {
    if (!chosen) return;
    setLoading(true);
    try {
      const entries = await Promise.all(chosen.map(async (n) => [n, await loadSegments(n, day)]));
      setData(Object.fromEntries(entries));
      setError(null);
    } catch (err) { setError(err); } finally { setLoading(false); }
  };
  useEffect(() => { load(); }, [day, chosen && chosen.join('\u0000')]);

  // Pick a moment: the segment that holds it; else, within `slack`, the nearest one; else the
  // next one after it.
  const pick = (stream, t, slack = 0) => {
    const segs = (data[stream] && data[stream].segs) || [];
    let seg = segs.find((s) => s._s <= t && t < s._e);
    let at = t;
    if (!seg && slack > 0) {
      const dist = (s) => (t < s._s ? s._s - t : t - s._e);
      const near = segs.filter((s) => dist(s) <= slack).sort((a, b) => dist(a) - dist(b))[0];
      if (near) { seg = near; at = t < near._s ? near._s : new Date(Math.max(near._s.getTime(), near._e.getTime() - 1000)); }
    }
    if (!seg) { seg = segs.find((s) => s._s > t); at = seg ? seg._s : t; }
    if (!seg) return;
    setCurrent({ key: Date.now(), stream, seg, at });
    setPlayhead({ stream, t: at });
  };
  const onTime = (stream, t) => setPlayhead({ stream, t });
  const go = (e) => {
    e.preventDefault();
    if (!gotoTime || !chosen || !chosen.length) return;
    const stream = current ? current.stream : chosen.find((n) => data[n] && data[n].segs.length) || chosen[0];
    pick(stream, new Date(`${day}T${gotoTime}`));
  };
  const toggleStream = (n) => setChosen(chosen.includes(n) ? chosen.filter((x) => x !== n) : [...chosen, n]);
  const shiftDay = (d) => { const t = new Date(`${day}T12:00:00`); t.setDate(t.getDate() + d); setDay(isoDay(t)); setCurrent(null); setPlayhead(null); };

  return html`<section class="page">
    <div class="page-head"><h1>Timeline</h1></div>
    <div class="toolbar">
      <button type="button" class="btn" onClick=${() => shiftDay(-1)} aria-label="Previous day">‹</button>
      <label class="inline"><span class="sr-only">Day</span><input type="date" value=${day} onChange=${(e) => { setDay(e.currentTarget.value || isoDay()); setCurrent(null); }} /></label>
      <button type="button" class="btn" onClick=${() => shiftDay(1)} aria-label="Next day">›</button>
      <form class="inline" onSubmit=${go}><label class="inline">Go to<input type="time" step="1" value=${gotoTime} onInput=${(e) => setGotoTime(e.currentTarget.value)} /></label>
        <button type="submit" class="btn">Play</button></form>
      <label class="inline">Speed<select value=${speed} onChange=${(e) => setSpeed(Number(e.currentTarget.value))}>
        ${SPEEDS.map((s) => html`<option value=${s}>${s}×</option>`)}</select></label>
    </div>
    ${streams && streams.length > 0 && html`<fieldset class="chips-select"><legend>Streams</legend>
      ${streams.map((s) => html`<label class=${'chip-check' + (chosen && chosen.includes(s.name) ? ' on' : '')}>
        <input type="checkbox" checked=${chosen && chosen.includes(s.name)} onChange=${() => toggleStream(s.name)} />${s.name}</label>`)}
    </fieldset>`}
    <${ErrorBox} error=${error} onRetry=${load} />
    ${current && html`<div class="tl-player">
      <${TimelinePlayer} pickKey=${current.key} stream=${current.stream} seg=${current.seg} at=${current.at}
        segs=${(data[current.stream] && data[current.stream].segs) || []} dayEnd=${new Date(dayStart.getTime() + DAY * 1000 - 1000)}
        speed=${speed} onTime=${onTime} />
      <p class="muted" aria-live="off">${current.stream} · ${playhead ? fmtTime(playhead.t) : ''}</p>
    </div>`}
    ${streams === null ? html`<${Spinner} />`
    : streams.length === 0 ? html`<${Empty} title="No streams"><p>Add a stream to see its recordings here.</p><//>`
    : html`<div class="ruler" aria-busy=${loading ? 'true' : 'false'}>
        <${Hours} />
        ${(chosen || []).map((n) => html`<${Ruler} key=${n} name=${n} segs=${(data[n] && data[n].segs) || []}
          marks=${(data[n] && data[n].marks) || []} dayStart=${dayStart} playhead=${playhead} onPick=${pick} />`)}
        ${chosen && chosen.length > 0 && chosen.every((n) => data[n] && !data[n].segs.length) && !loading
          && html`<p class="muted center">No recordings on ${day} for the selected streams.</p>`}
        ${!current && chosen && chosen.some((n) => data[n] && data[n].segs.length)
          && html`<p class="muted small center">Click a recorded stretch (blue) to play from that moment; playback runs on into the following recordings.</p>`}
      </div>`}
  </section>`;
}
