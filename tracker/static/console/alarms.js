// The alarm list and its handling (报警处置), a vehicle's details and its track.
"use strict";

// -- alarms --------------------------------------------------------------------------
// A live event's record with the handling known: the rules' events carry none, and the
// handling only moves forward. Closed and resolved, a violation is done: only its id is
// kept (so a late rules' event about it cannot bring it back as new).
const done = new Set();

function mergeViolation(v) {
  const known = state.violations.get(v.violation_id);
  if (done.has(v.violation_id)) return known || v;
  if (!v.handling) v = { ...v, handling: known ? known.handling : { state: "new", notes: [] } };
  else if (known && HANDLING_RANK[known.handling.state] > HANDLING_RANK[v.handling.state]) v = { ...v, handling: known.handling };
  if (v.status === "closed" && v.handling.state === "resolved") {
    done.add(v.violation_id);
    state.violations.delete(v.violation_id);
  } else {
    state.violations.set(v.violation_id, v);
  }
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
  if (flashing(v.violation_id)) row.classList.add("flash");
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

// A new high alarm's row flashes for FLASH_MS (the CSS animation's 5 × 1 s) however often
// the list is drawn again meanwhile (every live event redraws it).
const FLASH_MS = 5000;

function flash(id) {
  state.flashing.set(id, Date.now() + FLASH_MS);
  listSoon();
}

function flashing(id) {
  const until = state.flashing.get(id);
  if (until === undefined) return false;
  if (until > Date.now()) return true;
  state.flashing.delete(id);
  return false;
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
  mergeViolation(v);
  listAlarms();
  ringForSos();
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
    [t("terminal"), d.terminal ? [d.terminal.phone, `JT/T 808-${d.terminal.header_version}`,
                                  d.terminal.connected ? t("terminalOnline") : t("terminalOffline"),
                                  `${t("lastSeen")} ${when(d.terminal.last_seen_at)}`].join(" · ") : t("noTerminal")],
  ]).childNodes);
  for (const v of d.open_violations) mergeViolation(v);
  $("d-violations").replaceChildren(...(d.open_violations.length ? d.open_violations.map((v) => alarmRow(state.violations.get(v.violation_id)))
                                                               : [el("li", { class: "alarm" }, t("none"))]));
  messageBox(d);
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
  $("t-reads").textContent = "";
}

async function showTrack() {
  const plate = state.selected;
  const from = new Date($("t-from").value), to = new Date($("t-to").value);
  const feature = await api(`/v1/vehicles/${encodeURIComponent(plate)}/track?crs=${state.crs}`
                            + `&from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`);
  clearTrack();
  const g = feature.geometry;
  if (!g) {  // no fix: the cameras may still have seen it (有抓拍无轨迹)
    showError(t("noTrack"));
    state.track = L.layerGroup().addTo(state.map);
    await showReads(plate, from, to);
    return;
  }
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
  await showReads(plate, from, to);
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
