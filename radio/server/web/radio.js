// latent radio page: player, now playing, live piano roll, MIDI download, admin mix controls
// (the map is map.js, which uses heard() and putMix() of this file).
'use strict';
const $ = (s) => document.querySelector(s);
const player = $('#player'), roll = $('#roll'), ctx = roll.getContext('2d');
const COLORS = ['#e0a030', '#3fa7ff', '#ff5d8f'];   // drums, bass, lead (the API's part index)
const BEFORE = 3, AFTER = 7;                        // seconds of the roll either side of now
let state = null, fetchedAt = 0;
window.radio = { drawn: 0, channel: 'main' };       // notes on the last frame, the channel (tests read them)

// The channel this page plays: main's API and streams are the old URLs, the others' sit
// under their name (/api/channels/<name>/…, /<name>/stream.mp3).
let channel = new URLSearchParams(location.search).get('channel') || 'main';
if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(channel)) channel = 'main';
const api = (path) => (channel === 'main' ? `/api${path}` : `/api/channels/${channel}${path}`);
const under = (path) => (channel === 'main' ? path : `/${channel}${path}`);

// Stream seconds the server had published, advanced by the clock since the last /api/now.
const published = () => state ? state.position + (performance.now() - fetchedAt) / 1000 : 0;

// What this listener hears: the player's buffer ends at what was published, so the
// distance from currentTime to that end is this listener's delay behind the server.
function heard() {
  const p = published();
  if (!player.paused && player.buffered.length) {
    return p - Math.max(0, player.buffered.end(player.buffered.length - 1) - player.currentTime);
  }
  return p - 3;   // not playing: about where a new listener starts (burst + lead)
}

function segmentAt(t) {
  if (!state) return null;
  return state.segments.filter((s) => s.start <= t).pop() || state.now_playing;
}

async function refresh() {
  try {
    const r = await fetch(api('/now'));
    state = await r.json();
    fetchedAt = performance.now();
    const s = segmentAt(heard());
    if (s) {
      const band = s.band ? `band: ${s.band.keep.join(' + ')} from ${s.band.source}, ` +
        `window ${s.band.window} of ${s.band.windows} · ` : '';
      $('#now').textContent = `${s.mix} · segment ${s.id} · ${s.qpm} bpm · ${band}walk ` +
        `${s.anchors.join(' → ')} at t=${s.t} · temperature ${s.temperature}`;
      $('#midi').href = api(`/segments/${s.id}.mid`);
      showSong(s.song);
      const p = s.programs || {};
      $('#sound').textContent = s.sound ? `${s.sound} (lead GM ${p.lead + 1}, bass GM ${p.bass + 1}, ${p.drums} kit)` : '–';
    }
  } catch (e) { /* the player keeps playing when the API is away */ }
}

// The song: its title, and its form as a timeline (each section as wide as its bars)
// with the section playing lit, naming the part that sits it out, if one does.
let formShown = '';
function showSong(song) {
  const title = $('#song-title'), form = $('#form'), link = $('#song-midi');
  title.hidden = form.hidden = link.hidden = !song;
  if (!song) return;
  title.textContent = `${song.title} · ${song.key}`;
  link.href = api(`/songs/${song.id}.mid`);
  const key = `${song.id}/${song.form.sections.join(',')}`;
  if (key !== formShown) {
    formShown = key;
    form.replaceChildren(...song.form.sections.map((text) => {
      const li = document.createElement('li');
      const [name, bars] = text.split(':');
      li.textContent = li.dataset.name = name;
      li.style.flexGrow = bars;
      return li;
    }));
  }
  [...form.children].forEach((li, i) => {
    const lit = i === song.section, rest = lit && song.resting ? ` · no ${song.resting}` : '';
    li.classList.toggle('lit', lit);
    if (li.textContent !== li.dataset.name + rest) li.textContent = li.dataset.name + rest;
  });
}

function y(part, pitch, h) {
  if (part === 0) return h - 4 - (Math.min(Math.max(pitch, 35), 81) - 35) / 46 * (h * 0.25);
  return h * 0.72 - (Math.min(Math.max(pitch, 24), 96) - 24) / 72 * (h * 0.68);
}

function draw() {
  requestAnimationFrame(draw);
  const w = roll.width, h = roll.height;
  ctx.clearRect(0, 0, w, h);
  if (!state) return;
  const now = heard(), px = w / (BEFORE + AFTER), x = (t) => (t - now + BEFORE) * px;
  let drawn = 0;
  for (const seg of state.segments) {
    for (const [part, pitch, s, e, v] of seg.notes) {
      const t0 = seg.start + s, t1 = seg.start + (part === 0 ? s + 0.08 : e);
      if (t1 < now - BEFORE || t0 > now + AFTER) continue;
      ctx.globalAlpha = 0.35 + 0.65 * v / 127 * (t0 <= now && now <= t1 ? 1 : 0.7);
      ctx.fillStyle = COLORS[part];
      ctx.fillRect(x(t0), y(part, pitch, h) - 2, Math.max(2, (t1 - t0) * px), 4);
      drawn++;
    }
  }
  ctx.globalAlpha = 1;
  ctx.fillStyle = '#fff';
  ctx.fillRect(x(now), 0, 1, h);
  window.radio.drawn = drawn;
}

$('#format').addEventListener('change', () => {
  const playing = !player.paused;
  pointPlayer();
  if (playing) player.play();
});

// -- admin -------------------------------------------------------------------
const adminStatus = (text) => { $('#admin-status').textContent = text; };
const token = () => $('#token').value.trim();

// One change at a time, in order: concurrent PUTs (a slider's input and change events, fast edits) could
// land out of order, and a stale one would undo the admin's latest change.
let mixQueue = Promise.resolve();
function putMix(changes) {
  const sent = mixQueue.then(() => sendMix(changes));
  mixQueue = sent.catch(() => null);
  return sent;
}

async function sendMix(changes) {
  const r = await fetch(api('/mix'), {
    method: 'PUT', body: JSON.stringify(changes),
    headers: { 'Content-Type': 'application/json', 'Authorization': `Bearer ${token()}` } });
  const body = await r.json();
  const sound = body.sound && body.sound.preset ? `, sound ${body.sound.preset}` : '';
  const head = body.head ? `, heading for ${body.head}` : '';
  adminStatus(r.ok ? `mix: ${body.label}${sound}${head} (heard from the next segment)` : `refused: ${body.error}`);
  return r.ok ? body : null;
}

// an empty box: the sound preset's program
const program = (id) => ($(id).value === '' ? null : Number($(id).value));

// band mode's kept parts: "bass=funk/song, drums=funk/song" ↔ {bass: "funk/song", drums: …}
const keepText = (keep) => Object.entries(keep || {}).map(([p, f]) => `${p}=${f}`).join(', ');
const keepOf = (text) => Object.fromEntries(text.split(',').map((x) => x.trim()).filter(Boolean)
  .map((x) => [x.split('=')[0].trim(), x.split('=').slice(1).join('=').trim()]));

function formMix() {
  const sets = {};
  for (const input of document.querySelectorAll('#sets input')) sets[input.name] = Number(input.value);
  const mode = $('#mode').value;
  return { sets, temperature: Number($('#temperature').value), style: Number($('#style').value),
           qpm: Number($('#qpm').value),
           lead_program: program('#lead_program'), bass_program: program('#bass_program'),
           sound: $('#sound-preset').value ? { preset: $('#sound-preset').value } : {},
           mode, groove: { preset: $('#groove').value }, keep: mode === 'band' ? keepOf($('#keep').value) : {} };
}

function showOutputs() {
  for (const o of document.querySelectorAll('#mix-form output')) {
    o.value = document.getElementById(o.htmlFor).value;
  }
}

async function unlock() {
  if (!(await putMix({}))) return;          // an empty change checks the token…
  localStorage.setItem('radio-token', token());   // …which is kept only once the station took it
  const mix = await (await fetch(api('/mix'))).json();
  const box = $('#sets');
  box.querySelectorAll('label').forEach((l) => l.remove());
  for (const name of mix.sets_available) {
    const label = document.createElement('label');
    label.innerHTML = `<span>${name}</span><input type="range" min="0" max="1" step="0.05" name="${name}">`;
    label.querySelector('input').value = mix.sets[name] || 0;
    box.appendChild(label);
  }
  for (const k of ['temperature', 'style', 'qpm', 'lead_program', 'bass_program', 'mode']) $('#' + k).value = mix[k] ?? '';
  const presets = $('#sound-preset');
  presets.querySelectorAll('option:not([value=""])').forEach((o) => o.remove());
  for (const name of mix.sound_presets) presets.add(new Option(name, name));
  presets.value = (mix.sound && mix.sound.preset) || '';
  $('#groove').value = (mix.groove && mix.groove.preset) || 'default';
  $('#keep').value = keepText(mix.keep);
  showOutputs();
  $('#mix-form').hidden = false;
}

// Votes are about the segment (its song) this listener hears, not the one the server is publishing.
async function vote(kind) {
  const s = segmentAt(heard());
  if (!s) return;
  const r = await fetch(api('/vote'), { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                       body: JSON.stringify({ vote: kind, segment: s.id }) });
  const body = await r.json();
  const what = body.title ? `“${body.title}” (segment ${s.id})` : `segment ${s.id}`;   // a song's vote
  $('#vote-status').textContent = !r.ok ? body.error
    : body.counted ? `${kind === 'like' ? 'liked' : 'skipped'} ${what}: the walk will lean ` +
                     `${kind === 'like' ? 'towards' : 'away from'} it`
    : `you already voted on ${what}`;
}

$('#like').addEventListener('click', () => vote('like'));
$('#skip').addEventListener('click', () => vote('skip'));
$('#unlock').addEventListener('click', unlock);
$('#mix-form').addEventListener('input', showOutputs);
$('#mix-form').addEventListener('change', () => putMix(formMix()));
$('#token').value = localStorage.getItem('radio-token') || '';

// -- channels: the list, what each plays, and a switch without reloading the page ----------
async function listChannels() {
  try {
    const { channels } = await (await fetch('/api/channels')).json();
    const nav = $('#channels');
    nav.hidden = channels.length < 2;
    nav.replaceChildren(...channels.map((c) => {
      const b = document.createElement('button');
      b.dataset.channel = c.name;
      b.className = c.name === channel ? 'on' : '';
      b.innerHTML = '<b></b><small></small>';
      b.querySelector('b').textContent = c.title;
      b.querySelector('small').textContent = c.now_playing || c.status;
      b.title = c.description;
      b.addEventListener('click', () => tune(c.name));
      return b;
    }));
    const mine = channels.find((c) => c.name === channel);
    $('#channel-about').textContent = mine && channels.length > 1 ? `${mine.title}: ${mine.description}` : '';
  } catch (e) { /* the list waits for the API */ }
}

// the player and the playlist links, on this channel's stream in the chosen format
function pointPlayer() {
  player.src = under(`/stream.${$('#format').value}`);
  $('#m3u').href = under('/listen.m3u');
  $('#pls').href = under('/listen.pls');
}

function tune(name) {
  if (name === channel) return;
  const playing = !player.paused;
  channel = window.radio.channel = name;
  history.replaceState(null, '', name === 'main' ? location.pathname : `?channel=${name}`);
  pointPlayer();
  state = null;
  $('#mix-form').hidden = true;                     // the admin form was the other channel's mix
  if (window.mapTuned) window.mapTuned();
  if (playing) player.play();
  refresh();
  listChannels();
}

setInterval(refresh, 1000);
setInterval(listChannels, 5000);
window.radio.channel = channel;
pointPlayer();
listChannels();
refresh();
requestAnimationFrame(draw);
