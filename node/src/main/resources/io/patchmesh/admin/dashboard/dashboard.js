// patchmesh dashboard: polls the admin API and renders rollouts per site.
// The token comes from the URL fragment (#token=...) or a prompt; it is kept
// in sessionStorage only and sent as a bearer token.
"use strict";
(function () {
  const frag = new URLSearchParams(location.hash.slice(1));
  if (frag.get("token")) {
    sessionStorage.setItem("patchmesh-token", frag.get("token"));
    history.replaceState(null, "", location.pathname);
  }
  const $ = (id) => document.getElementById(id);
  const fmtBytes = (n) => {
    if (n < 1024) return n + " B";
    const u = ["KiB", "MiB", "GiB", "TiB"];
    let i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
    return n.toFixed(n >= 100 ? 0 : 1) + " " + u[i];
  };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;","'":"&#39;"}[c]));
  const bar = (frac) => {
    const pct = Math.max(0, Math.min(100, Math.floor(frac * 100)));
    return `<span class="bar"><span class="${pct >= 100 ? "done" : ""}" style="width:${pct}%"></span></span><span class="pct">${pct}%</span>`;
  };

  async function api(path) {
    const token = sessionStorage.getItem("patchmesh-token") || "";
    const r = await fetch(path, { headers: { Authorization: "Bearer " + token } });
    if (r.status === 401) { $("token-box").hidden = false; throw new Error("unauthorized"); }
    if (!r.ok) throw new Error(path + ": " + r.status);
    return r.json();
  }

  function renderRollout(r) {
    const total = r.sites.reduce((a, s) => a + s.targeted, 0);
    const applied = r.sites.reduce((a, s) => a + s.applied, 0);
    const wan = r.sites.reduce((a, s) => a + s.wanBytes, 0);
    const naive = r.sites.reduce((a, s) => a + s.everyAgentBytes, 0);
    const saved = Math.max(0, naive - wan);
    let rows = "";
    for (const s of r.sites) {
      const frac = s.chunksTotal > 0 ? s.chunksHave / s.chunksTotal : 0;
      const appliedFrac = s.targeted > 0 ? s.applied / s.targeted : 0;
      rows += `<tr data-site="${esc(s.site)}"><td>${esc(s.site)}</td><td>${bar(frac)}</td><td>${bar(appliedFrac)}</td>` +
        `<td>${s.applied}/${s.targeted}${s.failed ? ` <span class="state-failed">${s.failed} failed</span>` : ""}` +
        // targeted agents silent at this seed for 15 s+ that have not applied it: the rollout is not done while any is
        `${s.unheard ? ` <span class="muted">${s.unheard} unheard</span>` : ""}` +
        // silent since they reported applying: they died or hung applying, and count as failed in their stage
        `${s.silentApplying ? ` <span class="state-failed">${s.silentApplying} silent while applying</span>` : ""}</td>` +
        `<td class="num">${fmtBytes(s.wanBytes)}</td><td class="num muted">${fmtBytes(s.everyAgentBytes)}</td><td class="fill"></td></tr>`;
    }
    let agents = "";
    const byPlace = [...r.agents].sort((x, y) => x.site.localeCompare(y.site) || x.id.localeCompare(y.id));
    for (const a of byPlace) {
      const frac = a.chunksTotal > 0 ? a.chunks / a.chunksTotal : 0;
      agents += `<tr><td>${esc(a.site)}</td><td title="${esc(a.id)}">${esc(a.id.slice(0, 12))}</td>` +
        `<td class="state-${esc(a.state)}">${esc(a.state)}</td><td>${bar(frac)}</td><td class="num">${fmtBytes(a.bytesWan)}</td>` +
        `<td class="num">${fmtBytes(a.bytesLan)}</td><td class="fill reason ${a.state === "failed" || a.state === "silent-applying" ? "state-failed" : "muted"}">${esc(a.reason || "")}` +
        // laptop policies holding the agent back right now (battery, metered link, VPN, rate schedule)
        ((a.heldBack || []).length ? `<div class="held-back muted">held back: ${esc(a.heldBack.join("; "))}</div>` : "") +
        // offline catch-up: versions of its channels it has yet to apply, and when the seed last heard it
        (a.behindVersions > 0 ? `<div class="behind muted">behind by ${esc(a.behindVersions)} version${a.behindVersions === 1 ? "" : "s"}` +
          (a.lastSeenSecondsAgo >= 0 ? ` · last seen ${esc(a.lastSeenSecondsAgo)} s ago` : "") + `</div>` : "") + `</td></tr>`;
    }
    return `<div class="rollout" data-manifest="${esc(r.manifestId)}" data-applied="${applied}" data-targeted="${total}">` +
      `<h3>${esc(r.channel)} v${esc(r.version)} <span class="muted">${esc(r.manifestId.slice(0, 12))} · ${fmtBytes(r.bytes)}${r.state ? " · " + esc(r.state) : ""}${r.stages > 1 ? " · stage " + esc(r.stage) + "/" + esc(r.stages) + " (" + esc(r.openPercent) + "%)" : ""}${r.urgent ? ` · <span class="state-failed">urgent</span>` : ""}</span></h3>` +
      (r.reason ? `<div class="summary state-${r.state === "halted" || r.state === "aborted" ? "failed" : "waiting"}">${esc(r.reason)}</div>` : "") +
      // who steers when this seed does not (a follower in a seed cluster); a lost session is already in the reason
      (r.control && !(r.reason || "").includes(r.control) ? `<div class="summary muted">${esc(r.control)}</div>` : "") +
      `<div class="summary">${applied}/${total} agents applied${r.unheard ? ` · ${esc(r.unheard)} unheard (silent 15 s+, not applied)` : ""}` +
      `${r.silentApplying ? ` · <span class="state-failed">${esc(r.silentApplying)} silent while applying (count as failed)</span>` : ""}` +
      `${r.offline ? ` · ${esc(r.offline)} offline over ${esc(r.offlineAfterHours)}h, not counted` : ""} · WAN ${fmtBytes(wan)} instead of ${fmtBytes(naive)} · ` +
      `<span class="saved">saved ${fmtBytes(saved)}</span></div>` +
      `<table><tr><th>site</th><th>chunks</th><th>applied</th><th>agents</th><th class="num">WAN bytes</th><th class="num">every-agent-downloads</th><th class="fill"></th></tr>${rows}</table>` +
      `<details><summary>agents (${r.agents.length})</summary><table><tr><th>site</th><th>agent</th><th>state</th><th>chunks</th><th class="num">WAN</th><th class="num">LAN</th><th class="fill">reason</th></tr>${agents}</table></details></div>`;
  }

  function renderCompliance(c) {
    if (!c || !c.channels || c.channels.length === 0) return `<p class="muted">No channels.</p>`;
    let rows = "";
    for (const ch of c.channels) {
      for (const s of ch.sites) {
        rows += `<tr><td>${esc(ch.channel)}</td><td>v${esc(ch.desiredVersion)}</td><td>${esc(s.site)}</td>` +
          `<td>${bar(s.targeted ? s.compliant / s.targeted : 0)}</td><td>${s.compliant}/${s.targeted}</td>` +
          `<td>${s.behind}</td><td class="${s.failed ? "state-failed" : ""}">${s.failed}</td><td>${s.stale}</td></tr>`;
      }
    }
    return `<table><tr><th>channel</th><th>desired</th><th>site</th><th>compliant</th><th></th><th>behind</th><th>failed</th><th>not seen</th></tr>${rows}</table>`;
  }

  function renderMembers(st) {
    const bySite = {};
    for (const m of st.members) (bySite[m.site] = bySite[m.site] || []).push(m);
    let out = `<table class="members"><tr><th>site</th><th>members</th></tr>`;
    for (const site of Object.keys(bySite).sort()) {
      const ms = bySite[site];
      out += `<tr><td>${esc(site)}</td><td>` + ms.map((m) =>
        `<span class="state-${esc(m.state)}" title="${esc(m.id)} ${esc(m.state)}">●</span>`).join(" ") +
        ` <span class="muted">${ms.filter((m) => m.state === "alive").length}/${ms.length} alive</span></td></tr>`;
    }
    return out + "</table>";
  }

  async function refresh() {
    try {
      const st = await api("/api/v1/status");
      $("node").textContent = `${st.node.site} · ${st.node.id.slice(0, 12)} · ${st.node.roles.join(",")}`;
      $("members").innerHTML = renderMembers(st);
      const rs = await api("/api/v1/rollouts");
      $("rollouts").innerHTML = rs.length ? rs.map(renderRollout).join("") : `<p class="muted">No manifests yet.</p>`;
      try {
        $("compliance").innerHTML = renderCompliance(await api("/api/v1/compliance"));
        $("compliance-section").hidden = false;
      } catch (e) {
        if (e.message === "unauthorized") throw e;
        $("compliance-section").hidden = true; // this node has no compliance view
      }
      $("conn").textContent = "live"; $("conn").className = "pill live";
    } catch (e) {
      $("conn").textContent = e.message === "unauthorized" ? "token needed" : "disconnected";
      $("conn").className = "pill down";
    }
  }

  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem("patchmesh-token", $("token-input").value.trim());
    $("token-box").hidden = true;
    refresh();
  });
  refresh();
  setInterval(refresh, 1000);
})();
