// The map and what is drawn on it: geofences as the rules see them, the legend, vehicles.
"use strict";

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
    [t("carrier"), [p.carrier_name, p.carrier_id].filter(Boolean).join(" · ")],
    [t("status"), nameOf("statuses", p.status)], [t("speed"), `${p.speed_kmh} km/h`],
    [t("heading"), p.heading_deg === null || p.heading_deg === undefined ? "—" : `${Math.round(p.heading_deg)}°`],
    [t("time"), when(p.ts)], [t("openViolations"), kinds.length ? kinds.map((k) => nameOf("kinds", k)).join("、") : t("none")],
  ]), link);
}

// A vehicle: one canvas circle with its heading as a tick on its edge, drawn in the same
// pass (a tick layer of its own per vehicle doubled the canvas's work). Uses Leaflet 1.9's
// canvas internals (_updateCircle, _pxBounds), pinned by package-lock.json.
const TICK = 7;
let VehicleMarker = null;  // made once Leaflet is known to be there (createMap)

function vehicleMarkerClass() {
  return L.CircleMarker.extend({
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
}

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
    && (!state.filters.carrier || p.carrier_id === state.filters.carrier) && (!state.filters.alarmed || alarmed);
  if (shown !== v.shown) {
    v.shown = shown;
    if (shown) v.marker.addTo(state.vehicleLayer); else v.marker.remove();
  }
  fleetSoon();
}

function placeVehicle(plate, lat, lon, props) {
  let v = state.vehicles.get(plate);
  if (!v) { v = { marker: null, key: null, shown: false }; state.vehicles.set(plate, v); }
  Object.assign(v, { lat, lon, props });
  drawVehicle(plate);
}

function refreshCarriers() {
  const select = $("f-carrier"), chosen = select.value;
  const names = new Map();  // carrier id -> its name, listed by name
  for (const { props } of state.vehicles.values()) {
    if (props.carrier_id) names.set(props.carrier_id, props.carrier_name || props.carrier_id);
  }
  const carriers = [...names].sort((a, b) => a[1].localeCompare(b[1], "zh-CN"));
  if (select.options.length - 1 === carriers.length) return;
  select.replaceChildren(el("option", { value: "" }, t("all")), ...carriers.map(([id, name]) => el("option", { value: id }, name)));
  select.value = chosen;
}
