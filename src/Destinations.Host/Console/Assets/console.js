// The operator console's only script: the live tail and the small helpers of the other pages. Every value from an event is
// written with textContent, never as markup, so an event carrying tags shows them as text.
(function () {
  "use strict";

  // Event tester: the call-type picker reloads the page with that type's example.
  var typePicker = document.getElementById("tester-type");
  if (typePicker) {
    typePicker.addEventListener("change", function () {
      window.location.search = "?type=" + encodeURIComponent(typePicker.value);
    });
  }

  // Dead letters: "select all" checkbox.
  var selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      document.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = selectAll.checked; });
    });
  }

  var list = document.getElementById("live");
  if (!list) return;

  // Console:LiveBufferLines, written by the page; 500 (its default) if the attribute is missing or not a positive number.
  var maxLines = parseInt(list.getAttribute("data-max-lines"), 10);
  if (!(maxLines > 0)) maxLines = 500;
  var paused = false;
  var dropped = 0;
  var source = null;
  var status = document.getElementById("live-status");
  var pauseButton = document.getElementById("live-pause");
  var form = document.getElementById("live-filter");

  function cell(text, cls) {
    var span = document.createElement("span");
    if (cls) span.className = cls;
    span.textContent = text == null ? "" : String(text);
    return span;
  }

  function show(line) {
    var li = document.createElement("li");
    li.className = "kind-" + String(line.kind).replace(/[^a-z-]/g, "");
    var time = new Date(line.at);
    li.appendChild(cell(isNaN(time) ? "" : time.toISOString().substring(11, 23)));
    li.appendChild(cell(line.kind, "kind"));
    li.appendChild(cell(line.destination || (line.destinations || []).join(", ") || "-"));
    li.appendChild(cell(line.type));
    li.appendChild(cell(line.messageId + (line.userId ? "  user " + line.userId : "") + (line.detail ? "  - " + line.detail : "")));
    list.insertBefore(li, list.firstChild);
    while (list.children.length > maxLines) list.removeChild(list.lastChild);
  }

  function setStatus(text) { if (status) status.textContent = text; }

  function connect() {
    if (source) source.close();
    setStatus("connecting...");
    var query = new URLSearchParams(new FormData(form));
    source = new EventSource("/console/live/stream?" + query.toString());
    source.addEventListener("status", function () { setStatus("connected"); });
    source.addEventListener("line", function (e) {
      if (paused) { dropped++; setStatus("paused - " + dropped + " lines not shown"); return; }
      show(JSON.parse(e.data));
    });
    source.onerror = function () { setStatus("reconnecting..."); };
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); list.textContent = ""; connect(); });
  pauseButton.addEventListener("click", function () {
    paused = !paused;
    pauseButton.textContent = paused ? "Resume" : "Pause";
    if (!paused) { dropped = 0; setStatus("connected"); }
  });
  connect();
})();
