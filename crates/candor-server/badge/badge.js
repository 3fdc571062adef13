// Candor's live badge: follows one session through Server-Sent Events and shows its
// state in words, colour and icon, the reason with what to do, identity checks, a
// timeline, presence problems, challenges and, after the call, the summary. The link's
// token (`t`) is the only credential; it never leaves this origin.
"use strict";
(function () {
  const params = new URLSearchParams(location.search);
  const token = params.get("t") || "";
  if (params.get("embed") === "1") document.body.classList.add("embed");

  const $ = (id) => document.getElementById(id);
  const SVG = {
    check: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"><circle cx="12" cy="12" r="10.5"/><path d="M7 12.5l3.2 3.2L17 8.8"/></svg>',
    warn: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"><path d="M12 2.5L22.5 21H1.5z"/><path d="M12 9v5.5"/><path d="M12 17.8v.2"/></svg>',
    stop: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"><path d="M8 1.5h8l6.5 6.5v8L16 22.5H8L1.5 16V8z"/><path d="M8.5 8.5l7 7M15.5 8.5l-7 7"/></svg>',
    question: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"><circle cx="12" cy="12" r="10.5"/><path d="M9.2 9.2a2.9 2.9 0 1 1 4.1 2.6c-.8.4-1.3 1-1.3 1.9v.6"/><path d="M12 17.6v.2"/></svg>',
    clock: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"><circle cx="12" cy="12" r="10.5"/><path d="M12 6.5V12l3.5 2.5"/></svg>',
    lock: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"><rect x="4" y="10.5" width="16" height="11" rx="2"/><path d="M8 10.5V7a4 4 0 0 1 8 0v3.5"/></svg>',
  };
  const STATES = {
    clear: { words: "Clear", icon: "check" },
    suspicious: { words: "Suspicious", icon: "warn" },
    alert: { words: "Alert", icon: "stop" },
    inconclusive: { words: "Can't tell", icon: "question" },
    connecting: { words: "Connecting…", icon: "clock" },
    waiting: { words: "Waiting for video", icon: "clock" },
    expired: { words: "Link expired", icon: "lock" },
    forbidden: { words: "No access", icon: "lock" },
  };
  // What each reason means for the person watching, and what to do about it.
  const REASONS = {
    live_face: ["A live face; nothing wrong found.", ""],
    virtual_camera: ["The camera is a virtual camera (OBS, ManyCam…). Many honest people use one.", "Note it; watch the other checks."],
    camera_off: ["The camera is off or covered.", "Ask the candidate to turn their camera on."],
    no_face: ["No face in view.", "Ask the candidate to face the camera."],
    face_too_small: ["The face is too small to judge.", "Ask the candidate to move closer to the camera."],
    too_dark: ["The picture is too dark.", "Ask the candidate to turn on a light in front of them."],
    too_bright: ["The picture is too bright.", "Ask the candidate to move away from the bright light behind or in front of them."],
    too_blurred: ["The picture is too blurred.", "Ask the candidate to hold still or clean the camera."],
    no_analysed_frames: ["No frames could be analysed yet.", "Wait a moment; check that the video is flowing."],
    liveness_low: ["The face looks like a print, a screen or a replay.", "Ask the candidate to turn their head, or press a challenge button."],
    synthetic_face: ["The face may be swapped or generated.", "Press a challenge (turn head, cover face); watch for identity jumps."],
    identity_changed: ["A different person is on camera than at the start.", "Check who is interviewing."],
    identity_unstable: ["Some identity checks did not match the face from the start.", "Watch closely; ask the candidate to turn their head."],
    candidate_mismatch: ["The person is not the candidate enrolled in an earlier round.", "Stop and verify identity by another channel."],
    blocklisted_identity: ["The face matches an identity on your blocklist.", "Stop and verify identity by another channel."],
    frozen_video: ["The picture does not change: a frozen feed or a still photo.", "Ask the candidate to move or wave."],
    looped_video: ["The picture replays an earlier stretch: a recording in a loop.", "Press a challenge: a recording cannot answer."],
    looped_video_sustained: ["The video has been looping for several segments.", "Treat it as a replay: stop and verify."],
    rigid_motion: ["The face moves like a flat picture: a photo or screen held up.", "Press a challenge: ask the candidate to turn their head."],
    rigid_motion_sustained: ["The face has moved like a flat picture for several segments.", "Treat it as a photo: stop and verify."],
    looking_away: ["The candidate keeps looking away from the camera.", "Ask the candidate to face the camera."],
    several_faces: ["More than one face is in view.", "Ask who else is present."],
  };
  // Problems of presence, as the presence list names them.
  const PRESENCE = {
    camera_off: "Camera off or covered",
    no_face: "No face in view",
    face_too_small: "Face too small",
    too_dark: "Too dark",
    too_bright: "Too bright",
    too_blurred: "Too blurred",
    several_faces: "Several faces",
    looking_away: "Looking away",
    no_analysed_frames: "No usable video",
  };
  const OUTCOME = { pass: "Passed", fail: "Failed", inconclusive: "Can't tell", pending: "Checking…", unknown: "Unknown" };
  const KIND = { turn_head: "Turn head", look_up: "Look up", cover_face: "Cover face", blink: "Blink" };

  const segments = new Map();
  const challenges = new Map();
  let es = null;
  let lastEvent = Date.now();
  let finished = false;
  let retry = 1000;
  let canChallenge = false;

  const pct = (x) => (x === null || x === undefined ? null : Math.round(x * 100) + " %");
  const clock = (s) => {
    const t = Math.max(0, Math.floor(s));
    return Math.floor(t / 60) + ":" + String(t % 60).padStart(2, "0");
  };
  const reasonWords = (r) => (REASONS[r.code] || [r.message || r.code, ""]);

  function setBadge(state, confidenceText) {
    const s = STATES[state] || STATES.inconclusive;
    const badge = $("badge");
    badge.dataset.state = state;
    $("badge-icon").innerHTML = SVG[s.icon];
    $("badge-state").textContent = s.words;
    if (confidenceText !== undefined) $("confidence").textContent = confidenceText;
  }

  function latest() {
    let best = null;
    for (const s of segments.values()) if (!best || s.index > best.index) best = s;
    return best;
  }

  function renderLatest() {
    const s = latest();
    if (!s) return;
    const conf = pct(s.attack_score);
    setBadge(s.state, conf ? "Attack confidence: " + conf : "Attack confidence: not measured (no usable face)");
    const top = s.reasons[0];
    if (top) {
      const [words, todo] = reasonWords(top);
      $("reason-text").textContent = words;
      // Without challenge buttons, the recruiter asks in their own words.
      $("reason-todo").textContent = canChallenge ? todo : todo
        .replace(/, or press a challenge button/, "")
        .replace(/^Press a challenge(: | \()?/, "Ask for a challenge$1");
    } else if (s.state === "clear") {
      $("reason-text").textContent = REASONS.live_face[0];
      $("reason-todo").textContent = "";
    } else {
      $("reason-text").textContent = "No reason given.";
      $("reason-todo").textContent = "";
    }
    renderIdentity(s);
  }

  function renderIdentity(s) {
    const codes = new Set(s.reasons.map((r) => r.code));
    const start = $("id-start");
    if (codes.has("identity_changed")) {
      start.dataset.ok = "no";
      start.textContent = "A different person from the start of the call";
    } else if (codes.has("identity_unstable")) {
      start.dataset.ok = "doubt";
      start.textContent = "Some checks did not match the person at the start";
    } else if (s.identity_similarity !== null && s.identity_similarity !== undefined) {
      start.dataset.ok = "yes";
      start.textContent = "Same person as at the start of the call";
    }
    const cand = $("id-candidate");
    if (codes.has("candidate_mismatch")) {
      cand.dataset.ok = "no";
      cand.textContent = "Not the enrolled candidate";
    } else if (codes.has("blocklisted_identity")) {
      cand.dataset.ok = "no";
      cand.textContent = "Matches an identity on the blocklist";
    } else if (s.candidate_similarity !== null && s.candidate_similarity !== undefined) {
      cand.dataset.ok = "yes";
      cand.textContent = "Matches the enrolled candidate (similarity " + s.candidate_similarity.toFixed(2) + ")";
    } else if (cand.dataset.ok === "unknown") {
      cand.textContent = "Enrolled candidate: not verified (no enrolment to compare with)";
    }
  }

  function segmentText(s) {
    const words = (STATES[s.state] || STATES.inconclusive).words;
    const why = s.reasons.length ? s.reasons.map((r) => reasonWords(r)[0]).join(" ") : REASONS.live_face[0];
    const conf = pct(s.attack_score);
    return clock(s.start_s) + "–" + clock(s.end_s) + " · " + words + (conf ? " · attack " + conf : "") + " · " + why;
  }

  function renderTimeline() {
    const tl = $("timeline");
    const sorted = [...segments.values()].sort((a, b) => a.index - b.index);
    const have = new Map([...tl.children].map((el) => [Number(el.dataset.index), el]));
    for (const s of sorted) {
      let el = have.get(s.index);
      if (!el) {
        el = document.createElement("button");
        el.type = "button";
        el.className = "seg";
        el.dataset.index = String(s.index);
        const show = () => { $("segment-detail").textContent = segmentText(segments.get(Number(el.dataset.index))); };
        el.addEventListener("mouseenter", show);
        el.addEventListener("focus", show);
        el.addEventListener("click", show);
        tl.appendChild(el);
      }
      el.dataset.state = s.state;
      el.title = segmentText(s);
      el.setAttribute("aria-label", segmentText(s));
      el.setAttribute("role", "listitem");
    }
  }

  function renderPresence() {
    const totals = new Map();
    const last = latest();
    for (const s of segments.values()) {
      const codes = new Set(s.reasons.map((r) => r.code));
      if (s.abstain) codes.add(s.abstain);
      for (const c of codes) {
        if (!PRESENCE[c]) continue;
        totals.set(c, (totals.get(c) || 0) + (s.end_s - s.start_s));
      }
    }
    const list = $("presence-list");
    list.textContent = "";
    if (!totals.size) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = "No presence problems so far.";
      list.appendChild(li);
      return;
    }
    for (const [code, secs] of totals) {
      const li = document.createElement("li");
      li.dataset.code = code;
      const now = last && (last.abstain === code || last.reasons.some((r) => r.code === code));
      if (now) li.className = "now";
      li.textContent = PRESENCE[code] + ": " + Math.round(secs) + " s in total" + (now ? " (now)" : "");
      list.appendChild(li);
    }
  }

  function renderChallenge(c) {
    let li = document.querySelector('#challenge-list li[data-id="' + CSS.escape(c.challenge_id) + '"]');
    if (!li) {
      li = document.createElement("li");
      li.dataset.id = c.challenge_id;
      $("challenge-list").prepend(li);
    }
    li.dataset.outcome = c.outcome;
    li.textContent = "";
    const name = document.createElement("span");
    name.textContent = (KIND[c.kind] || c.kind) + ": ";
    const outcome = document.createElement("span");
    outcome.className = "outcome";
    outcome.textContent = OUTCOME[c.outcome] || c.outcome;
    const msg = document.createElement("div");
    msg.className = "message";
    msg.textContent = c.message || "";
    li.append(name, outcome, msg);
  }

  function renderSummary(s) {
    const dl = $("summary-list");
    dl.textContent = "";
    const row = (k, v) => {
      if (v === null || v === undefined || v === "") return;
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      dl.append(dt, dd);
    };
    row("Worst state", (STATES[s.worst_state] || STATES.inconclusive).words);
    row("Length", clock(s.duration_s) + " in " + s.segments + " segments");
    row("Time by state", s.time_share.filter((t) => t.share > 0).map((t) => (STATES[t.state] || STATES.inconclusive).words + " " + pct(t.share)).join(", "));
    row("Highest attack confidence", pct(s.max_attack_score));
    row("Main reasons", s.reasons.slice(0, 3).map((r) => reasonWords(r)[0]).join(" "));
    if (s.candidate_similarity !== null && s.candidate_similarity !== undefined) {
      row("Enrolled candidate", "similarity " + s.candidate_similarity.toFixed(2));
    }
    row("Blinks", s.blinks);
    if (s.ended_by && s.ended_by !== "finished") row("Ended by", s.ended_by.replace(/_/g, " "));
    $("summary").hidden = false;
  }

  const meta = { who: "", link: "" };
  function renderMeta() {
    $("meta").textContent = [meta.who, meta.link].filter(Boolean).join(" · ");
  }

  function setStale(text) {
    const p = $("stale");
    p.hidden = !text;
    p.textContent = text || "";
  }

  function stopChallenges() {
    for (const b of document.querySelectorAll(".buttons button")) b.disabled = true;
  }

  const handlers = {
    hello(d) {
      canChallenge = d.challenges;
      $("challenges").hidden = !canChallenge;
      meta.link = "Link valid until " + new Date(d.expires_at * 1000).toLocaleTimeString();
      renderMeta();
    },
    waiting() {
      if (!segments.size) setBadge("waiting", "The interview's video has not started yet");
    },
    session(d) {
      meta.who = "Participant " + d.participant_id + (d.interview_ref ? " · interview " + d.interview_ref : "");
      $("meta").dataset.session = d.session_id;
      renderMeta();
      if (!segments.size) setBadge("waiting", "Waiting for the first segment (about 2 s)");
    },
    segment(d) {
      segments.set(d.index, d);
      renderLatest();
      renderTimeline();
      renderPresence();
    },
    state_change() {},
    challenge(d) {
      challenges.set(d.challenge_id, d);
      renderChallenge(d);
    },
    summary(d) {
      if (d.complete) renderSummary(d);
    },
    end() {
      finished = true;
      stopChallenges();
      if (es) es.close();
      setStale("");
      $("badge-state").textContent = (STATES[($("badge").dataset.state)] || STATES.waiting).words + " · call ended";
    },
    expired() {
      finished = true;
      if (es) es.close();
      stopChallenges();
      setBadge("expired", "Ask for a new link to keep watching");
      setStale("");
    },
    ping() {},
  };

  function connect() {
    es = new EventSource("badge/events?t=" + encodeURIComponent(token));
    es.onopen = () => { retry = 1000; lastEvent = Date.now(); setStale(""); };
    for (const name of Object.keys(handlers)) {
      es.addEventListener(name, (ev) => {
        lastEvent = Date.now();
        let data = {};
        try { data = JSON.parse(ev.data || "{}"); } catch (_) { return; }
        handlers[name](data);
      });
    }
    es.onerror = () => {
      if (finished) return;
      if (es.readyState === EventSource.CLOSED) {
        // Refused or cut off for good: find out whether the link still opens, then retry.
        es.close();
        fetch(location.href, { cache: "no-store" }).then((r) => {
          if (r.status === 403) {
            finished = true;
            setBadge("forbidden", "This link no longer opens anything");
            setStale("");
          } else {
            setTimeout(connect, retry);
            retry = Math.min(retry * 2, 15000);
          }
        }, () => { setTimeout(connect, retry); retry = Math.min(retry * 2, 15000); });
      }
    };
  }

  // The stream sends something every 5 s; silence means the connection is stale.
  setInterval(() => {
    if (finished) return;
    const quiet = Math.round((Date.now() - lastEvent) / 1000);
    if (es && es.readyState !== EventSource.OPEN) {
      setStale("Connection lost: reconnecting… (last update " + quiet + " s ago)");
    } else if (quiet > 12) {
      setStale("No update for " + quiet + " s: the results shown may be stale.");
    } else {
      setStale("");
    }
  }, 1000);

  for (const b of document.querySelectorAll(".buttons button")) {
    b.addEventListener("click", () => {
      const kind = b.dataset.kind;
      b.disabled = true;
      fetch("badge/challenge?t=" + encodeURIComponent(token) + "&kind=" + kind, { method: "POST", cache: "no-store" })
        .then((r) => r.json().then((body) => ({ ok: r.ok, body })))
        .then(({ ok, body }) => {
          if (ok) {
            const c = { challenge_id: body.challenge_id, kind, outcome: "pending", message: "Asked: " + body.instruction };
            if (!challenges.has(c.challenge_id)) renderChallenge(c);
          } else {
            renderChallenge({ challenge_id: "error-" + Date.now(), kind, outcome: "fail", message: body.error || "refused" });
          }
        })
        .catch(() => renderChallenge({ challenge_id: "error-" + Date.now(), kind, outcome: "inconclusive", message: "Could not reach the server." }))
        .finally(() => { if (!finished) b.disabled = false; });
    });
  }

  setBadge("connecting");
  connect();
})();
