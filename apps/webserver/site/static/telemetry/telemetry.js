// telemetry.js - keeps the live telemetry page current: every 500 ms it
// fetches /api/stats.json and /api/requests.json from the Kiln guest and
// fills the cards, the two charts (plain SVG paths) and the request feed.
// Written for this page; no libraries.
(function () {
  "use strict";
  var PERIOD = 500;
  function $(id) { return document.getElementById(id); }
  function set(id, v) { var e = $(id); if (e) e.textContent = v; }
  function num(n) { return Number(n).toLocaleString("en-US"); }
  function uptime(ms) {
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24,
        m = Math.floor(s / 60) % 60, sec = s % 60;
    var t = (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + sec + "s";
    return t;
  }

  function chart(id, values) {
    var svg = $(id);
    if (!svg) return;
    var w = 300, h = 80, n = values.length;
    var max = Math.max.apply(null, values.concat([1]));
    var pts = values.map(function (v, i) {
      var x = n > 1 ? (i * w) / (n - 1) : w;
      var y = h - 4 - (v / max) * (h - 10);
      return x.toFixed(1) + "," + y.toFixed(1);
    });
    var line = pts.length ? "M" + pts.join(" L") : "";
    var area = pts.length ? line + " L" + w + "," + h + " L" + (n > 1 ? 0 : w) + "," + h + " Z" : "";
    svg.innerHTML = '<path class="area" d="' + area + '"></path><path class="line" d="' + line + '"></path>';
  }

  function stats(s) {
    set("uptime", uptime(s.uptime_ms));
    set("timers", num(s.timers.fired));
    set("wakeups", num(s.timers.wakeups));
    set("served", num(s.http.conns_served));
    set("requests", num(s.http.requests));
    set("active", num(s.http.active));
    set("capacity", num(s.http.capacity));
    set("mem", num(Math.round(s.mem.used / 1024)));
    set("memtotal", num(Math.round(s.mem.total / 1048576)));
    set("files", num(s.assets.files));
    set("bakedkib", num(Math.round(s.assets.bytes / 1024)));
    set("gzkib", num(Math.round(s.assets.gz_bytes / 1024)));
    if (s.nic) {
      set("mac", s.nic.mac);
      set("nicname", s.nic.name);
      set("mtu", s.nic.mtu);
      set("features", s.nic.features || "none");
    }
    if (s.tcp) {
      set("segsin", num(s.tcp.segs_in));
      set("segsout", num(s.tcp.segs_out));
      set("retrans", num(s.tcp.retransmits));
      set("rstin", num(s.tcp.resets_in));
      set("rstout", num(s.tcp.resets_out));
      set("tcpconns", num(s.tcp.conns));
      set("timewait", num(s.tcp.timewait));
    }
    if (s.net) {
      set("pools", s.net.pools.map(function (p) {
        return p.name + ": " + num(p.in_use) + " of " + num(p.total) + " in use (low water " +
          num(p.low_water) + " free, " + num(p.refused) + " refused)";
      }).join("; ") || "-");
      set("poolkib", num(Math.round(s.net.pools_in_use_bytes / 1024)));
      var d = Object.keys(s.net.drops).filter(function (k) { return s.net.drops[k] > 0; });
      set("drops", d.map(function (k) { return k + " " + num(s.net.drops[k]); }).join(", ") || "none");
      var m = s.net.tcp_mem;
      if (m)
        set("tcpmem", "TCP holds " + num(Math.round(m.bytes / 1024)) + " KiB (pressure at " +
          num(Math.round(m.pressure / 1024)) + ", budget " + num(Math.round(m.limit / 1024)) +
          " KiB); " + num(m.collapsed) + " collapsed, " + num(m.pruned) + " islands pruned, " +
          num(m.rcv_dropped + m.snd_limited) + " refused");
      var st = s.net.tcp_states || {};
      set("tcpstates", Object.keys(st).filter(function (k) { return st[k] > 0; })
        .map(function (k) { return k + " " + num(st[k]); }).join(", ") || "none");
    }
    var c = s.cores && s.cores[0];
    if (c) {
      set("passes", num(c.passes));
      set("busy", num(c.busy_passes));
      set("halts", num(c.halts));
      set("tasks", num(c.tasks_run));
    }
    var hr = s.history.requests, hm = s.history.mem_kib;
    chart("chart-req", hr);
    chart("chart-mem", hm);
    set("req-now", hr.length ? num(hr[hr.length - 1]) + " requests in the last second" : "collecting…");
    set("mem-now", hm.length ? num(hm[hm.length - 1]) + " KiB now" : "collecting…");
  }

  function feed(f) {
    var ol = $("feed");
    if (!ol) return;
    var frag = document.createDocumentFragment();
    f.requests.forEach(function (r) {
      var li = document.createElement("li");
      var t = document.createElement("span");
      t.className = "t";
      t.textContent = "-" + ((f.now_ms - r.t_ms) / 1000).toFixed(1) + " s";
      var s = document.createElement("span");
      s.className = "s" + (r.status >= 400 ? " err" : "");
      s.textContent = r.status;
      var p = document.createElement("span");
      p.className = "p";
      p.textContent = r.method + " " + r.path;
      li.appendChild(t); li.appendChild(s); li.appendChild(p);
      frag.appendChild(li);
    });
    if (!f.requests.length) {
      var e = document.createElement("li");
      e.className = "empty";
      e.textContent = "waiting for the first request…";
      frag.appendChild(e);
    }
    var atBottom = ol.scrollTop + ol.clientHeight >= ol.scrollHeight - 4;
    ol.replaceChildren(frag);
    if (atBottom) ol.scrollTop = ol.scrollHeight;
  }

  function get(url) {
    return fetch(url, { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error(url + ": " + r.status);
      return r.json();
    });
  }

  var live = document.querySelectorAll("a[data-live]");
  for (var i = 0; i < live.length; i++) live[i].href = live[i].getAttribute("data-live");

  var busy = false;
  function tick() {
    if (busy) return;
    busy = true;
    Promise.all([get("/api/stats.json"), get("/api/requests.json")]).then(function (v) {
      stats(v[0]);
      feed(v[1]);
      var st = $("status");
      st.className = "status live";
      st.textContent = "live, every " + PERIOD + " ms";
    }).catch(function (e) {
      var st = $("status");
      st.className = "status down";
      st.textContent = "no answer (" + e.message + "), retrying";
    }).then(function () { busy = false; });
  }
  tick();
  setInterval(tick, PERIOD);
})();
