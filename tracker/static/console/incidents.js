// The incident desk (事故处置): open an incident from a vehicle's panel or a point on the
// map, draw its zones (isolation, protective downwind, fire), list the sites, vehicles and
// responders around it, and keep the list of incidents. Answers come in the map's crs
// (`crs=gcj02` with a Chinese basemap); a point picked on a GCJ-02 map is sent in WGS-84,
// as the API takes coordinates, by the inverse below.
"use strict";

const ZONE_STYLES = {
  protective: { color: "#e67e22", weight: 2, fillOpacity: 0.15 },
  fire: { color: "#8e44ad", weight: 2, dashArray: "6 4", fillOpacity: 0.06 },
  isolation: { color: "#c0392b", weight: 2, fillOpacity: 0.3 },
};
const desk = { layer: null, current: null, picking: false, where: null };

// GCJ-02 -> WGS-84, as geofence/gcj02.py does it: the forward offset, inverted by iterating
// to under 1e-9 degrees (a tenth of a millimetre). Outside China the offset is zero.
function gcjOffset(lon, lat) {
  if (!(lon > 73.66 && lon < 135.05 && lat > 3.86 && lat < 53.55)) return [0, 0];
  const a = 6378245.0, ee = 0.00669342162296594323, pi = Math.PI, x = lon - 105.0, y = lat - 35.0;
  let dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dlat += (20.0 * Math.sin(6.0 * x * pi) + 20.0 * Math.sin(2.0 * x * pi)) * 2.0 / 3.0;
  dlat += (20.0 * Math.sin(y * pi) + 40.0 * Math.sin(y / 3.0 * pi)) * 2.0 / 3.0;
  dlat += (160.0 * Math.sin(y / 12.0 * pi) + 320.0 * Math.sin(y * pi / 30.0)) * 2.0 / 3.0;
  let dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dlon += (20.0 * Math.sin(6.0 * x * pi) + 20.0 * Math.sin(2.0 * x * pi)) * 2.0 / 3.0;
  dlon += (20.0 * Math.sin(x * pi) + 40.0 * Math.sin(x / 3.0 * pi)) * 2.0 / 3.0;
  dlon += (150.0 * Math.sin(x / 12.0 * pi) + 300.0 * Math.sin(x / 30.0 * pi)) * 2.0 / 3.0;
  const radlat = lat / 180.0 * pi, magic = 1 - ee * Math.sin(radlat) ** 2, sqrtmagic = Math.sqrt(magic);
  return [(dlon * 180.0) / (a / sqrtmagic * Math.cos(radlat) * pi),
          (dlat * 180.0) / ((a * (1 - ee)) / (magic * sqrtmagic) * pi)];
}

function toWgs84(lat, lon) {
  if (state.crs !== "gcj02") return [lat, lon];
  let [wlon, wlat] = [lon, lat];
  for (let i = 0; i < 10; i++) {
    const [dlon, dlat] = gcjOffset(wlon, wlat);
    const [elon, elat] = [wlon + dlon - lon, wlat + dlat - lat];
    [wlon, wlat] = [wlon - elon, wlat - elat];
    if (Math.abs(elon) < 1e-9 && Math.abs(elat) < 1e-9) break;
  }
  return [wlat, wlon];
}

function wireIncidents() {
  $("i-kind").replaceChildren(...Object.keys(NAMES.zh.incidentKinds).map((c) => el("option", { value: c }, nameOf("incidentKinds", c))));
  $("i-spill").replaceChildren(...Object.keys(NAMES.zh.spills).map((c) => el("option", { value: c }, nameOf("spills", c))));
  $("incidents-toggle").addEventListener("click", () => {
    $("incident-panel").hidden = !$("incident-panel").hidden;
    if (!$("incident-panel").hidden) loadIncidents().catch(handleFailure);
  });
  $("i-new").addEventListener("click", () => {
    desk.picking = true;
    $("i-hint").hidden = false;
    $("map").style.cursor = "crosshair";
  });
  state.map.on("click", (event) => {
    if (!desk.picking) return;
    desk.picking = false;
    $("i-hint").hidden = true;
    $("map").style.cursor = "";
    const [lat, lon] = toWgs84(event.latlng.lat, event.latlng.lng);
    askIncident({ lat: Number(lat.toFixed(6)), lon: Number(lon.toFixed(6)) });
  });
  $("d-incident").addEventListener("click", () => { if (state.selected) askIncident({ plate: state.selected }); });
  $("incident-form").addEventListener("submit", (event) => openIncident(event).catch(handleFailure));
  $("i-cancel").addEventListener("click", () => $("incident-dialog").close());
}

function askIncident(where) {
  desk.where = where;
  $("incident-form").reset();  // each incident from its own facts, not the last one's
  $("i-where").textContent = where.plate || `${where.lat}, ${where.lon}`;
  $("incident-dialog").showModal();
}

function incidentBody() {
  const body = { ...desk.where, kind: $("i-kind").value, spill: $("i-spill").value };
  const un = $("i-un").value.trim();
  if (un) body.un_number = un;
  for (const [id, key] of [["i-wind-from", "wind_from_deg"], ["i-wind-speed", "wind_speed_ms"]]) {
    if ($(id).value !== "") body[key] = Number($(id).value);
  }
  const note = $("i-note").value.trim();
  if (note) body.note = note;
  return body;
}

async function openIncident(event) {
  event.preventDefault();
  const incident = await api(`/v1/incidents?crs=${state.crs}`, { method: "POST", body: incidentBody() });
  $("incident-dialog").close();
  $("incident-panel").hidden = false;
  showIncident(incident);
  await loadIncidents();
}

function drawIncident(incident) {
  if (desk.layer) desk.layer.remove();
  desk.layer = L.layerGroup().addTo(state.map);
  for (const name of ["protective", "fire", "isolation"]) {  // the largest first, so the smaller stay clickable
    const zone = incident.zones[name];
    if (!zone) continue;
    L.geoJSON(zone.geometry, { style: ZONE_STYLES[name] })
      .bindTooltip(`${t(name)} ${t("metres", zone.radius_m ?? zone.distance_m)}`).addTo(desk.layer);
  }
  L.circleMarker([incident.lat, incident.lon], { radius: 7, color: "#000", fillColor: "#c0392b", fillOpacity: 1 })
    .addTo(desk.layer);
  state.map.fitBounds(L.geoJSON(incident.zones.protective.geometry).getBounds(), { maxZoom: 15, animate: false });
}

function listOf(items, row) {
  return items.length ? items.map((item) => el("li", { class: "alarm" }, ...row(item))) : [el("li", { class: "alarm" }, t("nothing"))];
}

function showIncident(incident) {
  desk.current = incident;
  drawIncident(incident);
  const z = incident.zones;
  const cargo = incident.cargo;
  const rows = [
    [t("incidentKind"), `${nameOf("incidentKinds", incident.kind)} · ${t(incident.status === "open" ? "incidentOpen" : "incidentClosed")}`],
    [t("point"), incident.plate || `${incident.lat}, ${incident.lon}`],
    [t("openedAt"), `${when(incident.opened_at)} · ${t(incident.night ? "night" : "day")}`],
    [t("cargo"), cargo ? [cargo.un_number && `UN${cargo.un_number}`, cargo.name_zh, cargo.name_en].filter(Boolean).join(" ") : t("unknownCargo")],
    [t("basis"), `${nameOf("bases", incident.cargo_basis)}${cargo ? " · " + cargo.source : ""}`],
    [t("isolation"), t("metres", z.isolation.radius_m)],
    [t("protective"), `${t("metres", z.protective.distance_m)} · ${z.protective.downwind_deg === null ? t("noWind")
                                                                   : `${t("downwind")} ${z.protective.downwind_deg}°`}`],
  ];
  if (z.fire) rows.push([t("fire"), t("metres", z.fire.radius_m)]);
  const closeButton = incident.status === "open"
    ? el("button", { type: "button", id: "i-close", on: { click: () => closeIncident().catch(handleFailure) } }, t("closeIncident")) : null;
  $("i-current").replaceChildren(
    el("h3", {}, incident.incident_id), facts(rows), closeButton,
    el("h3", {}, t("zoneSites"), ` (${incident.sites.length})`),
    el("ul", { class: "alarms", id: "i-sites" }, ...listOf(incident.sites, (s) => [
      el("span", { class: "kind" }, s.name), el("div", { class: "meta" },
        `${nameOf("siteKinds", s.kind)} · ${nameOf("zones", s.zone)} · ${t("metres", s.distance_m)}`)])),
    el("h3", {}, t("zoneVehicles"), ` (${incident.vehicles.length})`),
    el("ul", { class: "alarms", id: "i-vehicles" }, ...listOf(incident.vehicles, (v) => [
      el("span", { class: "kind" }, v.plate), el("div", { class: "meta" },
        `${v.un_number ? "UN" + v.un_number + " · " : ""}${nameOf("zones", v.zone)} · ${t("metres", v.distance_m)}`)])),
    el("h3", {}, t("responders")),
    el("ul", { class: "alarms", id: "i-responders" }, ...listOf(incident.responders, (r) => [
      el("span", { class: "kind" }, r.name), el("div", { class: "meta" }, `${nameOf("siteKinds", r.kind)} · ${t("metres", r.distance_m)}`)])),
  );
}

async function closeIncident() {
  const incident = await api(`/v1/incidents/${encodeURIComponent(desk.current.incident_id)}?crs=${state.crs}`,
                             { method: "PATCH", body: { status: "closed" } });
  showIncident(incident);
  await loadIncidents();
}

async function loadIncidents() {
  const page = await api(`/v1/incidents?limit=50&crs=${state.crs}`);
  $("i-list").replaceChildren(...(page.items.length ? page.items.map((incident) => el("li", {
    class: "alarm" + (incident.status === "open" ? " high" : ""),
    on: { click: () => api(`/v1/incidents/${encodeURIComponent(incident.incident_id)}?crs=${state.crs}`)
      .then(showIncident).catch(handleFailure) },
  }, el("span", { class: "kind" }, `${nameOf("incidentKinds", incident.kind)} · ${incident.plate || incident.incident_id}`),
     el("div", { class: "meta" }, `${when(incident.opened_at)} · ${t(incident.status === "open" ? "incidentOpen" : "incidentClosed")}`)))
    : [el("li", { class: "alarm" }, t("noIncidents"))]));
}
