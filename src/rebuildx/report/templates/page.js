// Filters, search and sorting of the package table; opening an explanation from its row.
// Plain script over the page's own elements: it fetches nothing and writes no HTML.
(function () {
  "use strict";
  var table = document.getElementById("pkgs");
  if (!table) return;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var verdict = document.getElementById("f-verdict");
  var stage = document.getElementById("f-stage");
  var search = document.getElementById("f-search");
  var shown = document.getElementById("shown");
  var chips = document.querySelectorAll(".chip[data-verdict]");

  function apply() {
    var v = verdict.value, s = stage.value, q = search.value.trim().toLowerCase(), n = 0;
    rows.forEach(function (tr) {
      var ok = (!v || tr.dataset.verdict === v) && (!s || tr.dataset.stage === s) &&
        (!q || tr.dataset.name.indexOf(q) !== -1);
      tr.classList.toggle("hidden", !ok);
      if (ok) n++;
    });
    shown.textContent = n + " of " + rows.length + " packages";
    chips.forEach(function (c) { c.classList.toggle("active", c.dataset.verdict === v); });
  }
  [verdict, stage].forEach(function (el) { el.addEventListener("change", apply); });
  search.addEventListener("input", apply);
  chips.forEach(function (c) {
    c.addEventListener("click", function () {
      verdict.value = verdict.value === c.dataset.verdict ? "" : c.dataset.verdict;
      apply();
      document.getElementById("packages").scrollIntoView({behavior: "smooth"});
    });
  });

  function key(tr, i, numeric) {
    var cell = tr.cells[i];
    var raw = cell.dataset.v !== undefined ? cell.dataset.v : cell.textContent.trim();
    return numeric ? parseFloat(raw) : raw.toLowerCase();
  }
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, i) {
    th.querySelector("button").addEventListener("click", function () {
      var numeric = th.dataset.type === "num";
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      rows.sort(function (a, b) {
        var x = key(a, i, numeric), y = key(b, i, numeric);
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
      });
      var frag = document.createDocumentFragment();
      rows.forEach(function (tr) { frag.appendChild(tr); });
      body.appendChild(frag);
    });
  });

  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.open = true; el.scrollIntoView(); }
  }
  window.addEventListener("hashchange", openTarget);
  // a log's tail is read from its end: show the last lines first
  document.querySelectorAll("details.detail").forEach(function (d) {
    d.addEventListener("toggle", function () {
      var log = d.querySelector("pre.log");
      if (d.open && log) log.scrollTop = log.scrollHeight;
    });
  });
  document.querySelectorAll("a.why").forEach(function (a) {
    a.addEventListener("click", function () { setTimeout(openTarget, 0); });
  });
  openTarget();
})();
