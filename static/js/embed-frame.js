/*
 * Inside the frame made by embed.js: tell the page around it how tall the thread is and where
 * to scroll (a message after posting, an error, a linked comment), and take the page's accent
 * colour and fonts. Messages go only to the embedding page's origin, and only when that origin
 * is one the site allows (the list is on <html data-allowed-origins>). Nothing here is needed
 * for the thread to work: it reads, posts and shows its messages without it.
 */
(function () {
  "use strict";
  if (window.parent === window) return;
  var root = document.documentElement;
  var allowed = (root.getAttribute("data-allowed-origins") || "").split(" ").filter(Boolean);
  var params = new URLSearchParams(location.search);
  var COLOUR = /^#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?$/;
  var FONT = /^[A-Za-z0-9 ,'"-]{1,200}$/;

  function remembered(key, fresh, valid) {
    var value = fresh && valid.test(fresh) ? fresh : null;
    try {
      if (value) sessionStorage.setItem("carethread-" + key, value);
      else value = sessionStorage.getItem("carethread-" + key);
    } catch (e) { /* Storage may be off: the first page still gets its values. */ }
    return value && valid.test(value) ? value : null;
  }

  // The embedding page: Chromium and Safari say so directly; elsewhere the first page of the
  // frame was asked for by it, and later pages remember it.
  var ancestors = location.ancestorOrigins;
  var referrer = "";
  try { referrer = document.referrer ? new URL(document.referrer).origin : ""; } catch (e) { referrer = ""; }
  var parent = (ancestors && ancestors.length && ancestors[0]) ||
    remembered("parent", allowed.indexOf(referrer) >= 0 ? referrer : null, /^https?:\/\/[^\s\/]+$/);
  if (!parent || allowed.indexOf(parent) < 0) return;

  var accent = remembered("accent", params.get("accent"), COLOUR);
  if (accent) {
    root.style.setProperty("--accent", accent);
    root.style.setProperty("--accent-dark", accent);
  }
  var font = remembered("font", params.get("font"), FONT);
  if (font) root.style.setProperty("--font", font);

  function send(message) { window.parent.postMessage(message, parent); }

  var last = 0;
  function reportHeight() {
    var height = Math.ceil(document.body.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      send({ type: "carethread:height", height: height });
    }
  }

  function scrollTo(element) {
    if (!element) return;
    send({ type: "carethread:scroll", top: element.getBoundingClientRect().top + window.pageYOffset });
  }

  function followHash() {
    var hash = location.hash;
    if (!/^#[A-Za-z][\w-]*$/.test(hash)) return;
    var target = document.getElementById(hash.slice(1));
    if (!target) return;
    if (target.getAttribute("tabindex") === "-1") target.focus({ preventScroll: true });
    scrollTo(target);
  }

  function ready() {
    reportHeight();
    // After posting, the message or the problems come first, wherever the reader was.
    var first = document.getElementById("safety") || document.getElementById("form-problems");
    if (first) {
      if (first.id === "form-problems") first.setAttribute("tabindex", "-1");
      first.focus({ preventScroll: true });
      scrollTo(first);
    } else {
      followHash();
    }
    if (window.ResizeObserver) new ResizeObserver(reportHeight).observe(document.body);
    window.addEventListener("load", reportHeight);
    window.addEventListener("hashchange", followHash);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
