// Draws one cluster on a canvas from the JSON embedded in the page, and lets the analyst search,
// filter by partner, relation type and period, show the ties leading out, zoom and click through
// to a node's records. All text goes into the page through textContent, never parsed as HTML.
// Labels keep a fixed size on screen; where they would overlap, the less important one waits
// until the analyst zooms in (selected and searched nodes first, then flagged ones, then by role).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var box = document.getElementById("graph");
  var canvas = document.createElement("canvas");
  box.appendChild(canvas);
  var ctx = canvas.getContext("2d");
  var tip = document.getElementById("graph-tip");
  var detail = document.getElementById("detail");
  var FONT = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  var BADGE_FONT = "bold 9px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  var LABEL_HEIGHT = 16;
  var RED = "#c0392b";
  var byId = {};
  var partnerColour = {};
  data.partners.forEach(function (p) { partnerColour[p.code] = p.colour; });
  data.nodes.forEach(function (n) { n.edges = []; byId[n.id] = n; });
  data.edges.forEach(function (e, i) { e.index = i; byId[e.a].edges.push(e); byId[e.b].edges.push(e); });

  var state = {
    scale: 1, ox: 0, oy: 0, width: 0, height: 0, ties: false, selected: null, hover: null,
    matches: [], match: 0, partners: {}, types: {}, from: null, to: null,
    visibleNodes: [], visibleEdges: [], labels: []
  };

  function resetFilters() {
    data.partners.forEach(function (p) { state.partners[p.name] = true; });
    data.types.forEach(function (t) { state.types[t] = true; });
    state.from = data.months ? data.months[0] : null;
    state.to = data.months ? data.months[1] : null;
    state.ties = false;
  }

  function monthText(m) {
    var month = (m % 12) + 1;
    return String(Math.floor(m / 12)) + "-" + (month < 10 ? "0" : "") + month;
  }

  function edgeVisible(e) {
    if (e.tie && !state.ties) { return false; }
    if (!state.partners[e.partner] || !state.types[e.type]) { return false; }
    if (state.from === null) { return true; }
    return e.periods.some(function (p) {
      return (p[0] === null || p[0] <= state.to) && (p[1] === null || p[1] >= state.from);
    });
  }

  function nodeAlone(n) {
    // A node without any relation in the picture follows the partner filter only.
    return n.edges.length === 0 && !n.outside &&
      (n.held.length === 0 || n.held.some(function (p) { return state.partners[p]; }));
  }

  function computeVisible() {
    state.visibleEdges = data.edges.filter(edgeVisible);
    var seen = {};
    state.visibleEdges.forEach(function (e) { seen[e.a] = true; seen[e.b] = true; });
    state.visibleNodes = data.nodes.filter(function (n) { return seen[n.id] || nodeAlone(n); });
    var shown = {};
    state.visibleNodes.forEach(function (n) { shown[n.id] = true; });
    state.shown = shown;
    document.querySelectorAll("#node-table tbody tr").forEach(function (row) {
      row.hidden = !shown[row.getAttribute("data-node")];
    });
  }

  function resize() {
    var rect = box.getBoundingClientRect();
    var ratio = window.devicePixelRatio || 1;
    state.width = rect.width;
    state.height = rect.height;
    canvas.width = Math.round(rect.width * ratio);
    canvas.height = Math.round(rect.height * ratio);
    canvas.style.width = rect.width + "px";
    canvas.style.height = rect.height + "px";
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  }

  function fit() {
    var nodes = state.visibleNodes.length ? state.visibleNodes : data.nodes;
    if (!nodes.length) { return; }
    var xs = nodes.map(function (n) { return n.x; });
    var ys = nodes.map(function (n) { return n.y; });
    var minX = Math.min.apply(null, xs), maxX = Math.max.apply(null, xs);
    var minY = Math.min.apply(null, ys), maxY = Math.max.apply(null, ys);
    var margin = 60;
    state.scale = Math.min((state.width - 2 * margin) / Math.max(maxX - minX, 1),
      (state.height - 2 * margin) / Math.max(maxY - minY, 1), 1.4);
    state.ox = state.width / 2 - (minX + maxX) / 2 * state.scale;
    state.oy = state.height / 2 - (minY + maxY) / 2 * state.scale;
  }

  function zoom(factor, x, y) {
    var scale = Math.max(0.05, Math.min(6, state.scale * factor));
    state.ox = x - (x - state.ox) * scale / state.scale;
    state.oy = y - (y - state.oy) * scale / state.scale;
    state.scale = scale;
    draw();
  }

  function centreOn(n) {
    state.scale = Math.max(state.scale, 1);
    state.ox = state.width / 2 - n.x * state.scale;
    state.oy = state.height / 2 - n.y * state.scale;
  }

  function screen(n) { return [n.x * state.scale + state.ox, n.y * state.scale + state.oy]; }
  function radius() { return Math.max(3.5, Math.min(11, 9 * state.scale)); }

  function shapePath(shape, x, y, r) {
    ctx.beginPath();
    if (shape === "square") { ctx.rect(x - r, y - r, 2 * r, 2 * r); }
    else if (shape === "triangle") { ctx.moveTo(x, y - r * 1.15); ctx.lineTo(x + r * 1.1, y + r * 0.85); ctx.lineTo(x - r * 1.1, y + r * 0.85); ctx.closePath(); }
    else if (shape === "diamond") { ctx.moveTo(x, y - r * 1.2); ctx.lineTo(x + r * 1.2, y); ctx.lineTo(x, y + r * 1.2); ctx.lineTo(x - r * 1.2, y); ctx.closePath(); }
    else { ctx.arc(x, y, r, 0, 2 * Math.PI); }
  }

  function labelBox(n, r) {
    var p = screen(n);
    ctx.font = FONT;
    var width = ctx.measureText(n.label).width + 6;
    ctx.font = BADGE_FONT;
    n.partners.forEach(function (code) { width += ctx.measureText(code).width + 9; });
    // A label of a node near the edge moves inwards rather than being cut off.
    var x = Math.min(Math.max(p[0] - width / 2, 1), state.width - width - 1);
    return { id: n.id, text: n.label, x: x, y: p[1] + r + 2, w: width, h: LABEL_HEIGHT };
  }

  function overlaps(a, b) {
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  }

  function fits(b, id, placed, discs) {
    if (b.x < 0 || b.y < 0 || b.x + b.w > state.width || b.y + b.h > state.height) { return false; }
    for (var i = 0; i < placed.length; i++) { if (overlaps(b, placed[i])) { return false; } }
    for (var j = 0; j < discs.length; j++) { if (discs[j].id !== id && overlaps(b, discs[j])) { return false; } }
    return true;
  }

  function placeLabels(r) {
    var forced = {};
    if (state.selected) { forced[state.selected.id] = 3; }
    state.matches.forEach(function (n) { forced[n.id] = Math.max(forced[n.id] || 0, 2); });
    if (state.hover && state.hover.id) { forced[state.hover.id] = Math.max(forced[state.hover.id] || 0, 1); }
    var order = state.visibleNodes.slice().sort(function (a, b) {
      return (forced[b.id] || 0) - (forced[a.id] || 0) || b.prio - a.prio || b.degree - a.degree ||
        (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);
    });
    var discs = state.visibleNodes.map(function (n) {
      var p = screen(n);
      return { id: n.id, x: p[0] - r, y: p[1] - r, w: 2 * r, h: 2 * r };
    });
    var placed = [];
    order.forEach(function (n) {
      var p = screen(n);
      if (p[0] < 0 || p[0] > state.width) { return; }
      var below = labelBox(n, r);
      // Where the space below the node is taken, the label may sit above it, then beside it, then
      // at a corner (a label near the edge moves inwards there too).
      var inside = function (x) { return Math.min(Math.max(x, 1), state.width - below.w - 1); };
      var beside = p[1] - LABEL_HEIGHT / 2;
      var above = p[1] - r - 2 - LABEL_HEIGHT, right = inside(p[0] + r + 3), left = inside(p[0] - r - 3 - below.w);
      var b = [below, Object.assign({}, below, { y: above, side: "above" }),
               Object.assign({}, below, { x: right, y: beside, side: "right" }),
               Object.assign({}, below, { x: left, y: beside, side: "left" }),
               Object.assign({}, below, { x: right, side: "below right" }),
               Object.assign({}, below, { x: left, side: "below left" }),
               Object.assign({}, below, { x: right, y: above, side: "above right" }),
               Object.assign({}, below, { x: left, y: above, side: "above left" })]
        .find(function (box) { return fits(box, n.id, placed, discs); });
      if (b) { placed.push(b); }
    });
    return placed;
  }

  function drawLabel(b) {
    var n = byId[b.id];
    ctx.fillStyle = "rgba(255,255,255,0.88)";
    ctx.fillRect(b.x, b.y, b.w, b.h);
    ctx.font = FONT;
    ctx.fillStyle = n.outside ? "#555555" : "#1d1d1f";
    ctx.textBaseline = "middle";
    ctx.textAlign = "left";
    ctx.fillText(n.label, b.x + 3, b.y + b.h / 2 + 0.5);
    var x = b.x + 3 + ctx.measureText(n.label).width + 4;
    ctx.font = BADGE_FONT;
    n.partners.forEach(function (code) {
      var w = ctx.measureText(code).width + 6;
      ctx.fillStyle = partnerColour[code] || "#555555";
      ctx.fillRect(x, b.y + 2, w, b.h - 4);
      ctx.fillStyle = "#ffffff";
      ctx.fillText(code, x + 3, b.y + b.h / 2 + 0.5);
      x += w + 3;
    });
  }

  function draw() {
    ctx.clearRect(0, 0, state.width, state.height);
    var r = radius();
    var near = {};
    if (state.selected) {
      near[state.selected.id] = true;
      state.selected.edges.forEach(function (e) { near[e.a] = true; near[e.b] = true; });
    }
    state.visibleEdges.forEach(function (e) {
      var a = screen(byId[e.a]), b = screen(byId[e.b]);
      ctx.beginPath();
      ctx.moveTo(a[0], a[1]);
      ctx.lineTo(b[0], b[1]);
      var lit = state.selected && (e.a === state.selected.id || e.b === state.selected.id);
      ctx.strokeStyle = e.ev ? RED : (lit ? "#333333" : "#9a9a9a");
      ctx.globalAlpha = state.selected && !lit ? 0.25 : 0.75;
      ctx.lineWidth = Math.min(1 + Math.log2(e.n), 5) * (state.hover === e ? 2 : 1);
      ctx.setLineDash(e.out ? [5, 4] : []);
      ctx.stroke();
    });
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
    state.visibleNodes.forEach(function (n) {
      var p = screen(n);
      var style = data.styles[n.type] || { colour: "#9c9c9c", shape: "circle" };
      shapePath(style.shape, p[0], p[1], r);
      ctx.globalAlpha = state.selected && !near[n.id] ? 0.35 : 1;
      ctx.fillStyle = n.outside ? "#ffffff" : style.colour;
      ctx.fill();
      ctx.lineWidth = n.flags.length ? 3 : 1.5;
      ctx.strokeStyle = n.flags.length ? RED : style.colour;
      ctx.setLineDash(n.outside ? [3, 2] : []);
      ctx.stroke();
      ctx.setLineDash([]);
      if (state.selected === n || state.matches.indexOf(n) >= 0) {
        shapePath("circle", p[0], p[1], r + 5);
        ctx.lineWidth = 2.5;
        ctx.strokeStyle = state.selected === n ? "#111111" : "#d9a400";
        ctx.stroke();
      }
    });
    ctx.globalAlpha = 1;
    state.labels = placeLabels(r);
    state.labels.forEach(drawLabel);
    if (state.selected) {
      // The selected node's relations are labelled where the label fits beside everything else.
      ctx.font = "11px system-ui, sans-serif";
      var taken = state.labels.slice();
      state.visibleEdges.forEach(function (e) {
        if (e.a !== state.selected.id && e.b !== state.selected.id) { return; }
        var a = screen(byId[e.a]), b = screen(byId[e.b]);
        var text = e.label, w = ctx.measureText(text).width + 6;
        var x = Math.min(Math.max((a[0] + b[0]) / 2 - w / 2, 1), state.width - w - 1);
        var box = { x: x, y: (a[1] + b[1]) / 2 - 8, w: w, h: 15 };
        if (taken.some(function (other) { return overlaps(box, other); })) { return; }
        taken.push(box);
        ctx.fillStyle = "rgba(255,255,255,0.9)";
        ctx.fillRect(box.x, box.y, box.w, box.h);
        ctx.fillStyle = e.ev ? RED : "#333333";
        ctx.fillText(text, box.x + 3, box.y + 8);
      });
    }
    box.setAttribute("data-drawn-nodes", String(state.visibleNodes.length));
    box.setAttribute("data-drawn-edges", String(state.visibleEdges.length));
    box.setAttribute("data-drawn-labels", String(state.labels.length));
    box.setAttribute("data-has-canvas", "true");
  }

  function nodeAt(x, y) {
    var r = radius() + 3, best = null, bestD = r * r;
    state.visibleNodes.forEach(function (n) {
      var p = screen(n), d = (p[0] - x) * (p[0] - x) + (p[1] - y) * (p[1] - y);
      if (d <= bestD) { best = n; bestD = d; }
    });
    return best;
  }

  function edgeAt(x, y) {
    var best = null, bestD = 25;
    state.visibleEdges.forEach(function (e) {
      var a = screen(byId[e.a]), b = screen(byId[e.b]);
      var dx = b[0] - a[0], dy = b[1] - a[1], len = dx * dx + dy * dy;
      var t = len ? Math.max(0, Math.min(1, ((x - a[0]) * dx + (y - a[1]) * dy) / len)) : 0;
      var px = a[0] + t * dx - x, py = a[1] + t * dy - y, d = px * px + py * py;
      if (d < bestD) { best = e; bestD = d; }
    });
    return best;
  }

  function showTip(lines, x, y) {
    tip.textContent = lines.join("\n");
    tip.style.left = Math.min(x + 14, state.width - 260) + "px";
    tip.style.top = (y + 14) + "px";
    tip.hidden = false;
  }

  function element(tag, text, cls) {
    var el = document.createElement(tag);
    if (text !== undefined) { el.textContent = text; }
    if (cls) { el.className = cls; }
    return el;
  }

  function list(title, lines, onClick) {
    var section = document.createElement("section");
    section.appendChild(element("h4", title + " (" + lines.length + ")"));
    var ul = document.createElement("ul");
    lines.forEach(function (line, i) {
      var li = element("li", line);
      if (onClick) { li.className = "link"; li.addEventListener("click", function () { onClick(i); }); }
      ul.appendChild(li);
    });
    section.appendChild(ul);
    return section;
  }

  function showDetail(n) {
    detail.textContent = "";
    if (!n) { detail.appendChild(element("p", data.words.detail_hint, "hint")); return; }
    detail.appendChild(element("h3", n.label));
    n.detail.slice(1).forEach(function (line) { detail.appendChild(element("p", line)); });
    if (n.link) {
      var a = element("a", n.link);
      a.setAttribute("href", n.link);
      detail.appendChild(a);
    }
    if (n.flags.length) { detail.appendChild(list(data.words.evidence_for, n.flags)); }
    detail.appendChild(list(data.words.records_of, n.records));
    var edges = n.edges.filter(edgeVisible);
    detail.appendChild(list("↔", edges.map(function (e) {
      var other = byId[e.a === n.id ? e.b : e.a];
      return other.label + " · " + e.label;
    }), function (i) {
      var e = edges[i];
      select(byId[e.a === n.id ? e.b : e.a], true);
    }));
    edges.forEach(function (e) {
      var block = element("details");
      block.appendChild(element("summary", e.label + " · " + byId[e.a === n.id ? e.b : e.a].label));
      block.appendChild(element("pre", e.detail.join("\n")));
      detail.appendChild(block);
    });
  }

  function select(n, centre) {
    state.selected = n;
    if (n && centre) { centreOn(n); }
    showDetail(n);
    box.setAttribute("data-selected", n ? n.id : "");
    draw();
  }

  function runSearch(query) {
    var q = query.trim().toLowerCase();
    state.matches = q ? state.visibleNodes.filter(function (n) {
      return n.label.toLowerCase().indexOf(q) >= 0 || n.id.toLowerCase().indexOf(q) >= 0;
    }) : [];
    // The exact name first ("Werknemer 1" before "Werknemer 12"), then in the order of the names.
    state.matches.sort(function (a, b) {
      var exact = (b.label.toLowerCase() === q) - (a.label.toLowerCase() === q);
      return exact || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);
    });
    state.match = 0;
    document.getElementById("search-count").textContent = q ? String(state.matches.length) : "";
    box.setAttribute("data-search-hits", String(state.matches.length));
    if (state.matches.length) { select(state.matches[0], true); } else { draw(); }
  }

  function refresh() {
    computeVisible();
    if (state.selected && !state.shown[state.selected.id]) { select(null); return; }
    draw();
  }

  // --- controls ---------------------------------------------------------------------------------
  var dragging = null;
  canvas.addEventListener("mousedown", function (ev) {
    dragging = { x: ev.offsetX, y: ev.offsetY, ox: state.ox, oy: state.oy, moved: false };
  });
  window.addEventListener("mouseup", function () { setTimeout(function () { dragging = null; }, 0); });
  canvas.addEventListener("mousemove", function (ev) {
    var x = ev.offsetX, y = ev.offsetY;
    if (dragging && (ev.buttons & 1)) {
      if (Math.abs(x - dragging.x) + Math.abs(y - dragging.y) > 3) { dragging.moved = true; }
      state.ox = dragging.ox + x - dragging.x;
      state.oy = dragging.oy + y - dragging.y;
      draw();
      return;
    }
    var n = nodeAt(x, y);
    var e = n ? null : edgeAt(x, y);
    var hover = n || e;
    if (hover !== state.hover) { state.hover = hover; draw(); }
    if (n) {
      showTip([n.label + " · " + n.role, n.partners.join(" ")].concat(n.flags.map(function (f) { return "⚑ " + f; })), x, y);
    } else if (e) {
      showTip(e.detail.slice(0, 12).concat(e.detail.length > 12 ? ["…"] : []), x, y);
    } else {
      tip.hidden = true;
    }
  });
  canvas.addEventListener("mouseleave", function () { tip.hidden = true; state.hover = null; draw(); });
  canvas.addEventListener("click", function (ev) {
    if (dragging && dragging.moved) { return; }
    select(nodeAt(ev.offsetX, ev.offsetY), false);
  });
  canvas.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    zoom(ev.deltaY < 0 ? 1.15 : 1 / 1.15, ev.offsetX, ev.offsetY);
  }, { passive: false });

  function on(id, event, handler) { document.getElementById(id).addEventListener(event, handler); }
  on("fit", "click", function () { fit(); draw(); });
  on("zoom-in", "click", function () { zoom(1.3, state.width / 2, state.height / 2); });
  on("zoom-out", "click", function () { zoom(1 / 1.3, state.width / 2, state.height / 2); });
  on("reset", "click", function () {
    resetFilters();
    syncControls();
    document.getElementById("search").value = "";
    state.matches = [];
    computeVisible();
    select(null);
    fit();
    draw();
  });
  on("save-png", "click", function () {
    // The picture as it is now shown, as a PNG file (for a presentation or a note).
    var link = document.createElement("a");
    link.download = document.getElementById("save-png").getAttribute("data-file");
    link.href = canvas.toDataURL("image/png");
    link.click();
  });
  on("search", "input", function (ev) { runSearch(ev.target.value); });
  on("search", "keydown", function (ev) {
    if (ev.key === "Enter" && state.matches.length) {
      state.match = (state.match + 1) % state.matches.length;
      select(state.matches[state.match], true);
    }
  });
  on("ties", "change", function (ev) { state.ties = ev.target.checked; refresh(); });
  document.querySelectorAll("[data-partner]").forEach(function (input) {
    input.addEventListener("change", function () { state.partners[input.getAttribute("data-partner")] = input.checked; refresh(); });
  });
  document.querySelectorAll("[data-type]").forEach(function (input) {
    input.addEventListener("change", function () { state.types[input.getAttribute("data-type")] = input.checked; refresh(); });
  });
  var from = document.getElementById("period-from"), to = document.getElementById("period-to");
  function period() {
    var a = Number(from.value), b = Number(to.value);
    state.from = Math.min(a, b);
    state.to = Math.max(a, b);
    document.getElementById("period-text").textContent = monthText(state.from) + " … " + monthText(state.to);
    refresh();
  }
  if (data.months) {
    [from, to].forEach(function (input) {
      input.min = String(data.months[0]);
      input.max = String(data.months[1]);
      input.addEventListener("input", period);
    });
  }
  function syncControls() {
    document.querySelectorAll("[data-partner]").forEach(function (i) { i.checked = true; });
    document.querySelectorAll("[data-type]").forEach(function (i) { i.checked = true; });
    document.getElementById("ties").checked = false;
    if (data.months) {
      from.value = String(data.months[0]);
      to.value = String(data.months[1]);
      document.getElementById("period-text").textContent = monthText(data.months[0]) + " … " + monthText(data.months[1]);
    }
  }
  document.querySelectorAll("#node-table tbody tr").forEach(function (row) {
    row.addEventListener("click", function () {
      select(byId[row.getAttribute("data-node")], true);
      box.scrollIntoView({ block: "nearest" });
    });
  });
  window.addEventListener("resize", function () { resize(); draw(); });

  // Read-only facts for whoever checks the page (the browser tests and benchmarks).
  window.mhgraphView = {
    labels: function () { return state.labels.map(function (b) { return { id: b.id, text: b.text, side: b.side || "below" }; }); },
    screen: function (id) { var p = screen(byId[id]); return { x: p[0], y: p[1], r: radius() }; },
    visibleNodes: function () { return state.visibleNodes.map(function (n) { return n.id; }); },
    visibleEdges: function () {
      return state.visibleEdges.map(function (e) { return { a: e.a, b: e.b, type: e.type, partner: e.partner, periods: e.periods }; });
    },
    size: function () { return { width: state.width, height: state.height }; }
  };

  resetFilters();
  syncControls();
  resize();
  computeVisible();
  fit();
  showDetail(null);
  draw();
})();
