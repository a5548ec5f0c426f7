// Progressive enhancement only: every page works without this file.

// The page's texts for this file, in the reader's language (reviews.languages,
// script_messages, in a <meta> of base.html): t("key", {name: value}) fills %(name)s.
const MESSAGES = (() => {
  const meta = document.querySelector('meta[name="script-messages"]');
  try { return meta ? JSON.parse(meta.content) : {}; } catch (error) { return {}; }
})();
const t = (key, values = {}) => (MESSAGES[key] || key).replace(
  /%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
// Dates and times formatted as the server formats them for this page (en-GB for English).
const FORMAT_LOCALE = document.documentElement.dataset.formatLocale || undefined;
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
document.addEventListener("focusin", (event) => {
  if (event.target.matches("input.copy")) {
    event.target.select();
  }
});

// Confirmation on a specific submit button (e.g. declining a request). A form that
// would be refused (a required field left empty) is sent without the question: the
// server names what is missing, and nobody confirms what cannot be accepted.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-confirm-submit]");
  if (!button || (button.form && !button.form.checkValidity())) return;
  if (!window.confirm(button.dataset.confirmSubmit)) {
    event.preventDefault();
  }
});

// Autosave of review parts: posts the form a moment after typing stops. The
// server refuses a save over a newer version, so nothing is silently lost.
document.querySelectorAll("form[data-autosave]").forEach((form) => {
  const status = form.querySelector(".autosave-status");
  const version = form.querySelector("input[name=version]");
  let timer = null;
  let saving = null;  // the save in flight, if any
  let stopped = false;
  const say = (text) => { if (status) status.textContent = text; };
  const save = () => {
    if (saving || stopped) return saving;
    saving = send().finally(() => { saving = null; });
    return saving;
  };
  const send = async () => {
    const data = new FormData(form);
    data.delete("action");
    try {
      const response = await fetch(form.dataset.autosave, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "Accept": "application/json" },
      });
      const body = await response.json();
      if (response.ok) {
        version.value = body.version;
        say(t("draft_saved", { time: new Date(body.saved_at).toLocaleTimeString(FORMAT_LOCALE) }));
      } else if (response.status === 409) {
        stopped = true;
        say(body.error.message);
      } else if (response.status === 422) {
        say(t("not_saved_yet", { problem: Object.values(body.error.fields)[0] }));
      } else {
        say(t("not_saved", { problem: body.error.message }));
      }
    } catch (error) {
      say(t("connection_failed"));
    }
  };
  // Submitting while a draft save is on its way would carry the old version and
  // be refused as a conflict: let the save land first, then submit with its version.
  form.addEventListener("submit", (event) => {
    clearTimeout(timer);
    if (!saving) return;
    event.preventDefault();
    const submitter = event.submitter;
    saving.then(() => form.requestSubmit(submitter));
  });
  form.addEventListener("input", () => {
    say(t("unsaved"));
    clearTimeout(timer);
    timer = setTimeout(save, 1500);
  });
});

// Feedback coach: suggestions beside each text as the person writes.
// Advice only: nothing here stops a save or a submit.
document.querySelectorAll("form[data-coach-url]").forEach((form) => {
  const url = form.dataset.coachUrl;
  const token = form.querySelector("input[name=csrf_token]");
  form.querySelectorAll("textarea[data-coach]").forEach((area) => {
    const list = document.getElementById("coach-" + area.name);
    if (!list) return;
    let timer = null;
    const render = (findings) => {
      list.replaceChildren(...findings.map((f) => {
        const item = document.createElement("li");
        item.className = "coach-" + f.category;
        const label = document.createElement("strong");
        label.textContent = f.label;
        item.append(label);
        const quoted = f.category === "too_short" || f.category === "mismatch"
          ? "" : " " + t("quoted", { text: area.value.slice(f.start, f.end) });
        item.append(quoted + ": " + f.explanation + " ");
        const hint = document.createElement("span");
        hint.className = "muted";
        hint.textContent = f.suggestion;
        item.append(hint);
        return item;
      }));
    };
    const check = async () => {
      const data = new FormData();
      data.append("text", area.value);
      data.append("csrf_token", token ? token.value : "");
      const ratingName = area.dataset.ratingField;
      const checked = ratingName && form.querySelector(`input[name="${ratingName}"]:checked`);
      if (checked) data.append("rating", checked.value);
      try {
        const response = await fetch(url, { method: "POST", body: data, credentials: "same-origin" });
        if (response.ok) render((await response.json()).findings);
      } catch (error) {
        // The coach is a helper; when it cannot answer the form works as before.
      }
    };
    area.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(check, 600);
    });
  });
});

// Dates in the reader's own time zone. The server wrote them in UTC, in the page's
// language: deadlines as "due in 3 days" (with the phrases for a day either side,
// as the reader's day may differ from UTC's), moments as "25 Nov 2026, 14:05 UTC".
(() => {
  const dayMs = 24 * 60 * 60 * 1000;
  const localDay = (d) => Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
  const longDate = { day: "numeric", month: "short", year: "numeric" };
  const utcToday = new Date(Date.UTC(
    new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()));
  document.querySelectorAll("time[data-due]").forEach((el) => {
    const [y, m, d] = el.getAttribute("datetime").split("-").map(Number);
    const due = new Date(y, m - 1, d);
    const days = Math.round((localDay(due) - localDay(new Date())) / dayMs);
    const utcDays = Math.round((Date.UTC(y, m - 1, d) - utcToday.getTime()) / dayMs);
    if (days === utcDays - 1 && el.dataset.dayLater) el.textContent = el.dataset.dayLater;
    else if (days === utcDays + 1 && el.dataset.dayEarlier) el.textContent = el.dataset.dayEarlier;
    el.title = due.toLocaleDateString(FORMAT_LOCALE, longDate);
  });
  document.querySelectorAll("time[data-local]").forEach((el) => {
    const at = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(at.getTime())) return;
    el.title = el.textContent;  // the UTC original stays on hover
    el.textContent = at.toLocaleString(FORMAT_LOCALE, {
      ...longDate, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
  });
})();

// People picker: a text field that chooses a colleague becomes a combobox
// (WAI-ARIA 1.2 pattern, list autocomplete) suggesting names and emails as the
// person types. Choosing one puts the email in the field; without JavaScript the
// field takes a name or an email as typed, and the server resolves it the same way.
(() => {
  const source = document.querySelector('meta[name="people-search"]');
  if (!source) return;
  // A list of people typed one per line (a cycle's participants) gets a picker above
  // it whose choices are added as lines; the list itself stays a plain text area.
  document.querySelectorAll("textarea[data-people-list]").forEach((area) => {
    const label = document.createElement("label");
    label.htmlFor = area.id + "-add";
    label.textContent = t("add_person");
    const adder = document.createElement("input");
    adder.type = "text";
    adder.id = area.id + "-add";
    adder.autocomplete = "off";
    adder.dataset.peoplePicker = "";
    adder.dataset.appendTo = area.id;
    area.after(label, adder);
  });
  let counter = 0;
  document.querySelectorAll("input[data-people-picker]").forEach((input) => {
    counter += 1;
    const list = document.createElement("ul");
    list.id = "people-picker-" + counter;
    list.className = "picker-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", t("matching_people"));
    list.hidden = true;
    const status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    const wrap = document.createElement("div");
    wrap.className = "picker";
    input.parentNode.insertBefore(wrap, input);
    wrap.append(input, list, status);
    let active = -1;
    let timer = null;
    let asked = 0;
    const options = () => Array.from(list.children);
    const close = () => {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    };
    const highlight = (index) => {
      const all = options();
      all.forEach((o, i) => o.setAttribute("aria-selected", String(i === index)));
      active = index;
      if (index >= 0 && all[index]) {
        input.setAttribute("aria-activedescendant", all[index].id);
        all[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    };
    const choose = (option) => {
      const list = input.dataset.appendTo && document.getElementById(input.dataset.appendTo);
      if (list) {
        const lines = list.value.split("\n").map((l) => l.trim()).filter(Boolean);
        if (!lines.includes(option.dataset.email)) lines.push(option.dataset.email);
        list.value = lines.join("\n") + "\n";
        input.value = "";
        status.textContent = option.dataset.name + " added to the list";
      } else {
        input.value = option.dataset.email;
        status.textContent = option.dataset.name + " chosen";
      }
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    };
    const show = (people) => {
      list.replaceChildren(...people.map((p, i) => {
        const item = document.createElement("li");
        item.id = list.id + "-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.dataset.email = p.email;
        item.dataset.name = p.name;
        const name = document.createElement("span");
        name.className = "picker-name";
        name.textContent = p.name;
        const detail = document.createElement("span");
        detail.className = "muted";
        detail.textContent = p.email + (p.department ? " · " + p.department : "");
        item.append(name, " ", detail);
        // mousedown, not click: the field keeps its focus (no blur closes the list first)
        item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(item); });
        return item;
      }));
      const open = people.length > 0;
      list.hidden = !open;
      input.setAttribute("aria-expanded", String(open));
      active = -1;
      status.textContent = open
        ? t(people.length === 1 ? "one_matches" : "many_match", { count: people.length })
        : t("nobody_matches");
    };
    const ask = async () => {
      const q = input.value.trim();
      if (q.length < 2) { close(); return; }
      const mine = ++asked;
      try {
        const url = source.content + "?q=" + encodeURIComponent(q);
        const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } });
        if (response.ok && mine === asked) show(await response.json());
      } catch (error) {
        // Suggestions are a help; typing a name or an email still works.
      }
    };
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(ask, 150);
    });
    input.addEventListener("keydown", (event) => {
      const all = options();
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (list.hidden) { ask(); return; }
        highlight(Math.min(active + 1, all.length - 1));
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();  // choosing is not submitting
        choose(all[active]);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", () => setTimeout(close, 100));
  });
})();

// The menu on a phone: below 900 px the navigation and the account links fold
// behind a Menu button (a disclosure). Without JavaScript they stay open.
(() => {
  const toggle = document.querySelector(".nav-toggle");
  if (!toggle) return;
  const bar = toggle.closest(".topbar");
  bar.classList.add("folding");
  toggle.hidden = false;
  const set = (open) => {
    toggle.setAttribute("aria-expanded", String(open));
    bar.classList.toggle("unfolded", open);
  };
  toggle.addEventListener("click", () => set(toggle.getAttribute("aria-expanded") !== "true"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      set(false);
      toggle.focus();
    }
  });
})();

// After a refused save or a check before submitting, the page says so at once: focus
// goes to the error summary (whose links lead to each field) or to the question
// whether to submit, so a screen reader reads it and the keyboard starts there.
(() => {
  const target = document.querySelector("#confirm-submit") || document.querySelector(".error-summary");
  if (!target) return;
  if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus({ preventScroll: true });
  target.scrollIntoView({ block: "center" });
})();

// A long form's progress: "8 of 11 rated", overall and per group of competencies,
// kept current as ratings are chosen (the server wrote the counts the page opened with).
document.querySelectorAll("form.part-form").forEach((form) => {
  const totals = form.querySelectorAll("[data-rated-total]");
  if (!totals.length) return;
  const rated = (scope) => Array.from(scope.querySelectorAll("fieldset.competency"))
    .filter((f) => f.querySelector("input[type=radio][name^='rating_']:checked:not([value='skip'])"))
    .length;
  form.addEventListener("change", (event) => {
    if (!event.target.matches("input[type=radio][name^='rating_']")) return;
    const all = rated(form);
    totals.forEach((el) => { el.textContent = all; });
    form.querySelectorAll("[data-rated-group]").forEach((el) => {
      const group = el.dataset.ratedGroup;
      const sets = form.querySelectorAll(`fieldset.competency[data-group="${group}"]`);
      const done = Array.from(sets).filter((f) =>
        f.querySelector("input[type=radio]:checked:not([value='skip'])")).length;
      el.textContent = t("rated_of", { rated: done, total: sets.length });
    });
  });
});
