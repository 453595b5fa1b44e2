/* Live session page: autosave of the note pads, "nicht gespeichert" state with retries, the
   re-login dialog and AI text going into the note.
   Unsaved text lives only in this page's memory: never localStorage, sessionStorage, IndexedDB
   or cookies (it would sit on disk in plaintext). */
(function () {
  "use strict";
  var root = document.getElementById("live-session");
  if (!root) { return; }
  var statusEl = document.getElementById("save-status");
  var retryBtn = document.getElementById("save-retry");
  var dialog = document.getElementById("reauth");
  var reauthForm = document.getElementById("reauth-form");
  var DEBOUNCE = 2000;   // save 2 s after the last keystroke …
  var MAX_WAIT = 5000;   // … but at least every 5 s while typing
  var revision = parseInt(root.dataset.revision || "0", 10);
  var failures = 0;
  var retryTimer = null;
  var loginPending = false;

  var pads = [];
  root.querySelectorAll("textarea[data-autosave]").forEach(function (el) {
    pads.push({ el: el, field: el.dataset.autosave, saved: el.value, inflight: false, timer: null, firstDirty: 0 });
  });

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }
  function setCsrf(token) {
    document.body.setAttribute("hx-headers", JSON.stringify({ "X-CSRFToken": token }));
    document.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach(function (i) { i.value = token; });
  }
  function now() { return new Date().toLocaleTimeString("de-DE"); }
  function dirty() { return pads.some(function (p) { return p.el.value !== p.saved; }); }
  function show(state, text) {
    if (!statusEl) { return; }
    statusEl.dataset.state = state;
    statusEl.textContent = text;
    if (retryBtn) { retryBtn.hidden = state !== "error"; }
  }
  function schedule(p, delay) {
    clearTimeout(p.timer);
    p.timer = setTimeout(function () { save(p); }, delay);
  }

  pads.forEach(function (p) {
    p.el.addEventListener("input", function () {
      if (loginPending) { show("login", "Nicht gespeichert – bitte neu anmelden."); return; }
      var t = Date.now();
      if (!p.firstDirty) { p.firstDirty = t; }
      show("dirty", "Ungespeicherte Änderungen …");
      schedule(p, Math.max(0, Math.min(DEBOUNCE, p.firstDirty + MAX_WAIT - t)));
    });
  });

  function save(p) {
    return new Promise(function (resolve) {
      if (p.el.value === p.saved) { resolve(true); return; }
      if (p.inflight || loginPending) { resolve(false); return; }
      p.inflight = true;
      var text = p.el.value;
      var rev = revision;
      var body = new FormData();
      body.append("field", p.field);
      body.append("text", text);
      body.append("revision", String(rev));
      show("saving", "Wird gespeichert …");
      fetch(root.dataset.noteUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": csrf(), "X-Requested-With": "fetch" }
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, json: j }; });
      }).then(function (res) {
        p.inflight = false;
        if (res.status === 200) {
          failures = 0;
          p.saved = text;
          p.firstDirty = 0;
          if (p.field === "note") { revision = res.json.revision; }
          if (res.json.crisis) { refreshCrisis(); }
          if (dirty()) {
            show("dirty", "Ungespeicherte Änderungen …");
            pads.forEach(function (q) { if (q.el.value !== q.saved && !q.inflight) { schedule(q, DEBOUNCE); } });
          } else {
            show("saved", "Gespeichert um " + now());
          }
          resolve(true);
        } else if (res.status === 401) {
          show("login", "Nicht gespeichert – Anmeldung abgelaufen.");
          openLogin();
          resolve(false);
        } else if (res.status === 409 && rev !== revision) {
          schedule(p, 0);  // an AI text was appended meanwhile: save again on the new revision
          resolve(false);
        } else if (res.status === 409 || res.status === 422) {
          show("conflict", "Nicht gespeichert: " + (res.json.error || "Bitte die Seite neu laden."));
          resolve(false);
        } else {
          fail();
          resolve(false);
        }
      }).catch(function () {
        p.inflight = false;
        fail();
        resolve(false);
      });
    });
  }

  function fail() {
    failures += 1;
    var wait = Math.min(30, 3 * Math.pow(2, failures - 1));
    show("error", "Nicht gespeichert – keine Verbindung zum Server. Neuer Versuch in " + wait + " s.");
    clearTimeout(retryTimer);
    retryTimer = setTimeout(saveAll, wait * 1000);
  }

  function saveAll() {
    return Promise.all(pads.map(save)).then(function (results) {
      return results.every(Boolean) && !dirty();
    });
  }

  if (retryBtn) {
    retryBtn.addEventListener("click", function () { clearTimeout(retryTimer); saveAll(); });
  }

  // Closing freezes what the server has: flush unsaved text first.
  var closeForm = document.getElementById("close-form");
  if (closeForm) {
    closeForm.addEventListener("submit", function (ev) {
      if (!dirty()) { return; }
      ev.preventDefault();
      saveAll().then(function (ok) {
        if (ok) { closeForm.submit(); } else {
          show(statusEl && statusEl.dataset.state === "login" ? "login" : "error",
            "Nicht abgeschlossen: Die Notiz ist noch nicht gespeichert.");
        }
      });
    });
  }

  window.addEventListener("beforeunload", function (ev) {
    if (dirty()) { ev.preventDefault(); ev.returnValue = ""; }
  });

  // --- crisis banner ------------------------------------------------------------------------
  function refreshCrisis() {
    if (window.htmx) { window.htmx.ajax("GET", root.dataset.crisisUrl, { target: "#crisis-slot", swap: "outerHTML" }); }
  }

  // --- AI panel -----------------------------------------------------------------------------
  document.body.addEventListener("duktus:asked", function () {
    var q = document.getElementById("question");
    var err = document.getElementById("ask-error");
    if (q) { q.value = ""; }
    if (err) { err.textContent = ""; }
    refreshCrisis();
  });
  document.body.addEventListener("htmx:responseError", function (ev) {
    if (ev.detail.xhr && ev.detail.xhr.status === 401) { openLogin(); }
  });
  document.body.addEventListener("htmx:sendError", function (ev) {
    var err = document.getElementById("ask-error");
    var form = document.getElementById("ask-form");
    if (err && form && form.contains(ev.detail.elt)) {
      err.textContent = "Keine Verbindung zum Server. Ihre Frage ist noch da – bitte erneut senden.";
      err.className = "error";
    }
  });

  // An accepted suggestion: the server appended it to its saved note; do the same here.
  function takeAppends() {
    document.querySelectorAll("template[data-note-append]").forEach(function (t) {
      var block = t.content.textContent;
      var serverRevision = parseInt(t.dataset.revision, 10);
      t.parentNode.removeChild(t);
      var note = pads.filter(function (p) { return p.field === "note"; })[0];
      if (!note) { return; }
      var unsaved = note.el.value !== note.saved;
      var base = note.el.value.replace(/\s+$/, "");
      note.el.value = (base ? base + "\n\n" : "") + block;
      revision = serverRevision;
      if (unsaved) {
        schedule(note, 0);
      } else {
        note.saved = note.el.value;
        show("saved", "Vorschlag übernommen und gespeichert um " + now());
      }
    });
  }
  document.body.addEventListener("htmx:load", takeAppends);
  document.body.addEventListener("htmx:afterSettle", takeAppends);

  // --- re-login in a dialog (the page and its unsaved text stay) ----------------------------
  function openLogin() {
    loginPending = true;
    if (dialog && !dialog.open) { dialog.showModal(); }
  }

  function load(url, data) {
    var opts = { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } };
    if (data) {
      opts.method = "POST";
      opts.body = new URLSearchParams(data);
    }
    return fetch(url, opts).then(function (r) {
      var type = r.headers.get("Content-Type") || "";
      return r.text().then(function (text) {
        var res = { url: r.url, status: r.status, json: null, doc: null };
        if (type.indexOf("json") >= 0) {
          try { res.json = JSON.parse(text); } catch (e) { res.json = null; }
        } else {
          res.doc = new DOMParser().parseFromString(text, "text/html");
        }
        return res;
      });
    });
  }
  function formToken(doc) {
    var input = doc && doc.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : csrf();
  }
  function reauthError(text) {
    var err = document.getElementById("reauth-error");
    err.textContent = text;
    err.hidden = false;
  }

  if (reauthForm) {
    reauthForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      document.getElementById("reauth-error").hidden = true;
      var f = reauthForm.elements;
      var tokenUrl = root.dataset.tokenUrl;
      var loginUrl = root.dataset.loginUrl + "?next=" + encodeURIComponent(tokenUrl);
      load(loginUrl).then(function (page) {
        return load(loginUrl, { login: f.login.value, password: f.password.value, csrfmiddlewaretoken: formToken(page.doc) });
      }).then(function (res) {
        if (res.url.indexOf("/2fa/authenticate") >= 0) {
          return load(res.url, { code: f.code.value, csrfmiddlewaretoken: formToken(res.doc) }).then(function (res2) {
            if (res2.url.indexOf("/2fa/authenticate") >= 0) { throw new Error("Der Code stimmt nicht. Bitte den aktuellen Code eingeben."); }
            return res2;
          });
        }
        if (res.url.indexOf(root.dataset.loginUrl) >= 0) { throw new Error("E-Mail oder Passwort stimmen nicht."); }
        return res;
      }).then(function (res) {
        return res.json && res.json.csrf ? res : load(tokenUrl);
      }).then(function (res) {
        if (!res.json || !res.json.csrf) { throw new Error("Die Anmeldung ist nicht gelungen. Bitte erneut versuchen."); }
        setCsrf(res.json.csrf);
        loginPending = false;
        f.password.value = "";
        f.code.value = "";
        dialog.close();
        show("dirty", "Angemeldet – wird gespeichert …");
        saveAll();
      }).catch(function (e) {
        reauthError(e && e.message && e.message.indexOf(" ") > 0 ? e.message : "Keine Verbindung zum Server. Bitte erneut versuchen.");
      });
    });
  }
})();
