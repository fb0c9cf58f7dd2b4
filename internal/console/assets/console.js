// tidings console: live updates (server-sent events), actions without a
// page reload (fetch), type-to-confirm, and email frames sized to their
// content. Plain JavaScript, no build step.
(function () {
  'use strict';

  // A sign-in link carries its token in the fragment, which never
  // reaches a server or a log: fill the form and submit it.
  var login = document.querySelector('form.login');
  if (login && location.hash.indexOf('#token=') === 0) {
    login.querySelector('input[name=token]').value = decodeURIComponent(location.hash.slice(7));
    login.querySelector('input[name=via]').value = 'link'; // a refusal then speaks of the link
    history.replaceState(null, '', location.pathname + location.search);
    login.submit();
  }

  function applyState(state) {
    document.querySelectorAll('[data-when]').forEach(function (el) {
      el.hidden = el.dataset.when.split(' ').indexOf(state) < 0;
    });
  }

  function setLive(text, ok) {
    var el = document.getElementById('livestate');
    if (!el) return;
    el.textContent = text;
    el.className = 'livestate ' + (ok ? 'on' : 'off');
    // Figures the console no longer updates are said to be old, and
    // greyed (not when the live part is itself the Redis error: it shows
    // no figures then).
    var stale = !ok && !live.querySelector('[data-not-live]');
    var note = document.getElementById('stale');
    live.classList.toggle('stale', stale);
    if (!note) return;
    note.hidden = !stale;
    note.textContent = stale ? 'Not current: what follows is as of ' + updated.toLocaleTimeString() +
      ' (this computer\'s clock), when the console last answered; ' + text.replace(/…$/, '') + '.' : '';
  }

  var live = document.getElementById('live');
  var updated = new Date(); // when the live part was last current
  // version is the live part's version the page shows (the id of the
  // last event shown): a stream opened with it sends the live part only
  // once it differs, not the same again on each load and reconnect.
  var version = live ? live.dataset.version || '' : '';
  function watch(url) {
    var es = new EventSource(version ? url + '?v=' + encodeURIComponent(version) : url);
    es.onopen = function () { setLive('live', true); };
    es.onerror = function () {
      if (es.readyState !== EventSource.CLOSED) { setLive('reconnecting…', false); return; }
      // The console answered the stream with an error (the session ended,
      // or a proxy failed): the browser never tries again by itself. Say
      // which, and try again unless signed out.
      es.close();
      var ctl = window.AbortController ? new AbortController() : null;
      fetch(url, { credentials: 'same-origin', headers: { 'Accept': 'text/event-stream' }, signal: ctl && ctl.signal }).then(function (r) {
        if (ctl) ctl.abort();
        if (r.status === 401) {
          setLive('signed out: not live; reload the page to sign in', false);
          return;
        }
        // 429: this sign-in has as many live pages open as it may.
        setLive(r.status === 429 ? 'not live: too many of the console\'s pages open; close some: reconnecting…' :
          'not live (HTTP ' + r.status + '): reconnecting…', false);
        setTimeout(function () { watch(url); }, 5000);
      }).catch(function () {
        setLive('reconnecting…', false);
        setTimeout(function () { watch(url); }, 5000);
      });
    };
    es.addEventListener('live', function (e) {
      lines = e.data.split('\n');
      linesVersion = e.lastEventId;
      deliver({ data: e.data, lastEventId: e.lastEventId });
    });
    // A patch: its first line the version it applies to, then each line
    // changed, as its index, a tab and the line. One that does not apply
    // to the lines this page has (never expected) opens the stream anew.
    es.addEventListener('patch', function (e) {
      var ch = e.data.split('\n');
      if (!lines || ch[0] !== linesVersion) {
        es.close();
        lines = null;
        watch(url);
        return;
      }
      for (var i = 1; i < ch.length; i++) {
        var tab = ch[i].indexOf('\t');
        lines[+ch[i].slice(0, tab)] = ch[i].slice(tab + 1);
      }
      linesVersion = e.lastEventId;
      deliver({ data: lines.join('\n'), lastEventId: e.lastEventId });
    });
  }

  // lines is the live part's HTML, line by line, as the stream last gave
  // it (null before a whole live part came), at version linesVersion.
  var lines = null, linesVersion = '';

  // deliver shows an update. A button of the live part pressed (the
  // pointer is down on it) is not replaced under the pointer, which would
  // lose the click: the update waits until the pointer is up.
  function deliver(ev) {
    if (held) { held = ev; live.dataset.held = '1'; return; }
    show(ev);
  }

  var held = false; // true while a pointer is down in the live part; then the update (event) waiting
  if (live) {
    live.addEventListener('pointerdown', function () { held = true; });
    ['pointerup', 'pointercancel'].forEach(function (type) {
      document.addEventListener(type, function () {
        if (held === false) return;
        setTimeout(function () { // after the click the pointer made
          var data = held;
          held = false;
          delete live.dataset.held;
          if (data !== true) show(data);
        }, 0);
      });
    });
  }

  // show puts a live update (an event: its data and version) in place. A list someone opened or closed
  // (the batches, a row's Cancel) stays so; what someone types in a form
  // of the live part (a reason on the list of campaigns) stays, with the
  // focus.
  function show(ev) {
    var data = ev.data, kept = {}, typed = {}, focus = document.activeElement, sel = null;
    version = ev.lastEventId || '';
    live.querySelectorAll('details[data-keep]').forEach(function (d) { kept[d.dataset.keep] = d.open; });
    live.querySelectorAll('input[id]').forEach(function (inp) { typed[inp.id] = inp.value; });
    focus = focus && focus.id && live.contains(focus) ? focus.id : null;
    if (focus) sel = [document.activeElement.selectionStart, document.activeElement.selectionEnd];
    live.innerHTML = data;
    announceAlerts();
    live.querySelectorAll('details[data-keep]').forEach(function (d) {
      if (d.dataset.keep in kept) d.open = kept[d.dataset.keep];
    });
    live.querySelectorAll('input[id]').forEach(function (inp) {
      if (inp.id in typed) inp.value = typed[inp.id];
    });
    var el = focus && document.getElementById(focus);
    if (el) { el.focus(); if (sel && el.setSelectionRange) el.setSelectionRange(sel[0], sel[1]); }
    confirmInputs();
    updated = new Date();
    var root = live.querySelector('[data-state]');
    if (root && !root.matches('tr')) applyState(root.dataset.state);
    statesAre(root && !root.matches('tr') ? root.dataset.campaign : '');
    flashStillCurrent();
    // The console streams, but cannot read Redis: what the page shows is
    // not current.
    var stale = live.querySelector('[data-not-live]');
    setLive(stale ? 'not live: ' + stale.dataset.notLive : 'live', !stale);
  }
  // The alerts of the live part (Held, Lost, Cannot read Redis) are
  // announced once, when one appears or its words change, through
  // #alertnews, which stays on the page. The live part is put in place anew
  // at each change (each second while a campaign runs), and an element
  // with role="alert" put in place anew is read out anew by a screen reader:
  // the live part's own alerts lose their role here.
  var alertnews = document.getElementById('alertnews'), alerted = {};
  function announceAlerts() {
    if (!live || !alertnews) return;
    var now = {}, news = [];
    live.querySelectorAll('[role=alert]').forEach(function (a) {
      a.removeAttribute('role');
      var key = a.id || a.className, text = a.textContent.trim();
      now[key] = text;
      if (alerted[key] !== text) news.push(text);
    });
    alerted = now;
    if (news.length) alertnews.textContent = news.join(' ');
  }
  announceAlerts();
  if (live && live.dataset.live && window.EventSource) watch(live.dataset.live);

  // statesShown is each campaign's state as the live part shows it
  // (its badge; a row of the list, or a campaign's page).
  function statesShown() {
    var now = {};
    if (live) live.querySelectorAll('[data-campaign]').forEach(function (e) {
      var badge = e.querySelector('.state');
      if (badge) now[e.dataset.campaign] = badge.textContent;
    });
    return now;
  }
  var shown = statesShown();

  // statesAre keeps a campaign page's title (page is its campaign:
  // "[env] altea · paused · tidings") at the state the page shows, and
  // when a campaign's state changes (whoever changed it: a colleague,
  // tidings itself, this page), says so in a status region a screen
  // reader announces: "altea is now paused."
  function statesAre(page) {
    var now = statesShown(), news = [];
    Object.keys(now).forEach(function (c) {
      var was = shown[c] || '';
      if (now[c] === was || (!was && !page)) return; // a row new on the list is not a change of state
      news.push(c + ' is now ' + now[c] + '.');
      var tail = ' · tidings', t = document.title;
      if (c !== page || t.slice(-tail.length) !== tail) return;
      var base = t.slice(0, -tail.length);
      if (was && base.slice(-(was.length + 3)) === ' · ' + was) base = base.slice(0, -(was.length + 3));
      document.title = base + ' · ' + now[c] + tail;
    });
    shown = now;
    var el = document.getElementById('statenews');
    if (el && news.length) el.textContent = news.join(' ');
  }

  // A page (gallery, recipients) that could not read Redis reloads
  // itself once Redis answers, as the live pages fill in by themselves.
  if (document.querySelector('[data-reload]')) {
    (function retry() {
      setTimeout(function () {
        fetch(location.href, { method: 'HEAD', credentials: 'same-origin' }).then(function (r) {
          if (r.status === 503) retry(); else location.reload();
        }).catch(retry);
      }, 1000);
    })();
  }

  // stateOf is campaign c's state as the live part shows it now.
  function stateOf(c) {
    var el = live && Array.prototype.find.call(live.querySelectorAll('[data-campaign][data-state]'), function (e) { return e.dataset.campaign === c; });
    return el ? el.dataset.state : '';
  }

  // flash says what an action did (on campaign c, which is then in
  // state: the answer's; a refusal's is the page's; an answer that could
  // not say is never marked past).
  function flash(msg, ok, c, state) {
    var el = document.getElementById('flash');
    if (!el) return;
    el.textContent = msg;
    el.className = 'flash ' + (ok ? 'ok' : 'bad');
    el.dataset.campaign = c || '';
    el.dataset.state = state || (ok ? '' : stateOf(c));
    el.dataset.at = new Date().toLocaleTimeString();
    el.hidden = false;
    // The answer takes the focus, a refusal's too: the form pressed may
    // be hidden next (a paused campaign has no Pause), and a keyboard's
    // focus would be lost with it; Tab goes on to what the state offers.
    // Someone who moves by keyboard is at what says "not applied", not
    // still in the form believing it went.
    el.focus();
  }

  // flashStillCurrent marks the answer as past once its campaign is in
  // another state than the one it reported (someone else paused,
  // resumed or cancelled it since, or it ended): "Paused." never stays
  // beside a campaign that runs.
  function flashStillCurrent() {
    var el = document.getElementById('flash');
    if (!el || el.hidden || !el.dataset.state || el.classList.contains('past')) return;
    var now = stateOf(el.dataset.campaign);
    if (!now || now === el.dataset.state) return;
    el.classList.add('past');
    el.textContent = 'Earlier (' + el.dataset.at + ', this computer\'s clock): ' + el.textContent +
      ' No longer current: ' + el.dataset.campaign + ' is now ' + now + '.';
  }

  // waiting counts the actions sent whose answer has not come (n: +1
  // with what to say, -1 once one came): while some are, the line under
  // the answer says what the last one sent waits for, and the answer to
  // an earlier press is hidden.
  var outstanding = 0;
  function waiting(n, msg) {
    var el = document.getElementById('pending');
    outstanding += n;
    if (!el) return;
    if (msg) {
      el.textContent = msg;
      var done = document.getElementById('flash');
      if (done) done.hidden = true;
    }
    el.hidden = outstanding <= 0;
  }

  function confirmInputs() {
    document.querySelectorAll('input[data-confirm]').forEach(function (inp) {
      var btn = inp.form.querySelector('button[type=submit]');
      btn.disabled = inp.value.trim() !== inp.dataset.confirm;
    });
  }
  // Listened to on the document: the list of campaigns renders its
  // forms anew with each live update.
  document.addEventListener('input', function (ev) {
    if (ev.target.matches('input[data-confirm]')) confirmInputs();
  });
  confirmInputs();

  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (!form.matches('form.action')) return;
    ev.preventDefault();
    var btn = form.querySelector('button[type=submit]');
    var c = (form.closest('[data-campaign]') || { dataset: {} }).dataset.campaign || '';
    // On the list of campaigns, the answer names the campaign.
    var who = document.getElementById('actions') ? '' : c + ': ';
    var unknown = ': the action may have taken effect or not. Reload the page to see the campaign\'s state, and press again only if it did not.';
    btn.disabled = true;
    // Until the answer comes (it waits for Redis, which may be slow),
    // the page says so, not the answer to the press before.
    var act = form.action.split('/').pop();
    waiting(1, who + 'Your ' + (act === 'approve' ? 'approval' : act) + ' was sent at ' + new Date().toLocaleTimeString() +
      ' (this computer\'s clock): waiting for the console\'s answer, which waits for Redis. Until it comes, it may or may not have taken effect.');
    fetch(form.action, {
      method: 'POST', body: new FormData(form), credentials: 'same-origin',
      headers: { 'Accept': 'application/json' }
    }).then(function (r) {
      // Not the console's JSON answer: a proxy's page, or an answer cut
      // short. The console may have acted all the same.
      return r.json().catch(function () { return { ok: false, message: 'HTTP ' + r.status + ' came instead of the console\'s answer' + unknown }; });
    }).then(function (res) {
      // What was typed stays in a refused form.
      if (res.ok) form.reset();
      flash(who + res.message, res.ok, c, res.state);
    }).catch(function (err) {
      // The request may have reached the console, which acted, and only
      // its answer was lost: never say that nothing changed.
      flash(who + 'No answer from the console (' + err + ')' + unknown, false, c);
    }).finally(function () {
      waiting(-1);
      btn.disabled = false;
      confirmInputs();
    });
  });

  // Email frames: as wide as the email's content (never clipped) and as
  // tall as the whole message. The frames are sandboxed without scripts;
  // allow-same-origin lets this page measure them.
  function fit(frame) {
    var doc;
    try { doc = frame.contentDocument; } catch (e) { return; }
    if (!doc || !doc.documentElement) return;
    var root = doc.documentElement;
    var w = Math.max(root.scrollWidth, doc.body ? doc.body.scrollWidth : 0);
    if (w > frame.clientWidth) frame.style.width = w + 'px';
    frame.style.height = Math.max(root.scrollHeight, doc.body ? doc.body.scrollHeight : 0) + 'px';
    frame.dataset.fitted = '1';
  }
  document.querySelectorAll('iframe.mail').forEach(function (frame) {
    frame.addEventListener('load', function () {
      fit(frame);
      if (window.ResizeObserver && frame.contentDocument && frame.contentDocument.body) {
        new ResizeObserver(function () { fit(frame); }).observe(frame.contentDocument.body);
      }
    });
    var d = frame.contentDocument;
    if (d && d.URL !== 'about:blank' && d.readyState === 'complete') fit(frame);
  });
})();
