/*
 * carethread embed: shows an article's comments in a frame on your own page.
 *
 *   <div id="carethread" data-carethread-article="after-a-miscarriage"></div>
 *   <script src="https://comments.example.org/embed.js" async></script>
 *   <noscript><a href="https://comments.example.org/articles/after-a-miscarriage">Read and add comments</a></noscript>
 *
 * Optional attributes on the element: data-carethread-accent="#1d5f73" (a colour in #rgb or
 * #rrggbb), data-carethread-font='Georgia, serif' (a font stack), data-carethread-title (the
 * page's title, used only when the comment service creates articles on first use).
 * Any element with data-carethread-count="short-name" is filled with that article's number of
 * published comments.
 *
 * No framework and no build step. The frame grows to fit its content; messages from it are
 * believed only from the comment service's own origin and from the frame itself.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var origin = new URL(script.src, location.href).origin;
  var COLOUR = /^#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?$/;
  var FONT = /^[A-Za-z0-9 ,'"-]{1,200}$/;

  function frameFor(holder) {
    var slug = holder.getAttribute("data-carethread-article");
    if (!slug || holder.querySelector("iframe.carethread-frame")) return;
    var params = new URLSearchParams();
    params.set("title", holder.getAttribute("data-carethread-title") || document.title);
    params.set("url", location.href.split("#")[0]);
    var accent = holder.getAttribute("data-carethread-accent");
    if (accent && COLOUR.test(accent)) params.set("accent", accent);
    var font = holder.getAttribute("data-carethread-font");
    if (font && FONT.test(font)) params.set("font", font);
    var anchor = /^#comment-\d+$/.test(location.hash) ? location.hash : "";

    var frame = document.createElement("iframe");
    frame.className = "carethread-frame";
    frame.title = "Comments";
    frame.src = origin + "/embed/articles/" + encodeURIComponent(slug) + "?" + params.toString() + anchor;
    frame.style.display = "block";
    frame.style.width = "100%";
    frame.style.border = "0";
    frame.style.height = "40rem";
    holder.appendChild(frame);

    window.addEventListener("message", function (event) {
      if (event.origin !== origin || event.source !== frame.contentWindow) return;
      var data = event.data;
      if (!data || typeof data !== "object") return;
      if (data.type === "carethread:height" && typeof data.height === "number" && data.height > 0) {
        frame.style.height = Math.ceil(Math.min(data.height, 200000)) + "px";
      } else if (data.type === "carethread:scroll" && typeof data.top === "number") {
        var top = frame.getBoundingClientRect().top + window.pageYOffset + data.top;
        window.scrollTo(0, Math.max(0, top - 16));
      }
    });
  }

  function fillCounts() {
    var holders = document.querySelectorAll("[data-carethread-count]");
    if (!holders.length || !window.fetch) return;
    var slugs = [];
    holders.forEach(function (el) {
      var slug = el.getAttribute("data-carethread-count");
      if (slug && slugs.indexOf(slug) < 0 && slugs.length < 100) slugs.push(slug);
    });
    var query = slugs.map(function (s) { return "slug=" + encodeURIComponent(s); }).join("&");
    fetch(origin + "/api/v1/counts?" + query, { credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body || !body.counts) return;
        holders.forEach(function (el) {
          var n = body.counts[el.getAttribute("data-carethread-count")];
          if (typeof n === "number") el.textContent = n === 1 ? "1 comment" : n + " comments";
        });
      })
      .catch(function () { /* Counts are a nicety: the page works without them. */ });
  }

  function start() {
    document.querySelectorAll("[data-carethread-article]").forEach(frameFor);
    fillCounts();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
