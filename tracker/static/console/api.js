// The token, the JSON API and the live feed. The token comes from the login form or once
// from the address's fragment (#token=…, removed from the address bar at once) and is
// kept in sessionStorage for this tab only.
"use strict";

const TOKEN_KEY = "hazmat-token";

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function takeTokenFromFragment() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get("token");
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token.trim());
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function currentToken() { return sessionStorage.getItem(TOKEN_KEY); }
function setToken(token) { sessionStorage.setItem(TOKEN_KEY, token); }
function forgetToken() { sessionStorage.removeItem(TOKEN_KEY); }

async function api(path, options = {}) {
  const headers = { Authorization: "Bearer " + currentToken() };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method: options.method || "GET", headers,
                                   body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  } catch (error) {
    throw new ApiError(0, `${path.split("?")[0]}: ${error.message}`);
  }
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const problem = await response.json();
      detail = problem.detail || problem.title || detail;
    } catch (ignored) { /* not JSON: the status says it */ }
    throw new ApiError(response.status, detail);
  }
  return response.json();
}

// Every page of a paged list (`next` cursors), however many.
async function allPages(path) {
  const items = [];
  let cursor = null;
  do {
    const page = await api(path + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""));
    items.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return items;
}

// The live feed, for ever: subscribe first and hold what arrives, then let `resync` read
// the snapshot, then apply what was held, so that nothing falls between them. A closed
// feed is reopened with growing waits (at most 30 s), and each reopening resyncs.
class LiveFeed {
  constructor({ crs, resync, apply, onState }) {
    Object.assign(this, { crs, resync, apply, onState });
    this.attempts = 0;
    this.ws = null;
    this.timer = null;
  }

  open() {
    clearTimeout(this.timer);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/v1/live?access_token=${encodeURIComponent(currentToken())}`);
    this.ws = ws;
    let held = [];
    this.onState("connecting");
    ws.addEventListener("open", () => ws.send(JSON.stringify({ subscribe: { crs: this.crs } })));
    ws.addEventListener("message", async (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "subscribed") {
        try {
          await this.resync();
        } catch (error) {
          this.onState("failed", error);
          ws.close();
          return;
        }
        for (const m of held) this.apply(m);
        held = null;
        this.attempts = 0;
        this.onState("live");
      } else if (message.type === "error") {
        this.onState("error", new Error(message.error));
      } else if (held) {
        held.push(message);
      } else {
        this.apply(message);
      }
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;  // replaced on purpose
      this.attempts += 1;
      const wait = Math.min(30000, 1000 * 2 ** Math.min(this.attempts - 1, 5)) * (0.75 + Math.random() / 4);
      this.onState("down", { seconds: Math.round(wait / 1000), attempt: this.attempts, code: event.code, reason: event.reason });
      this.timer = setTimeout(() => this.open(), wait);
    });
  }

  close() {
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
  }
}
