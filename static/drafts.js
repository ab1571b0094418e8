// Nothing typed is lost when a form cannot reach the service or is turned away before the
// service reads it: a sign-in that ran out, a form token that changed, a dropped connection,
// a browser that crashed. What is typed into a form marked `data-draft` is kept in this tab's
// session storage (gone when the tab closes, and at sign-out) until the service confirms it
// took the form (the page after it carries a success message); when the same form is shown
// again with something else in it, the text is put back, with a note and a button to discard it.
// Refusals the service reads (a missing field, a case that changed) keep the text themselves.
(function () {
  "use strict";
  var store;
  try {
    store = window.sessionStorage;
    store.setItem("hds-probe", "1");
    store.removeItem("hds-probe");
  } catch (e) {
    return;
  }
  var body = document.body;
  // Each person's drafts apart: someone who signs in in the same tab gets none of them.
  var PREFIX = "hds-draft:";
  var MINE = PREFIX + (body.getAttribute("data-user") || "") + ":";
  var LAST = "hds-draft-sent";
  var each = function (list, f) { Array.prototype.forEach.call(list, f); };

  // A refused form comes back as the answer to its POST, at an address that has no page of its
  // own: show the page's address, so that reloading it, or signing in again from it, lands there.
  var own = body.getAttribute("data-path");
  if (own && own !== window.location.pathname && window.history.replaceState) {
    window.history.replaceState(null, "", own + window.location.hash);
  }

  // The form sent last from this tab: taken if this page says so, kept otherwise.
  var last = store.getItem(LAST);
  store.removeItem(LAST);
  if (last && body.getAttribute("data-flash") === "success") {
    store.removeItem(last);
  }

  var TEXT = /^(text|email|date|number|url|tel|search)$/;
  function fieldsOf(form) {
    return Array.prototype.filter.call(form.querySelectorAll("textarea, input"), function (el) {
      return el.name && !el.readOnly && !el.disabled && (el.tagName === "TEXTAREA" || TEXT.test(el.type));
    });
  }

  function keep(key, fields, always) {
    var typed = {};
    var changed = false;
    fields.forEach(function (el) {
      typed[el.name] = el.value;
      changed = changed || el.value !== el.defaultValue;
    });
    try {
      if (changed || always) {
        store.setItem(key, JSON.stringify(typed));
      } else {
        store.removeItem(key);
      }
    } catch (e) {
      // Storage full or refused: the form still works as before.
    }
  }

  function note(form, key, fields, before) {
    var p = document.createElement("p");
    p.className = "draft-note";
    p.setAttribute("role", "status");
    p.appendChild(document.createTextNode(body.getAttribute("data-draft-restored") + " "));
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "link";
    discard.textContent = body.getAttribute("data-draft-discard");
    discard.addEventListener("click", function () {
      fields.forEach(function (el) {
        if (Object.prototype.hasOwnProperty.call(before, el.name)) {
          el.value = before[el.name];
        }
      });
      store.removeItem(key);
      p.parentNode.removeChild(p);
    });
    p.appendChild(discard);
    form.insertBefore(p, form.firstChild);
  }

  each(document.querySelectorAll("form[data-draft]"), function (form) {
    var key = MINE + form.getAttribute("action");
    var fields = fieldsOf(form);
    var saved = null;
    try {
      saved = JSON.parse(store.getItem(key));
    } catch (e) {
      saved = null;
    }
    if (saved && typeof saved === "object") {
      var before = {};
      var put = false;
      fields.forEach(function (el) {
        var text = saved[el.name];
        if (typeof text === "string" && text !== el.value) {
          before[el.name] = el.value;
          el.value = text;
          put = true;
        }
      });
      if (put) {
        note(form, key, fields, before);
      }
    }
    form.addEventListener("input", function () { keep(key, fields, false); });
    form.addEventListener("submit", function () {
      keep(key, fields, true);
      store.setItem(LAST, key);
    });
  });

  // Another form to the same address (the decision's confirmation after its preview): sent, it
  // takes the draft with it as the form itself would.
  each(document.querySelectorAll("form:not([data-draft])"), function (form) {
    form.addEventListener("submit", function () {
      var key = MINE + form.getAttribute("action");
      if (store.getItem(key) !== null) {
        store.setItem(LAST, key);
      }
    });
  });

  // Signing out leaves nothing typed behind in the tab.
  each(document.querySelectorAll('form[action="/logout"]'), function (form) {
    form.addEventListener("submit", function () {
      for (var i = store.length - 1; i >= 0; i--) {
        var k = store.key(i);
        if (k && k.indexOf(PREFIX) === 0) {
          store.removeItem(k);
        }
      }
    });
  });
})();
