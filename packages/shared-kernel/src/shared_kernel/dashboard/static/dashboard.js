// Keeps the page live without a front-end build: every region marked
// data-refresh fetches its server-rendered fragment every few seconds and is
// patched in place. Patching (not replacing) keeps a button that is being
// clicked, an open <details> and the scroll position as they are; rows carry
// ids, so a row whose message changed is replaced, never reused for another.
(() => {
  "use strict";

  const live = document.getElementById("live");
  const lastHtml = new WeakMap();
  let busy = false;

  function same(from, to) {
    return from.nodeType === to.nodeType && from.nodeName === to.nodeName
      && (from.nodeType !== Node.ELEMENT_NODE || from.id === to.id);
  }

  function syncAttributes(from, to) {
    for (const { name } of [...from.attributes]) {
      const userState = name === "open" && from.nodeName === "DETAILS";
      if (!to.hasAttribute(name) && !userState) from.removeAttribute(name);
    }
    for (const { name, value } of [...to.attributes]) {
      if (from.getAttribute(name) !== value) from.setAttribute(name, value);
    }
  }

  function patchChildren(from, to) {
    const old = [...from.childNodes];
    const fresh = [...to.childNodes];
    fresh.forEach((child, i) => (i < old.length ? patch(old[i], child) : from.append(child)));
    old.slice(fresh.length).forEach((child) => child.remove());
  }

  function patch(from, to) {
    if (!same(from, to)) {
      from.replaceWith(to);
    } else if (from.nodeType === Node.ELEMENT_NODE) {
      syncAttributes(from, to);
      patchChildren(from, to);
    } else if (from.nodeValue !== to.nodeValue) {
      from.nodeValue = to.nodeValue;
    }
  }

  async function refresh(region) {
    const response = await fetch(region.dataset.refresh, {
      cache: "no-store", credentials: "same-origin", headers: { accept: "text/html" },
    });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    const html = await response.text();
    if (lastHtml.get(region) === html) return;
    lastHtml.set(region, html);
    const template = document.createElement("template");
    template.innerHTML = html;
    patchChildren(region, template.content);
  }

  function show(text, failed) {
    live.textContent = text;
    live.classList.toggle("failed", failed);
  }

  async function tick(regions) {
    if (busy || document.hidden) return;
    busy = true;
    try {
      await Promise.all(regions.map(refresh));
      show(`live · ${new Date().toLocaleTimeString()}`, false);
    } catch (error) {
      show(`offline (${error.message}), retrying`, true);
    } finally {
      busy = false;
    }
  }

  // Destructive forms ask first; the server needs its CSRF token either way.
  document.addEventListener("submit", (event) => {
    const question = event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  const regions = [...document.querySelectorAll("[data-refresh]")];
  if (regions.length) {
    const every = Number(document.body.dataset.refreshMs) || 2000;
    show("live", false);
    setInterval(() => tick(regions), every);
  }
})();
