// The safety office's console: geofences as the rules see them, the fleet live, the alarm
// list and its handling (报警处置), a vehicle's details and track. Values from the API are
// only ever set as text (textContent, DOM nodes); handlers are attached here, never inline.
"use strict";

const FENCE_COLOURS = { chem_park: "#8e44ad", parking: "#2e86c1", filling_station: "#17a589",
                        restricted_road: "#c0392b", no_stopping: "#e67e22", speed_zone: "#7f8c8d" };
const STATUS_COLOURS = { moving: "#1e8449", stopped: "#2e86c1", offline: "#7f8c8d" };
const HANDLING_RANK = { new: 0, acked: 1, resolved: 2 };
const MAX_ROWS = 300;  // alarm rows drawn at once; the count says how many match

const state = {
  crs: "wgs84", map: null, fences: null, roads: [], vehicleLayer: null, track: null, trackData: null,
  vehicles: new Map(),    // plate -> {marker, props, lat, lon, key (of the style drawn), shown}
  alarmed: new Set(),     // plates holding an open violation
  filters: { status: "", carrier: "", alarmed: false },
  violations: new Map(),  // violation_id -> Violation (with handling)
  selected: null, selectedViolation: null, violationMarker: null, feed: null, muted: false, resolving: null,
  playTimer: null,
  flashing: new Map(),    // violation_id -> until when (ms) its row flashes: kept across redraws of the list
};

// -- live state ----------------------------------------------------------------------
async function resync() {
  const [fences, fleet, open, unhandled, acked] = await Promise.all([
    api(`/v1/geofences?crs=${state.crs}`), api(`/v1/vehicles?crs=${state.crs}`),
    allPages(`/v1/violations?status=open&limit=1000&crs=${state.crs}`),
    allPages(`/v1/violations?handling=new&since=${encodeURIComponent(new Date(Date.now() - 86400000).toISOString())}&limit=1000&crs=${state.crs}`),
    allPages(`/v1/violations?handling=acked&since=${encodeURIComponent(new Date(Date.now() - 86400000).toISOString())}&limit=1000&crs=${state.crs}`),
  ]);
  drawFences(fences);
  await loadCheckpoints();
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
  fleetSoon();
  ringForSos();
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
    placeVehicle(m.plate, m.lat, m.lon, { plate: m.plate, carrier_id: m.carrier_id, carrier_name: known?.props.carrier_name,
                                          ts: m.ts, speed_kmh: m.speed_kmh, heading_deg: m.heading_deg, status: m.status,
                                          open_violations: [] });
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
    ringForSos();
    if (!before && v.status === "open" && v.severity === "high") {
      beep();
      flash(v.violation_id);
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
      Object.assign(state.filters, { status: $("f-status").value, carrier: $("f-carrier").value });
      for (const plate of state.vehicles.keys()) drawVehicle(plate);
      listAlarms();
    });
  }
  $("plate").addEventListener("input", listSoon);
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = normalisePlate($("plate").value);
    if (!wanted) return;
    const plate = [...state.vehicles.keys()].find((p) => p.toUpperCase() === wanted)
      || [...state.vehicles.keys()].find((p) => p.toUpperCase().includes(wanted));
    if (plate) selectVehicle(plate).catch(handleFailure); else showError(t("notFound", wanted));
  });
  $("mute").addEventListener("click", () => { state.muted = !state.muted; $("mute").textContent = t(state.muted ? "unmute" : "mute"); });
  $("logout").addEventListener("click", () => askToken());
  $("error-close").addEventListener("click", () => { $("error").hidden = true; });
  $("d-close").addEventListener("click", () => {
    const was = state.selected;
    $("details").hidden = true;
    state.selected = null;
    if (state.vehicles.has(was)) drawVehicle(was);
    clearTrack();
  });
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
  VehicleMarker = vehicleMarkerClass();
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
  watchLabels(state.map);
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
  wireFleet();
  if (typeof L === "undefined") { showError(t("noLeaflet")); return; }
  try {
    await createMap();
    wireIncidents();
    await start();
  } catch (error) {
    handleFailure(error);
  }
});
