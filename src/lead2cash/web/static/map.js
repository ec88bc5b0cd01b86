/* lead2cash process map: Cytoscape + dagre, frequency/performance views, sliders, details,
   SVG/PNG export, and tokens replaying the cases over time. */
"use strict";
window.L2C = window.L2C || {};
(function (L2C) {
  const START = "\u25b6 start", END = "\u25a0 end";
  const fmtN = (v) => (v == null ? "-" : Number(v).toLocaleString("en-US"));

  function humanDuration(s, dayS) {
    if (s == null) return "-";
    if (s < 60) return s.toFixed(1) + "s";
    const unit = dayS === 86400 ? "d" : "wd";
    const parts = [];
    let rest = Math.round(s);
    for (const [u, size] of [[unit, dayS], ["h", 3600], ["m", 60], ["s", 1]]) {
      if (rest >= size) { parts.push(Math.floor(rest / size) + u); rest %= size; }
    }
    return parts.slice(0, 2).join(" ");
  }

  /* measure value of an edge for the current view */
  function edgeValue(e, measure) {
    if (e.virtual) return measure === "frequency" || measure === "cases" ? e.cases : null;
    return { cases: e.cases, frequency: e.frequency, mean: e.duration_mean_s, median: e.duration_median_s, p90: e.duration_p90_s }[measure];
  }

  function elements(data) {
    const els = [];
    const acts = data.activities;
    const maxCases = Math.max(1, ...acts.map((a) => a.cases));
    const deviations = data.deviations || {};  /* conformance view: activity -> deviating share */
    acts.forEach((a) => els.push({ data: { id: a.activity, label: a.activity, events: a.events, cases: a.cases,
      starts: data.start_activities[a.activity] || 0, ends: data.end_activities[a.activity] || 0, weight: a.cases / maxCases,
      deviation: deviations[a.activity] || 0 }, classes: deviations[a.activity] ? "deviating" : "" }));
    const total = (counts) => Object.values(counts).reduce((x, y) => x + y, 0);
    els.push({ data: { id: START, label: "\u25b6 Start", virtual: true, cases: total(data.start_activities) }, classes: "terminal start" });
    els.push({ data: { id: END, label: "\u25a0 End", virtual: true, cases: total(data.end_activities) }, classes: "terminal end" });
    data.edges.forEach((e) => els.push({ data: Object.assign({ id: e.source + "\u2192" + e.target }, e) }));
    for (const [a, n] of Object.entries(data.start_activities))
      els.push({ data: { id: START + "\u2192" + a, source: START, target: a, cases: n, frequency: n, virtual: true }, classes: "virtual" });
    for (const [a, n] of Object.entries(data.end_activities))
      els.push({ data: { id: a + "\u2192" + END, source: a, target: END, cases: n, frequency: n, virtual: true }, classes: "virtual" });
    return els;
  }

  /* An activity's box by its share of the busiest activity's cases: light blues with dark text
     for the less frequent, deep blues with white text for the most frequent. The lightness
     skips the middle band where neither text colour reaches a 4.5:1 contrast (WCAG AA). */
  const INK = "#16202e";
  function nodePaint(w) {
    const l = w < 0.5 ? 96 - 30 * (w / 0.5) : 48 - 24 * ((w - 0.5) / 0.5);
    return { fill: `hsl(222, 60%, ${l.toFixed(1)}%)`, text: l >= 60 ? INK : "#ffffff",
             border: l >= 60 ? "#8fa3cf" : "#1b2d5c" };
  }

  function edgeColor(s, perf) {
    if (perf) return `hsl(${Math.round(130 - 130 * s)}, 65%, ${45 - 8 * s}%)`;  /* green (fast) to red (slow) */
    return `hsl(222, ${35 + 40 * s}%, ${70 - 40 * s}%)`;
  }

  const MEASURES = { cases: "case frequency (cases taking the path)", frequency: "absolute frequency (times taken)",
    median: "median duration", mean: "mean duration", p90: "90th-percentile duration" };

  /* What the map's sizes and colours mean, for the current view and measure. */
  L2C.legendHtml = function (view, measure) {
    const perf = view === "performance";
    const swatch = (css) => `<span class="swatch" style="background:${css}"></span>`;
    const boxes = [0.1, 0.45, 0.6, 1].map((w) => swatch(nodePaint(w).fill)).join("");
    const paths = [0.05, 0.5, 1].map((s) => `<span class="line" style="border-top:${(1 + 9 * Math.sqrt(s)).toFixed(1)}px solid ${edgeColor(Math.sqrt(s), perf)}"></span>`).join("");
    const number = perf || measure === "cases" ? "its cases" : "its events";
    return `<span class="item">${boxes} <b>Activities</b>: darker = more cases; the number is ${number}</span>
      <span class="item">${paths} <b>Paths</b>: width and colour by ${MEASURES[measure] || measure}${perf ? ", green (short) to red (long)" : ""}</span>
      <span class="item"><span class="terminal-swatch start">\u25b6</span><span class="terminal-swatch end">\u25a0</span> <b>Start / end</b>: dashed paths, cases beginning and ending at an activity</span>`;
  };

  function styleFor(view, measure, data) {
    const edges = data.edges;
    const values = edges.map((e) => edgeValue(e, measure)).filter((v) => v != null);
    const max = Math.max(1e-9, ...values);
    const perf = view === "performance";
    const dayS = data.day_s || 86400;
    const scale = (v) => (v == null ? 0 : Math.sqrt(v / max));
    const paint = (n) => nodePaint(n.data("weight") || 0);
    return [
      { selector: "node", style: { shape: "round-rectangle", label: "data(display)", "text-wrap": "wrap", "text-max-width": 176,
        "text-valign": "center", "font-size": 13, "font-family": "Inter, Segoe UI, Arial, sans-serif", width: 190, height: 44,
        "background-color": (n) => paint(n).fill, color: (n) => paint(n).text,
        "border-width": 1, "border-color": (n) => paint(n).border, "z-index": 10 } },
      { selector: "node.terminal", style: { shape: "ellipse", width: 92, height: 40, "font-size": 12, "font-weight": "bold",
        color: "#ffffff", "border-width": 2, "border-color": "#ffffff", "z-index": 10 } },
      { selector: "node.start", style: { "background-color": "#17784c" } },
      { selector: "node.end", style: { "background-color": "#8a2432" } },
      { selector: "node.deviating", style: { "border-width": 4, "border-color": "#d0342c", "border-style": "solid" } },
      { selector: "node:selected", style: { "border-width": 3, "border-color": "#f2a900" } },
      { selector: "edge", style: { "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.9,
        width: (e) => 1 + 9 * scale(edgeValue(e.data(), measure)),
        "line-color": (e) => edgeColor(scale(edgeValue(e.data(), measure)), perf),
        "target-arrow-color": (e) => edgeColor(scale(edgeValue(e.data(), measure)), perf),
        label: (e) => { const v = edgeValue(e.data(), measure); return v == null ? "" : perf ? humanDuration(v, dayS) : fmtN(v); },
        "font-size": 11, "font-weight": "bold", color: "#2b3550", "text-background-color": "#ffffff", "text-background-opacity": 1,
        "text-background-padding": 2, "text-background-shape": "roundrectangle", "text-border-opacity": 1, "text-border-width": 1,
        "text-border-color": "#d5dbe7", "text-rotation": "none", opacity: 0.95, "z-index": 1 } },
      { selector: "edge:loop", style: { "loop-direction": "70deg", "loop-sweep": "-50deg", "control-point-step-size": 96 } },
      { selector: "edge.virtual", style: { "line-style": "dashed", "line-color": "#8d99b3", "target-arrow-color": "#8d99b3", width: 1.5,
        label: (e) => (perf ? "" : fmtN(e.data("cases"))), "font-weight": "normal", color: "#5b667d", "text-border-width": 0 } },
      { selector: "edge:selected", style: { "line-color": "#f2a900", "target-arrow-color": "#f2a900" } },
    ];
  }

  function nodeDisplay(cy, view, measure, data) {
    cy.nodes().forEach((n) => {
      const d = n.data();
      if (d.virtual) { n.data("display", d.label + "\n" + fmtN(d.cases)); return; }
      const value = measure === "frequency" ? d.events : d.cases;
      const deviating = d.deviation ? "  \u26a0 " + (100 * d.deviation).toFixed(1) + "% deviating" : "";
      n.data("display", d.label + "\n" + fmtN(view === "performance" ? d.cases : value) + deviating);
    });
  }

  L2C.drawMap = function (el, data, opts) {
    const view = (opts && opts.view) || "frequency";
    const measure = (opts && opts.measure) || "cases";
    const cy = cytoscape({ container: el, elements: elements(data), minZoom: 0.15, maxZoom: 3,
      boxSelectionEnabled: false, autoungrabify: false });
    nodeDisplay(cy, view, measure, data);
    cy.style(styleFor(view, measure, data));
    /* Ranks far enough apart that a path's number sits between the boxes, not on them. */
    const compact = opts && opts.compact;  /* a small map (compare, report): closer ranks */
    cy.layout({ name: "dagre", rankDir: "TB", nodeSep: compact ? 24 : 36, rankSep: compact ? 44 : 62, edgeSep: 16,
                ranker: "network-simplex" }).run();
    cy.fit(undefined, 24);
    const legend = (opts && opts.legend) || (el.nextElementSibling && el.nextElementSibling.classList.contains("map-legend") ? el.nextElementSibling : null);
    if (legend) legend.innerHTML = L2C.legendHtml(view, measure);
    el.dataset.edges = String(data.edges.length);
    el.dataset.nodes = String(data.activities.length);
    if (data.deviations) el.dataset.marked = cy.nodes(".deviating").map((n) => n.id()).sort().join("|");
    el.dataset.rendered = "1";
    return cy;
  };

  L2C.restyle = function (cy, data, view, measure) {
    nodeDisplay(cy, view, measure, data);
    cy.style(styleFor(view, measure, data));
    const legend = document.getElementById("map-legend");
    if (legend) legend.innerHTML = L2C.legendHtml(view, measure);
  };

  /* ---- SVG export: the drawn graph as plain SVG (boxes, curves, arrows, labels) ---- */
  function esc(t) { return String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }
  L2C.mapSvg = function (cy) {
    const bb = cy.elements().boundingBox({ includeLabels: true });
    const pad = 20, w = bb.w + 2 * pad, h = bb.h + 2 * pad;
    const X = (x) => (x - bb.x1 + pad).toFixed(1), Y = (y) => (y - bb.y1 + pad).toFixed(1);
    const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w.toFixed(0)}" height="${h.toFixed(0)}" viewBox="0 0 ${w.toFixed(0)} ${h.toFixed(0)}" font-family="Arial, sans-serif">`,
      `<rect width="100%" height="100%" fill="#ffffff"/>`];
    cy.edges().forEach((e) => {
      const s = e.sourceEndpoint(), t = e.targetEndpoint(), m = e.midpoint();
      const cx = 2 * m.x - (s.x + t.x) / 2, cyy = 2 * m.y - (s.y + t.y) / 2;
      const color = e.style("line-color"), width = parseFloat(e.style("width"));
      const dash = e.hasClass("virtual") ? ' stroke-dasharray="5,4"' : "";
      out.push(`<path d="M${X(s.x)},${Y(s.y)} Q${X(cx)},${Y(cyy)} ${X(t.x)},${Y(t.y)}" fill="none" stroke="${color}" stroke-width="${width}"${dash}/>`);
      const ang = Math.atan2(t.y - cyy, t.x - cx), a = 8 + width;
      const p1 = [t.x - a * Math.cos(ang - 0.4), t.y - a * Math.sin(ang - 0.4)], p2 = [t.x - a * Math.cos(ang + 0.4), t.y - a * Math.sin(ang + 0.4)];
      out.push(`<polygon points="${X(t.x)},${Y(t.y)} ${X(p1[0])},${Y(p1[1])} ${X(p2[0])},${Y(p2[1])}" fill="${color}"/>`);
      const label = e.style("label");
      if (label) out.push(`<text x="${X(m.x)}" y="${Y(m.y + 4)}" font-size="10" text-anchor="middle" fill="#2b3550" paint-order="stroke" stroke="#fff" stroke-width="3">${esc(label)}</text>`);
    });
    cy.nodes().forEach((n) => {
      const p = n.position(), nw = n.width(), nh = n.height();
      const fill = n.style("background-color"), color = n.style("color");
      const r = n.hasClass("terminal") ? nh / 2 : 8;
      out.push(`<rect x="${X(p.x - nw / 2)}" y="${Y(p.y - nh / 2)}" width="${nw}" height="${nh}" rx="${r}" fill="${fill}" stroke="${n.style("border-color")}"/>`);
      const lines = String(n.data("display") || "").split("\n");
      lines.forEach((line, i) => out.push(`<text x="${X(p.x)}" y="${Y(p.y + (i - (lines.length - 1) / 2) * 14 + 4)}" font-size="12" text-anchor="middle" fill="${color}">${esc(line)}</text>`));
    });
    out.push("</svg>");
    return out.join("\n");
  };

  /* ---- token animation ---- */
  function bezierPoint(e, f) {
    const s = e.sourceEndpoint(), t = e.targetEndpoint(), m = e.midpoint();
    const c = { x: 2 * m.x - (s.x + t.x) / 2, y: 2 * m.y - (s.y + t.y) / 2 };
    const g = 1 - f;
    return { x: g * g * s.x + 2 * g * f * c.x + f * f * t.x, y: g * g * s.y + 2 * g * f * c.y + f * f * t.y };
  }

  L2C.Animation = class {
    constructor(cy, container, data, clock, counter) {
      this.cy = cy; this.clock = clock; this.counter = counter; this.running = false;
      this.start = new Date(data.start); this.span = data.span_s; this.t = 0; this.speed = 604800;
      this.segments = [];
      for (const c of data.cases) {
        for (let i = 0; i + 1 < c.events.length; i++) {
          const [a, ta] = c.events[i], [b, tb] = c.events[i + 1];
          this.segments.push([a + "\u2192" + b, ta, Math.max(tb, ta + 1)]);
        }
      }
      this.segments.sort((x, y) => x[1] - y[1]);
      this.canvas = document.createElement("canvas");
      this.canvas.className = "anim-canvas";
      container.appendChild(this.canvas);
    }
    play() {
      if (this.running) return;
      this.running = true; this.last = performance.now();
      const step = (now) => {
        if (!this.running) return;
        this.t += ((now - this.last) / 1000) * this.speed; this.last = now;
        if (this.t > this.span) this.t = 0;
        this.draw();
        requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    }
    pause() { this.running = false; }
    draw() {
      const cv = this.canvas, box = cv.parentElement.getBoundingClientRect(), ratio = window.devicePixelRatio || 1;
      if (cv.width !== Math.round(box.width * ratio)) { cv.width = Math.round(box.width * ratio); cv.height = Math.round(box.height * ratio); }
      const ctx = cv.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, box.width, box.height);
      const zoom = this.cy.zoom(), pan = this.cy.pan();
      let n = 0;
      ctx.fillStyle = "rgba(242, 169, 0, 0.9)"; ctx.strokeStyle = "#7a4a00"; ctx.lineWidth = 0.8;
      for (const [id, ta, tb] of this.segments) {
        if (ta > this.t) break;
        if (tb < this.t) continue;
        const e = this.cy.getElementById(id);
        if (!e || e.empty()) continue;
        const p = bezierPoint(e, (this.t - ta) / (tb - ta));
        ctx.beginPath(); ctx.arc(p.x * zoom + pan.x, p.y * zoom + pan.y, 4, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
        n++;
      }
      const now = new Date(this.start.getTime() + this.t * 1000);
      this.clock.textContent = now.toISOString().slice(0, 10);
      this.clock.dataset.animTime = String(Math.round(this.t));
      this.counter.textContent = n + " cases moving";
      this.counter.dataset.tokens = String(n);
    }
    stop() { this.running = false; this.canvas.remove(); }
  };

  /* ---- the map page ---- */
  function mapPage() {
    const el = document.getElementById("map");
    if (!el || !el.dataset.map || el.dataset.static) return;
    let data = JSON.parse(el.dataset.map);
    let view = "frequency", measure = "cases";
    let cy = L2C.drawMap(el, data, { view, measure });
    let anim = null;
    const scope = el.dataset.scope;
    const measureSel = document.getElementById("measure");
    const detail = document.getElementById("detail");
    L2C.cy = cy;

    function measures() {
      const opts = view === "frequency" ? [["cases", "case frequency"], ["frequency", "absolute frequency"]]
        : [["median", "median duration"], ["mean", "mean duration"], ["p90", "90th percentile"]];
      measureSel.innerHTML = opts.map(([v, l]) => `<option value="${v}">${l}</option>`).join("");
      measure = opts[0][0];
    }

    function bind() {
      cy.on("tap", "node", (ev) => showNode(ev.target.data()));
      cy.on("tap", "edge", (ev) => showEdge(ev.target.data()));
    }

    function caseList(params) {
      const target = document.getElementById("detail-cases");
      const url = "/fragments/cases?" + [scope, params].filter(Boolean).join("&");
      if (window.htmx) htmx.ajax("GET", url, { target: target, swap: "innerHTML" });
      else fetch(url).then((r) => r.text()).then((t) => { target.innerHTML = t; });
    }

    function showNode(d) {
      if (d.virtual) return;
      detail.innerHTML = `<h3>${esc(d.label)}</h3><dl>
        <dt>events</dt><dd>${fmtN(d.events)}</dd><dt>cases</dt><dd>${fmtN(d.cases)}</dd>
        <dt>starts here</dt><dd>${fmtN(d.starts)}</dd><dt>ends here</dt><dd>${fmtN(d.ends)}</dd></dl>
        <div id="detail-cases" data-for="${esc(d.label)}" class="muted">loading cases…</div>`;
      caseList("has=" + encodeURIComponent(d.id));
    }

    function showEdge(d) {
      if (d.virtual) return;
      const dayS = data.day_s || 86400;
      detail.innerHTML = `<h3>${esc(d.source)} → ${esc(d.target)}</h3><dl>
        <dt>frequency</dt><dd>${fmtN(d.frequency)}</dd><dt>cases</dt><dd>${fmtN(d.cases)}</dd>
        <dt>mean</dt><dd>${humanDuration(d.duration_mean_s, dayS)}</dd><dt>median</dt><dd>${humanDuration(d.duration_median_s, dayS)}</dd>
        <dt>p90</dt><dd>${humanDuration(d.duration_p90_s, dayS)}</dd><dt>min / max</dt><dd>${humanDuration(d.duration_min_s, dayS)} / ${humanDuration(d.duration_max_s, dayS)}</dd></dl>
        <div id="detail-cases" data-for="${esc(d.source)}→${esc(d.target)}" class="muted">loading cases…</div>`;
      caseList("follows=" + encodeURIComponent(d.source) + "&to=" + encodeURIComponent(d.target));
    }

    function params() {
      return { activities: document.getElementById("activities").value / 100, paths: document.getElementById("paths").value / 100,
               time: document.getElementById("map-time").value };
    }

    let pending = null;
    function reload() {
      const p = params();
      document.getElementById("activities-out").textContent = Math.round(p.activities * 100) + "%";
      document.getElementById("paths-out").textContent = Math.round(p.paths * 100) + "%";
      clearTimeout(pending);
      pending = setTimeout(() => {
        const q = new URLSearchParams(scope);
        q.set("activities", p.activities); q.set("paths", p.paths); q.set("time", p.time);
        el.dataset.loading = "1";
        fetch("/api/map?" + q.toString()).then((r) => r.json()).then((d) => {
          if (d.error) { detail.innerHTML = `<div class="error">${esc(d.error)}</div>`; return; }
          data = d;
          if (anim) { anim.stop(); anim = null; resetAnim(); }
          cy.destroy();
          cy = L2C.drawMap(el, data, { view, measure }); L2C.cy = cy; bind();
          history.replaceState(null, "", location.pathname + "?" + q.toString());
          const footer = document.getElementById("terminal");  /* the terminal command of these options */
          if (footer && window.htmx) htmx.ajax("GET", "/fragments/terminal?view=map&" + q.toString(), { target: footer, swap: "outerHTML" });
          delete el.dataset.loading;
        });
      }, 150);
    }

    document.querySelectorAll("[data-view]").forEach((b) => b.addEventListener("click", () => {
      document.querySelectorAll("[data-view]").forEach((x) => x.classList.toggle("on", x === b));
      view = b.dataset.view; measures(); L2C.restyle(cy, data, view, measure);
      el.dataset.view = view;
    }));
    measureSel.addEventListener("change", () => { measure = measureSel.value; L2C.restyle(cy, data, view, measure); });
    ["activities", "paths"].forEach((id) => document.getElementById(id).addEventListener("input", reload));
    document.getElementById("map-time").addEventListener("change", reload);
    document.getElementById("export-svg").addEventListener("click", () =>
      L2C.download("process-map.svg", new Blob([L2C.mapSvg(cy)], { type: "image/svg+xml" })));
    document.getElementById("export-png").addEventListener("click", () =>
      L2C.download("process-map.png", cy.png({ full: true, scale: 2, bg: "#ffffff", output: "blob" })));

    const play = document.getElementById("anim-play"), speed = document.getElementById("anim-speed");
    function resetAnim() { play.textContent = "▶ Animate"; }
    play.addEventListener("click", () => {
      if (anim && anim.running) { anim.pause(); play.textContent = "▶ Resume"; return; }
      if (anim) { anim.play(); play.textContent = "❚❚ Pause"; return; }
      play.disabled = true;
      fetch("/api/animation?" + scope).then((r) => r.json()).then((d) => {
        play.disabled = false;
        if (!d.cases || !d.cases.length) return;
        anim = new L2C.Animation(cy, el, d, document.getElementById("anim-clock"), document.getElementById("anim-tokens"));
        anim.speed = Number(speed.value);
        anim.play(); play.textContent = "❚❚ Pause";
      });
    });
    speed.addEventListener("change", () => { if (anim) anim.speed = Number(speed.value); });
    bind();
  }

  function staticMaps() {
    document.querySelectorAll(".map[data-static]").forEach((el) => {
      const legend = document.createElement("div");
      legend.className = "map-legend";
      el.after(legend);
      L2C.drawMap(el, JSON.parse(el.dataset.map), { legend, compact: el.classList.contains("small-map") });
    });
  }

  function esc(t) { return String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;"); }

  document.addEventListener("DOMContentLoaded", () => {
    if (!window.cytoscape) return;
    try { if (window.cytoscapeDagre) cytoscape.use(window.cytoscapeDagre); } catch (e) { /* registered already */ }
    mapPage();
    staticMaps();
  });
})(window.L2C);
