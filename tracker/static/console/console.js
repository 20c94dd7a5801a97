// The safety office's console: geofences as the rules see them, the fleet live, the alarm
// list and its handling (报警处置), a vehicle's details and track. Values from the API are
// only ever set as text (textContent, DOM nodes); handlers are attached here, never inline.
"use strict";

const FENCE_COLOURS = { chem_park: "#8e44ad", parking: "#2e86c1", filling_station: "#17a589",
                        restricted_road: "#c0392b", no_stopping: "#e67e22", speed_zone: "#7f8c8d" };
const STATUS_COLOURS = { moving: "#1e8449", stopped: "#2e86c1", offline: "#7f8c8d" };
const HANDLING_RANK = { new: 0, acked: 1, resolved: 2 };
const MAX_ROWS = 300;  // alarm rows drawn at once; the count says how many match

const $ = (id) => document.getElementById(id);
const state = {
  crs: "wgs84", map: null, fences: null, roads: [], vehicleLayer: null, track: null, trackData: null,
  vehicles: new Map(),    // plate -> {marker, props, lat, lon, key (of the style drawn), shown}
  alarmed: new Set(),     // plates holding an open violation
  filters: { status: "", carrier: "" },
  violations: new Map(),  // violation_id -> Violation (with handling)
  selected: null, selectedViolation: null, violationMarker: null, feed: null, muted: false, resolving: null,
  playTimer: null,
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "on") for (const [type, handler] of Object.entries(value)) node.addEventListener(type, handler);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}

function facts(pairs) {
  const dl = el("dl");
  for (const [key, value] of pairs) dl.append(el("dt", {}, key), el("dd", {}, value ?? "—"));
  return dl;
}

function when(iso) { return iso ? new Date(iso).toLocaleString(LANG === "zh" ? "zh-CN" : "en-GB", { hour12: false }) : "—"; }

function showError(error) {
  const text = error instanceof Error ? error.message : String(error);
  $("error-text").textContent = t("failed") + text;
  $("error").hidden = false;
}

// -- the map -------------------------------------------------------------------------
function metresPerPixel(lat) {
  return 40075016.686 * Math.cos(lat * Math.PI / 180) / 2 ** (state.map.getZoom() + 8);
}

function fencePopup(p) {
  const rows = [[t("fenceKind"), nameOf("fences", p.kind)]];
  if (p.radius_m) rows.push([t("radius"), `${p.radius_m} m`]);
  if (p.buffer_m || p.kind === "restricted_road") rows.push([t("buffer"), `${p.buffer_m || 30} m`]);
  if (p.speed_limit_kmh) rows.push([t("limit"), `${p.speed_limit_kmh} km/h`]);
  if (p.station_id) rows.push([t("station"), p.station_id]);
  if (p.kind === "restricted_road") {
    rows.push([t("banWindows"), p.ban_windows ? p.ban_windows.map((w) => `${(w.days || []).join(",")} ${w.from}-${w.to}`).join("; ") : t("always")]);
  }
  return el("div", { class: "popup" }, el("b", {}, p.name), facts(rows));
}

function drawFences(collection) {
  if (state.fences) state.fences.remove();
  state.roads = [];
  state.fences = L.geoJSON(collection, {
    style: (f) => {
      const colour = FENCE_COLOURS[f.properties.kind] || "#333";
      return f.geometry.type === "LineString"
        ? { color: colour, weight: 6, opacity: 0.35, lineCap: "round" }
        : { color: colour, weight: 2, fillOpacity: 0.15 };
    },
    pointToLayer: (f, latlng) => L.circle(latlng, { radius: f.properties.radius_m || 200 }),
    onEachFeature: (f, layer) => {
      layer.bindPopup(() => fencePopup(f.properties));
      if (f.geometry.type === "LineString") {
        // a road's buffer as the rules see it: a ribbon 2 x buffer_m wide, and its centre line
        state.roads.push({ layer, buffer: f.properties.buffer_m || 30, lat: f.geometry.coordinates[0][1] });
        L.geoJSON(f, { style: { color: FENCE_COLOURS[f.properties.kind], weight: 1.5, dashArray: "4 4" }, interactive: false })
          .addTo(state.fenceCentres);
      }
    },
  }).addTo(state.map);
  state.fences.bringToBack();
  sizeRoads();
}

function sizeRoads() {
  for (const road of state.roads) road.layer.setStyle({ weight: Math.max(2, 2 * road.buffer / metresPerPixel(road.lat)) });
}

function legend() {
  const control = L.control({ position: "bottomleft" });
  control.onAdd = () => {
    const box = el("div", { class: "legend" }, el("h4", {}, t("legendFences")));
    for (const [kind, colour] of Object.entries(FENCE_COLOURS)) {
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = colour;
      box.append(el("div", {}, swatch, nameOf("fences", kind)));
    }
    const outline = el("span", { class: "swatch" });
    outline.style.borderColor = "#555";
    outline.style.borderStyle = "dashed";
    box.append(el("div", {}, outline, t("district")), el("h4", {}, t("legendVehicles")));
    for (const [status, colour] of Object.entries(STATUS_COLOURS)) {
      const swatch = el("span", { class: "swatch round" });
      swatch.style.background = colour;
      box.append(el("div", {}, swatch, nameOf("statuses", status)));
    }
    const ring = el("span", { class: "swatch round" });
    ring.style.border = "2px solid #c0392b";
    box.append(el("div", {}, ring, t("legendAlarm")));
    L.DomEvent.disableClickPropagation(box);
    return box;
  };
  control.addTo(state.map);
}

// -- vehicles ------------------------------------------------------------------------
function openKinds(plate) {
  return [...new Set([...state.violations.values()]
    .filter((v) => v.plate === plate && v.status === "open").map((v) => v.kind))].sort();
}

function markAlarmed(plate) {
  if (openKinds(plate).length) state.alarmed.add(plate); else state.alarmed.delete(plate);
}

function vehiclePopup(plate) {
  const v = state.vehicles.get(plate);
  const p = v.props;
  const kinds = openKinds(plate);
  const link = el("a", { href: "#", on: { click: (e) => { e.preventDefault(); selectVehicle(plate); } } }, t("showTrack"));
  return el("div", { class: "popup" }, el("b", {}, p.plate), facts([
    [t("carrier"), p.carrier_id], [t("status"), nameOf("statuses", p.status)], [t("speed"), `${p.speed_kmh} km/h`],
    [t("heading"), p.heading_deg === null || p.heading_deg === undefined ? "—" : `${Math.round(p.heading_deg)}°`],
    [t("time"), when(p.ts)], [t("openViolations"), kinds.length ? kinds.map((k) => nameOf("kinds", k)).join("、") : t("none")],
  ]), link);
}

// A vehicle: one canvas circle with its heading as a tick on its edge, drawn in the same
// pass (a tick layer of its own per vehicle doubled the canvas's work). Uses Leaflet 1.9's
// canvas internals (_updateCircle, _pxBounds), pinned by package-lock.json.
const TICK = 7;
const VehicleMarker = L.CircleMarker.extend({
  _updateBounds() {
    const reach = this._radius + TICK + this._clickTolerance();
    this._pxBounds = L.bounds(this._point.subtract([reach, reach]), this._point.add([reach, reach]));
  },
  _updatePath() {
    const renderer = this._renderer;
    renderer._updateCircle(this);
    const heading = this.options.heading;
    if (typeof heading !== "number" || !renderer._drawing || this._empty()) return;
    const ctx = renderer._ctx, p = this._point, r = this._radius, rad = heading * Math.PI / 180;
    ctx.beginPath();
    ctx.moveTo(p.x + Math.sin(rad) * r, p.y - Math.cos(rad) * r);
    ctx.lineTo(p.x + Math.sin(rad) * (r + TICK), p.y - Math.cos(rad) * (r + TICK));
    ctx.globalAlpha = 1;
    ctx.lineWidth = 2;
    ctx.strokeStyle = this.options.fillColor;
    ctx.stroke();
  },
});

function drawVehicle(plate) {
  const v = state.vehicles.get(plate);
  const p = v.props;
  const alarmed = state.alarmed.has(plate);
  const heading = p.status === "moving" && typeof p.heading_deg === "number" ? p.heading_deg : null;
  const selected = plate === state.selected;
  const key = `${p.status}|${alarmed}|${selected}|${heading}`;
  if (!v.marker) {
    v.marker = new VehicleMarker([v.lat, v.lon], {});
    v.marker.bindPopup(() => vehiclePopup(plate));
    v.marker.on("click", () => selectVehicle(plate, false));
  }
  if (v.key !== key) {
    v.key = key;
    v.marker.options.heading = heading;
    v.marker.setStyle({ radius: selected ? 8 : 6, weight: alarmed ? 3 : 1.5, color: alarmed ? "#c0392b" : "#fff",
                        fillColor: STATUS_COLOURS[p.status] || "#333", fillOpacity: 0.95 });
  }
  v.marker.setLatLng([v.lat, v.lon]);
  const shown = (!state.filters.status || p.status === state.filters.status)
    && (!state.filters.carrier || p.carrier_id === state.filters.carrier);
  if (shown !== v.shown) {
    v.shown = shown;
    if (shown) v.marker.addTo(state.vehicleLayer); else v.marker.remove();
  }
}

function placeVehicle(plate, lat, lon, props) {
  let v = state.vehicles.get(plate);
  if (!v) { v = { marker: null, key: null, shown: false }; state.vehicles.set(plate, v); }
  Object.assign(v, { lat, lon, props });
  drawVehicle(plate);
}

function refreshCarriers() {
  const select = $("f-carrier"), chosen = select.value;
  const carriers = [...new Set([...state.vehicles.values()].map((v) => v.props.carrier_id).filter(Boolean))].sort();
  if (select.options.length - 1 === carriers.length) return;
  select.replaceChildren(el("option", { value: "" }, t("all")), ...carriers.map((c) => el("option", { value: c }, c)));
  select.value = chosen;
}

// -- alarms --------------------------------------------------------------------------
function mergeViolation(v) {
  const known = state.violations.get(v.violation_id);
  if (!v.handling) v = { ...v, handling: known ? known.handling : { state: "new", notes: [] } };
  else if (known && HANDLING_RANK[known.handling.state] > HANDLING_RANK[v.handling.state]) v = { ...v, handling: known.handling };
  state.violations.set(v.violation_id, v);
  return known;
}

function alarmMatches(v) {
  const kind = $("f-kind").value, handling = $("f-handling").value, carrier = $("f-carrier").value;
  const severity = $("f-severity").value, plate = $("plate").value.trim().toUpperCase();
  return (!kind || v.kind === kind) && (!handling || v.handling.state === handling) && (!severity || v.severity === severity)
    && (!carrier || v.carrier_id === carrier) && (!plate || v.plate.toUpperCase().includes(plate));
}

function alarmRow(v) {
  const ack = el("button", { type: "button", class: "ack", on: { click: (e) => { e.stopPropagation(); acknowledge(v.violation_id); } } }, t("ack"));
  const resolve = el("button", { type: "button", class: "resolve", on: { click: (e) => { e.stopPropagation(); askResolution(v.violation_id); } } }, t("resolve"));
  ack.disabled = v.handling.state !== "new";
  resolve.disabled = v.handling.state === "resolved";
  const row = el("li", { class: `alarm ${v.severity}`, "data-id": v.violation_id,
                         on: { click: () => selectViolation(v.violation_id) } },
    el("span", { class: "kind" }, nameOf("kinds", v.kind)), " ", el("span", { class: "plate" }, v.plate),
    el("span", { class: `badge ${v.handling.state}` }, nameOf("handling", v.handling.state)),
    el("div", { class: "meta" }, `${v.carrier_id ?? "—"} · ${t("severity")} ${nameOf("severities", v.severity)} · ${t("since")} ${when(v.started_at)}`),
    el("div", { class: "actions" }, ack, resolve));
  if (v.violation_id === state.selectedViolation) row.classList.add("selected");
  return row;
}

// The list holds what is still to handle: open alarms, and closed ones not resolved.
function listAlarms() {
  const all = [...state.violations.values()].filter((v) => v.status === "open" || v.handling.state !== "resolved")
    .filter(alarmMatches).sort((a, b) => b.started_at.localeCompare(a.started_at));
  const shown = all.slice(0, MAX_ROWS);
  $("alarms").replaceChildren(...(shown.length ? shown.map(alarmRow) : [el("li", { class: "alarm" }, t("noAlarms"))]));
  $("alarm-count").textContent = t("count", shown.length, all.length);
}

let listQueued = false;
function listSoon() {
  if (listQueued) return;
  listQueued = true;
  requestAnimationFrame(() => { listQueued = false; listAlarms(); });
}

function beep() {
  if (state.muted) return;
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.4);
    tone.addEventListener("ended", () => audio.close());
  } catch (ignored) { /* no audio device: the flash still shows it */ }
}

function flash(id) {
  const row = document.querySelector(`#alarms li[data-id="${CSS.escape(id)}"]`);
  if (row) row.classList.add("flash");
}

async function acknowledge(id) {
  try {
    const v = await api(`/v1/violations/${encodeURIComponent(id)}/ack`, { method: "POST", body: {} });
    onHandled(v);
  } catch (error) { handleFailure(error); }
}

function askResolution(id) {
  const v = state.violations.get(id);
  state.resolving = id;
  $("resolve-what").textContent = `${nameOf("kinds", v.kind)} · ${v.plate} · ${when(v.started_at)}`;
  $("resolve-note").value = "";
  $("resolve-dialog").showModal();
}

async function resolveChosen(event) {
  event.preventDefault();
  const id = state.resolving;
  const note = $("resolve-note").value.trim();
  const body = { disposition: $("disposition").value, ...(note ? { note } : {}) };
  $("resolve-dialog").close();
  try {
    onHandled(await api(`/v1/violations/${encodeURIComponent(id)}/resolve`, { method: "POST", body }));
  } catch (error) {
    if (error.status === 409) { showError(t("resolvedAlready")); onHandled(await api(`/v1/violations/${encodeURIComponent(id)}`)); }
    else handleFailure(error);
  }
}

function onHandled(v) {
  state.violations.set(v.violation_id, v);
  listAlarms();
  if (state.selected === v.plate) showDetails(v.plate);
}

// -- details, track ------------------------------------------------------------------
async function selectViolation(id) {
  const v = state.violations.get(id);
  state.selectedViolation = id;
  if (state.violationMarker) state.violationMarker.remove();
  state.violationMarker = L.circleMarker([v.lat, v.lon], { radius: 14, color: "#c0392b", weight: 3, fill: false, dashArray: "3 3" })
    .addTo(state.map);
  state.map.setView([v.lat, v.lon], Math.max(state.map.getZoom(), 15), { animate: false });
  listAlarms();
  await selectVehicle(v.plate, false);
}

async function selectVehicle(plate, centre = true) {
  const previous = state.selected;
  state.selected = plate;
  if (previous && state.vehicles.has(previous)) drawVehicle(previous);
  const v = state.vehicles.get(plate);
  if (v) { drawVehicle(plate); if (centre) state.map.setView([v.lat, v.lon], Math.max(state.map.getZoom(), 14), { animate: false }); }
  await showDetails(plate);
}

async function showDetails(plate) {
  let d;
  try {
    d = await api(`/v1/vehicles/${encodeURIComponent(plate)}?crs=${state.crs}`);
  } catch (error) {
    if (error.status === 404) { showError(t("notFound", plate)); return; }
    handleFailure(error);
    return;
  }
  $("d-plate").textContent = d.plate;
  const p = d.position ? d.position.properties : null;
  const w = d.active_waybill;
  $("d-facts").replaceChildren(...facts([
    [t("carrier"), [d.carrier.name, d.carrier.id].filter(Boolean).join(" · ")],
    [t("status"), p ? `${nameOf("statuses", p.status)} · ${p.speed_kmh} km/h` : t("noPosition")],
    [t("position"), p ? when(p.ts) : t("noPosition")],
    [t("tank"), `${d.tank_capacity_kg} kg`], [t("hazard"), d.hazard_classes.join(", ")],
    [t("permit"), d.permit_valid_until], [t("inspection"), d.tank_inspection_valid_until],
    [t("waybill"), w ? `${w.id} · UN${w.un_number} · ${w.quantity_kg} kg · ${w.origin.name ?? ""} → ${w.destination.name ?? ""}` : t("noWaybill")],
  ]).childNodes);
  for (const v of d.open_violations) mergeViolation(v);
  $("d-violations").replaceChildren(...(d.open_violations.length ? d.open_violations.map((v) => alarmRow(state.violations.get(v.violation_id)))
                                                               : [el("li", { class: "alarm" }, t("none"))]));
  $("details").hidden = false;
}

function localInput(date) {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}

function clearTrack() {
  if (state.track) state.track.remove();
  state.track = null;
  state.trackData = null;
  clearInterval(state.playTimer);
  $("t-play").hidden = true;
}

async function showTrack() {
  const plate = state.selected;
  const from = new Date($("t-from").value), to = new Date($("t-to").value);
  const feature = await api(`/v1/vehicles/${encodeURIComponent(plate)}/track?crs=${state.crs}`
                            + `&from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`);
  clearTrack();
  const g = feature.geometry;
  if (!g) { showError(t("noTrack")); return; }
  const points = g.type === "Point" ? [g.coordinates] : g.coordinates;
  const latlngs = points.map(([lon, lat]) => [lat, lon]);
  state.track = L.layerGroup().addTo(state.map);
  if (latlngs.length === 1) {
    // one fix: a hollow diamond-dashed ring and a label, unlike any geofence or vehicle
    L.circleMarker(latlngs[0], { radius: 10, color: "#d35400", weight: 3, dashArray: "2 4", fill: false }).addTo(state.track)
      .bindTooltip(t("onePoint"), { permanent: true, direction: "right" });
    state.map.setView(latlngs[0], Math.max(state.map.getZoom(), 15), { animate: false });
  } else {
    L.polyline(latlngs, { color: "#d35400", weight: 4 }).addTo(state.track);
    L.circleMarker(latlngs[0], { radius: 7, color: "#fff", weight: 2, fillColor: "#27ae60", fillOpacity: 1 }).addTo(state.track)
      .bindTooltip(t("trackStart"), { permanent: true, direction: "left" });
    L.circleMarker(latlngs.at(-1), { radius: 7, color: "#fff", weight: 2, fillColor: "#c0392b", fillOpacity: 1 }).addTo(state.track)
      .bindTooltip(t("trackEnd"), { permanent: true, direction: "right" });
    state.map.fitBounds(L.latLngBounds(latlngs), { padding: [30, 30], animate: false });
  }
  state.trackData = { latlngs, times: feature.properties.times, speeds: feature.properties.speed_kmh,
                      cursor: L.circleMarker(latlngs[0], { radius: 6, color: "#000", fillColor: "#f1c40f", fillOpacity: 1 }).addTo(state.track) };
  $("t-slider").max = String(latlngs.length - 1);
  $("t-slider").value = "0";
  $("t-play").hidden = false;
  showTrackPoint(0);
}

function showTrackPoint(i) {
  const d = state.trackData;
  if (!d) return;
  d.cursor.setLatLng(d.latlngs[i]);
  $("t-point").textContent = `${t("pointOf", i + 1, d.latlngs.length)} · ${when(d.times[i])} · ${d.speeds[i]} km/h`;
}

function playTrack() {
  clearInterval(state.playTimer);
  const slider = $("t-slider");
  if (Number(slider.value) >= Number(slider.max)) slider.value = "0";
  state.playTimer = setInterval(() => {
    const next = Number(slider.value) + 1;
    if (next > Number(slider.max)) { clearInterval(state.playTimer); return; }
    slider.value = String(next);
    showTrackPoint(next);
  }, 200);
}

// -- live state ----------------------------------------------------------------------
async function resync() {
  const [fences, fleet, open, unhandled, acked] = await Promise.all([
    api(`/v1/geofences?crs=${state.crs}`), api(`/v1/vehicles?crs=${state.crs}`),
    allPages(`/v1/violations?status=open&limit=1000&crs=${state.crs}`),
    allPages(`/v1/violations?handling=new&since=${encodeURIComponent(new Date(Date.now() - 86400000).toISOString())}&limit=1000&crs=${state.crs}`),
    allPages(`/v1/violations?handling=acked&since=${encodeURIComponent(new Date(Date.now() - 86400000).toISOString())}&limit=1000&crs=${state.crs}`),
  ]);
  drawFences(fences);
  state.violations.clear();
  for (const v of [...open, ...unhandled, ...acked]) state.violations.set(v.violation_id, v);
  state.alarmed = new Set(open.map((v) => v.plate));
  const seen = new Set();
  for (const f of fleet.features) {
    seen.add(f.id);
    placeVehicle(f.id, f.geometry.coordinates[1], f.geometry.coordinates[0], f.properties);
  }
  for (const [plate, v] of state.vehicles) {
    if (!seen.has(plate)) { if (v.marker) v.marker.remove(); state.vehicles.delete(plate); }
  }
  refreshCarriers();
  listAlarms();
  document.body.dataset.synced = String(Number(document.body.dataset.synced || 0) + 1);
}

// Positions are drawn in batches, at most every POSITION_BATCH_MS (the newest of each
// vehicle): each batch repaints the canvas once, whereas a position a message repainted it
// for every animation frame with 5 000 moving vehicles (bench/RESULTS.md, the console).
const POSITION_BATCH_MS = 250;
let pendingPositions = new Map();
let positionTimer = null;

function drawPositions() {
  positionTimer = null;
  const batch = pendingPositions;
  pendingPositions = new Map();
  let newcomer = false;
  for (const m of batch.values()) {
    const known = state.vehicles.get(m.plate);
    if (known && known.props.ts > m.ts) continue;  // older than what is shown
    newcomer ||= !known;
    placeVehicle(m.plate, m.lat, m.lon, { plate: m.plate, carrier_id: m.carrier_id, ts: m.ts, speed_kmh: m.speed_kmh,
                                          heading_deg: m.heading_deg, status: m.status, open_violations: [] });
  }
  if (newcomer) refreshCarriers();
}

function applyLive(m) {
  if (m.type === "position") {
    pendingPositions.set(m.plate, m);
    positionTimer ??= setTimeout(drawPositions, POSITION_BATCH_MS);
  } else if (m.type === "violation") {
    const v = m.violation;
    const before = mergeViolation(v);
    markAlarmed(v.plate);
    const vehicle = state.vehicles.get(v.plate);
    if (v.kind === "offline" && vehicle) {
      // offline is a violation of its own: open while the vehicle is silent
      vehicle.props = { ...vehicle.props, status: v.status === "open" ? "offline" : vehicle.props.status };
    }
    if (vehicle) drawVehicle(v.plate);
    listSoon();
    if (!before && v.status === "open" && v.severity === "high") {
      beep();
      requestAnimationFrame(() => requestAnimationFrame(() => flash(v.violation_id)));
    }
  }
}

function onLiveState(what, info) {
  const badge = $("live-state");
  badge.className = "state";
  document.body.dataset.live = what;
  if (what === "live") {
    badge.textContent = t("live");
    badge.classList.add("live");
    $("banner").hidden = true;
  } else if (what === "connecting") {
    badge.textContent = t("connecting");
  } else if (what === "down") {
    badge.textContent = t("down");
    badge.classList.add("down");
    $("banner").textContent = t("banner", info.seconds, info.attempt);
    $("banner").hidden = false;
  } else {
    handleFailure(info);
  }
}

// -- start ---------------------------------------------------------------------------
function handleFailure(error) {
  if (error && (error.status === 401 || error.status === 403)) { askToken(t("tokenRefused")); return; }
  showError(error);
}

function askToken(message = "") {
  if (state.feed) state.feed.close();
  forgetToken();
  $("login-error").textContent = message;
  $("login").hidden = false;
  $("token").focus();
}

function fillSelect(id, group, codes) {
  $(id).replaceChildren(el("option", { value: "" }, t("all")), ...codes.map((c) => el("option", { value: c }, nameOf(group, c))));
}

function wireControls() {
  fillSelect("f-kind", "kinds", Object.keys(NAMES.zh.kinds));
  fillSelect("f-status", "statuses", Object.keys(STATUS_COLOURS));
  fillSelect("f-handling", "handling", Object.keys(HANDLING_RANK));
  fillSelect("f-severity", "severities", ["high", "medium", "low"]);
  $("f-carrier").replaceChildren(el("option", { value: "" }, t("all")));
  $("disposition").replaceChildren(...Object.keys(NAMES.zh.dispositions).map((c) => el("option", { value: c }, nameOf("dispositions", c))));
  for (const id of ["f-kind", "f-handling", "f-severity"]) $(id).addEventListener("change", listAlarms);
  for (const id of ["f-status", "f-carrier"]) {
    $(id).addEventListener("change", () => {
      state.filters = { status: $("f-status").value, carrier: $("f-carrier").value };
      for (const plate of state.vehicles.keys()) drawVehicle(plate);
      listAlarms();
    });
  }
  $("plate").addEventListener("input", listSoon);
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = $("plate").value.replace(/[\s·]/g, "").toUpperCase();
    if (!wanted) return;
    const plate = [...state.vehicles.keys()].find((p) => p.toUpperCase() === wanted)
      || [...state.vehicles.keys()].find((p) => p.toUpperCase().includes(wanted));
    if (plate) selectVehicle(plate).catch(handleFailure); else showError(t("notFound", wanted));
  });
  $("mute").addEventListener("click", () => { state.muted = !state.muted; $("mute").textContent = t(state.muted ? "unmute" : "mute"); });
  $("logout").addEventListener("click", () => askToken());
  $("error-close").addEventListener("click", () => { $("error").hidden = true; });
  $("d-close").addEventListener("click", () => { $("details").hidden = true; state.selected = null; clearTrack(); });
  $("t-show").addEventListener("click", () => showTrack().catch(handleFailure));
  $("t-clear").addEventListener("click", clearTrack);
  $("t-slider").addEventListener("input", () => { clearInterval(state.playTimer); showTrackPoint(Number($("t-slider").value)); });
  $("t-run").addEventListener("click", playTrack);
  $("resolve-form").addEventListener("submit", (event) => resolveChosen(event).catch(handleFailure));
  $("resolve-cancel").addEventListener("click", () => $("resolve-dialog").close());
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) return;
    setToken(token);
    $("token").value = "";
    $("login").hidden = true;
    start().catch(handleFailure);
  });
  const now = new Date();
  $("t-to").value = localInput(new Date(now.getTime() + 3600000));
  $("t-from").value = localInput(new Date(now.getTime() - 86400000));
}

async function createMap() {
  const config = await (await fetch("/console/config.json")).json();
  state.crs = config.crs;
  state.map = L.map("map", { preferCanvas: true, attributionControl: Boolean(config.basemap) }).setView([29.88, 121.85], 12);
  if (config.basemap) {
    L.tileLayer(config.basemap.url, { subdomains: "1234", maxZoom: 18, attribution: "basemap" }).addTo(state.map);
  } else {
    $("map").classList.add("plain");
  }
  const outline = await (await fetch(`/console/district.geojson?crs=${state.crs}`)).json();
  L.geoJSON(outline, { style: { color: "#555", weight: 2, dashArray: "6 6", fill: !config.basemap, fillColor: "#fff", fillOpacity: 0.6 },
                       interactive: false }).addTo(state.map);
  state.fenceCentres = L.layerGroup().addTo(state.map);
  state.vehicleLayer = L.layerGroup().addTo(state.map);
  state.map.on("zoomend", sizeRoads);
  legend();
}

async function start() {
  takeTokenFromFragment();
  if (!currentToken()) { askToken(); return; }
  await api("/v1/vehicles?bbox=0,0,0.000001,0.000001");  // the token may read the fleet (else: the login form)
  if (state.feed) state.feed.close();
  state.feed = new LiveFeed({ crs: state.crs, resync, apply: applyLive, onState: onLiveState });
  state.feed.open();
}

window.addEventListener("error", (event) => showError(event.message));
window.addEventListener("unhandledrejection", (event) => showError(event.reason));

document.addEventListener("DOMContentLoaded", async () => {
  translatePage();
  wireControls();
  if (typeof L === "undefined") { showError(t("noLeaflet")); return; }
  try {
    await createMap();
    await start();
  } catch (error) {
    handleFailure(error);
  }
});
