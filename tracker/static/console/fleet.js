// The fleet list (车队): every vehicle with a position, grouped by carrier, with its status
// and open alarms; the counts by status as header chips that filter the list and the map;
// a search by plate or carrier; plates labelled beside the markers when zoomed in.
// It draws from what the page holds already (state.vehicles, state.violations), at most
// once an animation frame (fleetSoon), and touches only the rows whose content changed:
// the live feed moves hundreds of vehicles a second, and re-making 668 rows each time
// would stall the page.
"use strict";

const LABEL_ZOOM = 14;  // plates beside the markers from this zoom on (a few streets in view)
const STATUS_ORDER = ["moving", "stopped", "offline"];

const fleet = {
  rows: new Map(),      // plate -> {node, button, key, carrier, hidden}
  groups: new Map(),    // carrier id ("" if none) -> {node, head, list, key, order, hidden}
  names: new Map(),     // carrier id -> name, from GET /v1/vehicles (live positions carry no name)
  labels: new Map(),    // plate -> Leaflet tooltip on the map
  collapsed: new Set(), // carrier ids folded by the operator
  queued: false, selected: null,
};

// A plate as the API compares plates (README, "plates are normalised"): NFKC (full-width
// letters become ASCII), without spaces, middle dots or invisible characters, upper case;
// so 浙b 12345, 浙Ｂ·12345 and 浙B12345 are one plate.
function normalisePlate(text) {
  return text.normalize("NFKC").replace(/[\s·・•\p{Cf}]/gu, "").toUpperCase();
}

function carrierName(id) {
  return id ? fleet.names.get(id) || id : t("noCarrier");
}

function fleetSoon() {
  if (fleet.queued) return;
  fleet.queued = true;
  requestAnimationFrame(() => { fleet.queued = false; renderFleet(); });
}

// -- the list ------------------------------------------------------------------------
function statusDot(status) {
  const dot = el("span", { class: "dot", "aria-hidden": "true" });
  dot.style.background = STATUS_COLOURS[status] || "#333";
  return dot;
}

function vehicleRow(plate) {
  const button = el("button", { type: "button", class: "vehicle", "data-plate": plate,
                                on: { click: () => selectVehicle(plate).catch(handleFailure) } });
  const row = { node: el("li", {}, button), button, key: null, carrier: null, hidden: false };
  fleet.rows.set(plate, row);
  return row;
}

function fillRow(row, plate, p, alarms) {
  const what = p.status === "moving" ? `${nameOf("statuses", p.status)} ${Math.round(p.speed_kmh)} km/h`
                                     : nameOf("statuses", p.status);
  row.button.className = `vehicle ${p.status}${alarms ? " alarmed" : ""}${plate === state.selected ? " selected" : ""}`;
  row.button.replaceChildren(statusDot(p.status), el("span", { class: "plate" }, plate),
                             el("span", {}, alarms ? el("span", { class: "alarm-n" }, t("alarmCount", alarms)) : ""),
                             el("span", { class: "what" }, what));
}

function carrierGroup(id) {
  const fold = () => { fleet.collapsed[fleet.collapsed.has(id) ? "delete" : "add"](id); fleetSoon(); };
  const head = el("button", { type: "button", class: "carrier-head", "aria-expanded": "true", on: { click: fold } });
  const list = el("ul", { class: "vehicles" });
  const group = { node: el("li", { class: "carrier", "data-carrier": id }, head, list), head, list,
                  key: null, order: "", hidden: false };
  fleet.groups.set(id, group);
  return group;
}

function fillHead(group, id, tally, folded) {
  // each count a dot for the eye and its word for a screen reader
  const counts = STATUS_ORDER.filter((s) => tally[s]).map((s) => el("span", { class: "n", title: nameOf("statuses", s) },
    statusDot(s), el("span", { class: "unseen" }, nameOf("statuses", s)), el("b", {}, tally[s])));
  if (tally.alarmed) {  // vehicles with an open alarm, as the chips count them
    counts.push(el("span", { class: "n alarmed", title: t("alarmed") }, el("span", { class: "dot ring", "aria-hidden": "true" }),
                   el("span", { class: "unseen" }, t("alarmed")), el("b", {}, tally.alarmed)));
  }
  group.head.setAttribute("aria-expanded", String(!folded));
  group.head.replaceChildren(el("span", { class: "name" }, carrierName(id)), el("span", { class: "tally" }, ...counts,
                             el("span", { class: "total" }, t("vehicles", tally.all))));
}

function openAlarmsByPlate() {
  const counts = new Map();
  for (const v of state.violations.values()) if (v.status === "open") counts.set(v.plate, (counts.get(v.plate) || 0) + 1);
  return counts;
}

function setHidden(thing, hidden) {
  if (thing.hidden !== hidden) { thing.hidden = hidden; thing.node.hidden = hidden; }
}

function newTally() {
  return { moving: 0, stopped: 0, offline: 0, alarmed: 0, all: 0, shown: 0 };
}

function matches(plate, carrier, status, alarms, query) {
  const f = state.filters;
  return (!f.status || status === f.status) && (!f.carrier || carrier === f.carrier) && (!f.alarmed || alarms > 0)
    && (!query || normalisePlate(plate).includes(query) || normalisePlate(carrierName(carrier)).includes(query)
        || normalisePlate(carrier).includes(query));
}

// Each row filled again only when what it shows changed, hidden or shown as the filters
// say; returns each carrier's plates (with their status' rank) and counts, and the fleet's.
function updateRows(query) {
  const alarms = openAlarmsByPlate();
  const fleetTally = newTally(), members = new Map(), tallies = new Map();
  for (const [plate, v] of state.vehicles) {
    const p = v.props, carrier = p.carrier_id || "", n = alarms.get(plate) || 0;
    if (p.carrier_name) fleet.names.set(carrier, p.carrier_name);
    const row = fleet.rows.get(plate) || vehicleRow(plate);
    const key = `${p.status}|${Math.round(p.speed_kmh)}|${n}|${plate === state.selected}`;
    if (row.key !== key) { row.key = key; fillRow(row, plate, p, n); }
    const visible = matches(plate, carrier, p.status, n, query);
    setHidden(row, !visible);
    if (!members.has(carrier)) { members.set(carrier, []); tallies.set(carrier, newTally()); }
    members.get(carrier).push([STATUS_ORDER.indexOf(p.status), plate]);
    for (const tally of [tallies.get(carrier), fleetTally]) {
      tally[p.status] += 1; tally.all += 1; tally.alarmed += n ? 1 : 0; tally.shown += visible ? 1 : 0;
    }
  }
  for (const [plate, row] of fleet.rows) if (!state.vehicles.has(plate)) { row.node.remove(); fleet.rows.delete(plate); }
  return { fleetTally, members, tallies };
}

// Carriers by name (an unregistered one last); within one moving, stopped, offline, each
// by plate. Nodes move only when an order changed.
function placeGroups(members, tallies, query) {
  for (const [id, group] of fleet.groups) if (!members.has(id)) { group.node.remove(); fleet.groups.delete(id); }
  const list = $("fleet-list");
  const ids = [...members.keys()].sort((a, b) => (a ? 0 : 1) - (b ? 0 : 1)
                                                 || carrierName(a).localeCompare(carrierName(b), "zh-CN"));
  let placed = list.firstElementChild;
  for (const id of ids) {
    const group = fleet.groups.get(id) || carrierGroup(id);
    const tally = tallies.get(id), folded = fleet.collapsed.has(id) && !query;
    const order = members.get(id).sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1])).map(([, plate]) => plate);
    const orderKey = order.join("\n");
    if (group.order !== orderKey) {
      group.order = orderKey;
      group.list.append(...order.map((plate) => fleet.rows.get(plate).node));
    }
    const key = `${JSON.stringify(tally)}|${folded}|${carrierName(id)}`;
    if (group.key !== key) { group.key = key; fillHead(group, id, tally, folded); group.list.hidden = folded; }
    setHidden(group, tally.shown === 0);
    if (group.node !== placed) list.insertBefore(group.node, placed); else placed = placed.nextElementSibling;
  }
}

function renderFleet() {
  const query = normalisePlate($("fleet-search").value);
  const { fleetTally, members, tallies } = updateRows(query);
  // Moving a node takes the focus away from a button inside it: a keyboard user walking
  // the list keeps their place whatever the live feed reorders.
  const focused = $("fleet-list").contains(document.activeElement) ? document.activeElement : null;
  placeGroups(members, tallies, query);
  if (focused && focused.isConnected && document.activeElement !== focused) focused.focus({ preventScroll: true });
  $("fleet-empty").hidden = fleetTally.shown > 0 || fleetTally.all === 0;
  $("fleet-count").textContent = t("fleetCount", fleetTally.shown, fleetTally.all);
  for (const chip of $("fleet-chips").children) {
    const filter = chip.dataset.filter;
    chip.querySelector("b").textContent = String(fleetTally[filter]);
    chip.setAttribute("aria-pressed", String(filter === "alarmed" ? state.filters.alarmed : state.filters.status === filter));
  }
  if (state.selected !== fleet.selected) {  // chosen on the map or in the alarms: shown in the list too
    fleet.selected = state.selected;
    const row = fleet.rows.get(state.selected);
    if (row && !$("fleet-list").contains(document.activeElement)) row.button.scrollIntoView({ block: "nearest" });
  }
  drawLabels();
  document.body.dataset.fleetRenders = String(Number(document.body.dataset.fleetRenders || 0) + 1);
}

// -- plates on the map ---------------------------------------------------------------
// Labels only for the vehicles in view (and a margin) at LABEL_ZOOM and closer, so their
// number stays that of a few streets' vehicles whatever the fleet's size.
function drawLabels() {
  const map = state.map;
  if (!map) return;
  const view = map.getZoom() >= LABEL_ZOOM ? map.getBounds().pad(0.25) : null;
  for (const [plate, label] of fleet.labels) {
    const v = state.vehicles.get(plate);
    if (!view || !v || !v.shown || !view.contains([v.lat, v.lon])) { label.remove(); fleet.labels.delete(plate); }
  }
  if (!view) return;
  for (const [plate, v] of state.vehicles) {
    if (!v.shown || !view.contains([v.lat, v.lon])) continue;
    let label = fleet.labels.get(plate);
    if (!label) {
      label = L.tooltip({ permanent: true, direction: "right", offset: [10, 0], interactive: false, className: "plate-label" })
        .setLatLng([v.lat, v.lon]).setContent(el("span", {}, plate)).addTo(map);
      fleet.labels.set(plate, label);
    } else if (!label.getLatLng().equals([v.lat, v.lon])) {
      label.setLatLng([v.lat, v.lon]);
    }
    label.getElement().classList.toggle("alarmed", state.alarmed.has(plate));
  }
}

// -- controls ------------------------------------------------------------------------
// The counts as chips at the top of the list, a big number each; a chip filters the list
// and the map (with the header's status select, which it sets).
function toggleChip(filter) {
  if (filter === "alarmed") {
    state.filters.alarmed = !state.filters.alarmed;
    for (const plate of state.vehicles.keys()) drawVehicle(plate);
  } else {
    $("f-status").value = state.filters.status === filter ? "" : filter;
    $("f-status").dispatchEvent(new Event("change"));
  }
  fleetSoon();
}

// Up and down arrows walk the visible rows and carriers; from the search box, down enters
// the list, and up from its top goes back there.
function walkList(event) {
  if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(event.key)) return;
  const buttons = [...$("fleet-list").querySelectorAll("button")].filter((b) => b.offsetParent !== null);
  if (!buttons.length) return;
  event.preventDefault();
  const at = buttons.indexOf(document.activeElement);
  const next = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: buttons.length - 1 }[event.key];
  if (next < 0) $("fleet-search").focus(); else buttons[Math.min(buttons.length - 1, next)].focus();
}

function wireFleet() {
  $("fleet-chips").setAttribute("aria-label", t("fleetCounts"));
  $("fleet-search").setAttribute("aria-label", t("fleetSearch"));
  $("fleet-chips").replaceChildren(...[...STATUS_ORDER, "alarmed"].map((filter) => {
    const dot = filter === "alarmed" ? el("span", { class: "dot ring", "aria-hidden": "true" }) : statusDot(filter);
    return el("button", { type: "button", class: `chip ${filter}`, "data-filter": filter, "aria-pressed": "false",
                          on: { click: () => toggleChip(filter) } },
              el("b", {}, "0"), " ", el("span", {}, dot, filter === "alarmed" ? t("alarmed") : nameOf("statuses", filter)));
  }));
  $("fleet-search").addEventListener("input", fleetSoon);
  $("fleet-search").addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.target.value = ""; fleetSoon(); } else if (event.key === "ArrowDown") walkList(event);
  });
  $("fleet-list").addEventListener("keydown", walkList);
  for (const id of ["f-status", "f-carrier"]) $(id).addEventListener("change", fleetSoon);
}

function watchLabels(map) {
  map.on("zoomend moveend", fleetSoon);
}
