// Filter bar: keep URLs short (no empty filters), and send dates only when they were changed
// or the period is already custom, so "7D" stays a rolling period when bookmarked.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form.filter-bar");
  if (form && form.querySelector("input[name=period]")) {
    form.addEventListener("submit", function () {
      var period = form.querySelector("input[name=period]");
      var changed = false;
      form.querySelectorAll("input[data-initial]").forEach(function (input) {
        if (input.value !== input.dataset.initial) changed = true;
      });
      form.querySelectorAll("input[data-initial]").forEach(function (input) {
        if (!changed && period.value !== "custom") input.disabled = true;
      });
      if (changed || period.value === "custom") period.disabled = true;
      form.querySelectorAll("input:not([type=hidden]), select").forEach(function (input) {
        if (input.value === "") input.disabled = true;
      });
    });
  }
  // Each figure is drawn while the page is still being read, when its grid cell may be wider
  // than it ends up (the figures after it are not there yet); Plotly's responsive mode follows
  // only window resizes, so follow each figure's own box.
  if (window.Plotly && window.ResizeObserver) {
    var resized = new ResizeObserver(function (entries) {
      entries.forEach(function (entry) { Plotly.Plots.resize(entry.target); });
    });
    document.querySelectorAll(".js-plotly-plot").forEach(function (plot) { resized.observe(plot); });
  }
  var realtime = document.querySelector("[data-refresh]");
  if (!realtime) return;
  // Realtime: fetch the same page as JSON every few seconds and redraw in place.
  setInterval(function () {
    var url = new URL(window.location.href);
    url.searchParams.set("format", "json");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        var cards = document.querySelectorAll("#cards li strong");
        data.cards.forEach(function (card, i) { if (cards[i]) cards[i].textContent = card.value; });
        var note = document.getElementById("note");
        if (note) note.textContent = data.note;
        var body = document.querySelector("#table-current tbody");
        if (body) {
          body.replaceChildren();
          data.table.rows.forEach(function (row) {
            var tr = document.createElement("tr");
            row.forEach(function (cell) {
              var td = document.createElement("td");
              td.textContent = String(cell); // text, never HTML: paths come from visitors
              tr.appendChild(td);
            });
            body.appendChild(tr);
          });
        }
        var holder = document.getElementById("per-minute");
        var match = /Plotly\.newPlot\(\s*"per-minute",\s*(\[.*\]),\s*(\{.*\}),\s*(\{.*\})\s*\)/s.exec(data.figure);
        if (holder && match && window.Plotly) {
          Plotly.react(holder, JSON.parse(match[1]), JSON.parse(match[2]), JSON.parse(match[3]));
        }
      })
      .catch(function () { /* a missed refresh is retried at the next tick */ });
  }, 5000);
});
