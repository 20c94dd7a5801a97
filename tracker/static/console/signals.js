// What the tankers signal beside their positions: the checkpoints (卡口) on the map and a
// vehicle's plate reads on its track, the SOS ring (a tone repeated and a pinned alarm
// until someone handles it), and the box that sends a text to a vehicle's terminal.
// console.js and alarms.js call the hooks at the bottom; values are set as text only.
"use strict";

const SOS_RING_MS = 2500;  // the tone repeats this often while an SOS waits to be handled
const READ_COLOURS = { matched: "#1e8449", unmatched: "#c0392b", undecided: "#7f8c8d" };
const signals = { checkpoints: new Map(), layer: null, ringTimer: null };

// -- checkpoints ---------------------------------------------------------------------
function drawCheckpoints(collection) {
  if (signals.layer) signals.layer.remove();
  signals.checkpoints.clear();
  signals.layer = L.layerGroup().addTo(state.map);
  for (const f of collection.features) {
    const [lon, lat] = f.geometry.coordinates;
    signals.checkpoints.set(f.id, { lat, lon, name: f.properties.name });
    L.marker([lat, lon], { icon: L.divIcon({ className: "checkpoint", html: "", iconSize: [14, 14] }),
                           title: f.properties.name, keyboard: false })
      .bindPopup(() => el("div", { class: "popup" }, el("b", {}, f.properties.name),
                          facts([[t("checkpoint"), f.id], [t("road"), f.properties.road],
                                 [t("heading"), f.properties.direction_deg ?? "—"]])))
      .addTo(signals.layer);
  }
}

// The map's legend gains the checkpoint's square (once; the legend is map.js's).
function legendCheckpoint() {
  const legend = document.querySelector(".legend");
  if (!legend || legend.querySelector(".swatch.checkpoint")) return;
  legend.append(el("div", {}, el("span", { class: "swatch checkpoint" }), t("checkpoint")));
}

async function loadCheckpoints() {
  try {
    drawCheckpoints(await api(`/v1/checkpoints?crs=${state.crs}`));
    legendCheckpoint();
  } catch (error) {
    if (error.status !== 404) handleFailure(error);
  }
}

// A vehicle's reads in the track's period, each at its checkpoint: green when a fix of the
// vehicle matched it, red when none did (有抓拍无轨迹), grey while undecided or unchecked.
async function showReads(plate, from, to) {
  const answer = await api(`/v1/vehicles/${encodeURIComponent(plate)}/reads`
                           + `?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`);
  if (!state.track) return;
  for (const r of answer.items) {
    const place = signals.checkpoints.get(r.checkpoint_id);
    if (!place) continue;
    const verdict = r.matched === true ? "matched" : r.matched === false ? "unmatched" : "undecided";
    L.circleMarker([place.lat, place.lon], { radius: 13, weight: 2, color: "#fff", fillColor: READ_COLOURS[verdict],
                                             fillOpacity: 1 })
      .bindTooltip(`${r.checkpoint_name ?? r.checkpoint_id} · ${when(r.ts)} · ${t(verdict)}`, { direction: "top" })
      .addTo(state.track);
  }
  $("t-reads").textContent = t("readsShown", answer.items.length);
}

// -- the SOS ring ------------------------------------------------------------------------
function waitingSos() {
  return [...state.violations.values()].filter((v) => v.kind === "sos" && v.handling.state === "new");
}

// Called whenever a violation changes (live, handled, resynced): rings and pins while an
// SOS is new, stops once every one is acknowledged or resolved.
function ringForSos() {
  const waiting = waitingSos().sort((a, b) => b.started_at.localeCompare(a.started_at));
  const pin = $("sos-pin");
  pin.replaceChildren(...waiting.map((v) => el("div", { class: "sos", "data-id": v.violation_id },
    el("b", {}, `${nameOf("kinds", "sos")} · ${v.plate}`), ` ${t("since")} ${when(v.started_at)} `,
    el("button", { type: "button", on: { click: () => selectViolation(v.violation_id).catch(handleFailure) } }, t("locate")),
    el("button", { type: "button", class: "ack", on: { click: () => acknowledge(v.violation_id) } }, t("ack")))));
  pin.hidden = waiting.length === 0;
  document.body.dataset.sos = String(waiting.length);
  if (waiting.length && signals.ringTimer === null) {
    beep();
    signals.ringTimer = setInterval(beep, SOS_RING_MS);
  } else if (!waiting.length && signals.ringTimer !== null) {
    clearInterval(signals.ringTimer);
    signals.ringTimer = null;
  }
}

// -- a text to the driver ----------------------------------------------------------------
function messageBox(details) {
  const box = $("d-message");
  if (!details.terminal) {
    box.replaceChildren(el("p", { class: "meta" }, t("noTerminalForText")));
    return;
  }
  const phone = details.terminal.phone;
  const text = el("textarea", { id: "m-text", rows: "2", maxlength: "200", placeholder: t("textPlaceholder") });
  const tts = el("input", { id: "m-tts", type: "checkbox" });
  tts.checked = true;
  const urgent = el("input", { id: "m-urgent", type: "checkbox" });
  const result = el("span", { id: "m-result", class: "meta" });
  const history = el("ul", { id: "m-history", class: "messages" });
  const send = el("button", { id: "m-send", type: "button", on: { click: async () => {
    const body = { text: text.value.trim(), tts: tts.checked, urgent: urgent.checked };
    if (!body.text) return;
    send.disabled = true;
    try {
      const answer = await api(`/v1/terminals/${encodeURIComponent(phone)}/messages`, { method: "POST", body });
      result.textContent = nameOf("messageStates", answer.state);
      text.value = "";
      await listMessages(phone, history);
    } catch (error) {
      result.textContent = error.message;
    } finally {
      send.disabled = false;
    }
  } } }, t("sendText"));
  box.replaceChildren(el("h3", {}, t("textToDriver")), text,
    el("div", { class: "row" }, el("label", {}, tts, t("tts")), el("label", {}, urgent, t("urgent")), send, result),
    history);
  listMessages(phone, history).catch(handleFailure);
}

async function listMessages(phone, list) {
  const answer = await api(`/v1/terminals/${encodeURIComponent(phone)}/messages?limit=5`);
  list.replaceChildren(...answer.items.map((m) => el("li", {},
    el("span", { class: `badge ${m.state}` }, nameOf("messageStates", m.state)), ` ${when(m.created_at)} · ${m.text}`)));
}
