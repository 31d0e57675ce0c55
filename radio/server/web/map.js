// latent radio page, the map: seed segments as dots, the walk's trail, the point playing now
// (in step with what this listener hears: heard() of radio.js), likes and skips as heat.
// A click near a dot likes that region, or, once the admin form is unlocked, heads the walk there.
'use strict';
const mapCanvas = $('#map'), mapCtx = mapCanvas.getContext('2d');
// Okabe–Ito colours and five shapes: a set differs from the others in both, for every
// common colour-vision deficiency (combinations repeat only after 40 sets).
const SET_COLORS = ['#E69F00', '#56B4E9', '#009E73', '#F0E442', '#0072B2', '#D55E00', '#CC79A7', '#BBBBBB'];
const SHAPES = ['circle', 'square', 'triangle', 'diamond', 'cross'];
let mapDoc = null, mapTag = '';
window.radio.map = null;                  // the point playing now, for tests: {x, y, id, along}

function shape(c, kind, x, y, r) {
  c.beginPath();
  if (kind === 'circle') c.arc(x, y, r, 0, 2 * Math.PI);
  else if (kind === 'square') c.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
  else if (kind === 'triangle') { c.moveTo(x, y - r * 1.1); c.lineTo(x + r, y + r * 0.8); c.lineTo(x - r, y + r * 0.8); }
  else if (kind === 'diamond') { c.moveTo(x, y - r * 1.2); c.lineTo(x + r, y); c.lineTo(x, y + r * 1.2); c.lineTo(x - r, y); }
  else { const t = r * 0.4; c.rect(x - r, y - t, 2 * r, 2 * t); c.rect(x - t, y - r, 2 * t, 2 * r); }
  c.closePath();
  c.fill();
}
const style = (i) => [SET_COLORS[i % SET_COLORS.length], SHAPES[i % SHAPES.length]];

async function fetchMap() {
  try {
    const r = await fetch(api('/map'), { headers: mapTag ? { 'If-None-Match': mapTag } : {} });
    if (r.status !== 200) return;                       // 304: what we have is current
    mapDoc = await r.json();
    mapTag = r.headers.get('ETag') || '';
    showLegend();
  } catch (e) { /* the map waits for the API */ }
}

let legendShown = '';
function showLegend() {
  const key = mapDoc.sets.join(',');
  if (key === legendShown) return;
  legendShown = key;
  $('#map-legend').replaceChildren(...mapDoc.sets.map((name, i) => {
    const span = document.createElement('span'), icon = document.createElement('canvas');
    icon.width = icon.height = 24;
    const c = icon.getContext('2d'), [color, kind] = style(i);
    c.fillStyle = color;
    shape(c, kind, 12, 12, 9);
    span.append(icon, name);
    return span;
  }));
}

// map units (0–1) → canvas pixels; y grows upwards
function mapScale() {
  const w = mapCanvas.width, h = mapCanvas.height, pad = 14 * devicePixelRatio;
  return ([x, y]) => [pad + x * (w - 2 * pad), h - pad - y * (h - 2 * pad)];
}

function fitCanvas() {
  const w = Math.round(mapCanvas.clientWidth * devicePixelRatio);
  const h = Math.round(Math.max(240, Math.min(560, mapCanvas.clientWidth * 0.62)) * devicePixelRatio);
  if (mapCanvas.width !== w || mapCanvas.height !== h) { mapCanvas.width = w; mapCanvas.height = h; }
  mapCanvas.style.height = `${h / devicePixelRatio}px`;
}

// Where the walk is at stream time t: a segment is made from its trail point, and the walk
// moves on to the next point while it plays.
function pointAt(t) {
  const trail = mapDoc.trail;
  for (let i = trail.length - 1; i >= 0; i--) {
    const s = trail[i];
    if (s.start > t) continue;
    const along = Math.min(1, Math.max(0, (t - s.start) / s.seconds)), next = trail[i + 1];
    const to = next ? next.at : s.at;
    return { x: s.at[0] + (to[0] - s.at[0]) * along, y: s.at[1] + (to[1] - s.at[1]) * along, id: s.id, along, i };
  }
  return null;
}

function drawMap() {
  requestAnimationFrame(drawMap);
  fitCanvas();
  const c = mapCtx, w = mapCanvas.width, h = mapCanvas.height, px = mapScale(), r = 5 * devicePixelRatio;
  c.clearRect(0, 0, w, h);
  if (!mapDoc) return;
  for (const [x, y, net] of mapDoc.heat) {              // likes warm, skips cool, soft
    const [cx, cy] = px([x, y]), g = c.createRadialGradient(cx, cy, 0, cx, cy, 40 * devicePixelRatio);
    g.addColorStop(0, net > 0 ? `rgba(255,200,80,${0.12 * Math.min(3, net)})` : `rgba(120,120,255,${0.12 * Math.min(3, -net)})`);
    g.addColorStop(1, 'rgba(0,0,0,0)');
    c.fillStyle = g;
    c.fillRect(cx - 40 * devicePixelRatio, cy - 40 * devicePixelRatio, 80 * devicePixelRatio, 80 * devicePixelRatio);
  }
  for (const [, set, x, y] of mapDoc.dots) {
    const [color, kind] = style(set);
    c.globalAlpha = 0.85;
    c.fillStyle = color;
    shape(c, kind, ...px([x, y]), r);
  }
  c.globalAlpha = 1;
  const now = heard(), here = pointAt(now), trail = mapDoc.trail;
  c.lineWidth = 1.5 * devicePixelRatio;
  c.strokeStyle = 'rgba(255,255,255,0.55)';
  c.beginPath();
  trail.forEach((s, i) => { if (s.start <= now) c[i ? 'lineTo' : 'moveTo'](...px(s.at)); });
  if (here) c.lineTo(...px([here.x, here.y]));
  c.stroke();
  c.setLineDash([3 * devicePixelRatio, 4 * devicePixelRatio]);    // where it is heading: made, not heard yet
  c.strokeStyle = 'rgba(255,255,255,0.3)';
  c.beginPath();
  if (here) c.moveTo(...px([here.x, here.y]));
  trail.forEach((s) => { if (s.start > now) c.lineTo(...px(s.at)); });
  c.stroke();
  c.setLineDash([]);
  c.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
  c.fillStyle = '#ddd';
  const labelled = [];           // newest first; a title that would overprint a newer one is left out
  for (const song of [...mapDoc.songs].reverse()) {
    const [x, y] = px(song.at), tw = c.measureText(song.title).width, lh = 13 * devicePixelRatio;
    const lx = Math.min(x + 5 * devicePixelRatio, w - tw - 2), ly = y - 4 * devicePixelRatio;
    c.fillRect(x - 1.5 * devicePixelRatio, y - 1.5 * devicePixelRatio, 3 * devicePixelRatio, 3 * devicePixelRatio);
    if (labelled.some(([ax, ay, aw]) => lx < ax + aw && ax < lx + tw && Math.abs(ay - ly) < lh)) continue;
    labelled.push([lx, ly, tw]);
    c.fillText(song.title, lx, ly);
  }
  if (here) {
    const [x, y] = px([here.x, here.y]);
    c.strokeStyle = '#fff';
    c.lineWidth = 2.5 * devicePixelRatio;
    c.beginPath();
    c.arc(x, y, 9 * devicePixelRatio, 0, 2 * Math.PI);
    c.stroke();
  }
  window.radio.map = here && { x: here.x, y: here.y, id: here.id, along: here.along, trail: trail.length };
}

// the dot nearest a mouse event, within `reach` CSS pixels
function dotAt(e, reach) {
  if (!mapDoc) return null;
  const box = mapCanvas.getBoundingClientRect(), px = mapScale();
  const mx = (e.clientX - box.left) * devicePixelRatio, my = (e.clientY - box.top) * devicePixelRatio;
  let best = null, bestD = (reach * devicePixelRatio) ** 2;
  for (const [label, set, x, y] of mapDoc.dots) {
    const [dx, dy] = px([x, y]), d = (dx - mx) ** 2 + (dy - my) ** 2;
    if (d < bestD) { best = { label, set: mapDoc.sets[set], x: e.clientX - box.left, y: e.clientY - box.top }; bestD = d; }
  }
  return best;
}

mapCanvas.addEventListener('mousemove', (e) => {
  const dot = dotAt(e, 14), tip = $('#map-tip');
  tip.hidden = !dot;
  if (!dot) return;
  tip.textContent = dot.label;
  tip.style.left = `${Math.min(dot.x + 12, mapCanvas.clientWidth - tip.offsetWidth)}px`;
  tip.style.top = `${dot.y - 28}px`;
});
mapCanvas.addEventListener('mouseleave', () => { $('#map-tip').hidden = true; });

mapCanvas.addEventListener('click', async (e) => {
  const dot = dotAt(e, 30), status = (text) => { $('#map-status').textContent = text; };
  if (!dot) return status('click nearer a dot');
  if (!$('#mix-form').hidden) {                        // the admin: head the walk there
    const mix = await putMix({ head: dot.label });
    return status(mix ? `the walk heads for ${dot.label} next` : 'refused: see the admin status');
  }
  const r = await fetch(api('/vote'), { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                       body: JSON.stringify({ vote: 'like', anchor: dot.label }) });
  const body = await r.json();
  status(!r.ok ? body.error : body.counted ? `liked the region of ${dot.label}: the walk will lean towards it`
                                           : `you already liked the region of ${dot.label}`);
});

// another channel (radio.js tune()): its own map, from scratch
window.mapTuned = () => { mapDoc = null; mapTag = ''; legendShown = ''; fetchMap(); };

setInterval(fetchMap, 2000);
fetchMap();
requestAnimationFrame(drawMap);
