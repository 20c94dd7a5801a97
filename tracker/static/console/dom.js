// DOM helpers: every value goes in as text (append of strings makes text nodes), never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);

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
