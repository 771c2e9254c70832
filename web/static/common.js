// Helpers every page script shares: the page's messages and language,
// the session's CSRF token, and the site's wall clock. Page scripts
// import it as "./common.js": the pages' own scripts share one content
// tag (web/assets.go), so the relative URL is right and changes with it.

export const msgs = JSON.parse(document.getElementById("messages")?.textContent ?? "{}");
export const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const pageLang = document.documentElement.lang;

// t returns the message key with its {name} placeholders filled.
export function t(key, params = {}) {
  let s = msgs[key] ?? key;
  for (const [k, v] of Object.entries(params)) {
    s = s.replaceAll("{" + k + "}", String(v));
  }
  return s;
}

// tn returns the plural form of key for the count n ("{key}_one",
// "{key}_other"… as the page's language counts), {n} and the params
// filled.
const plural = new Intl.PluralRules(pageLang || "fr");
export function tn(key, n, params = {}) {
  const form = `${key}_${plural.select(n)}`;
  return t(form in msgs ? form : `${key}_other`, { n, ...params });
}

// detailIn keeps the page's language of a bilingual "français / English"
// detail from the server.
export function detailIn(detail) {
  const parts = (detail ?? "").split(" / ");
  return (pageLang === "en" && parts.length > 1 ? parts[parts.length - 1] : parts[0]).trim();
}

// ruleMessage says in words which rule a 422 rule_violation names.
export function ruleMessage(body) {
  return t("err_rule", { rule: msgs["rule_" + body.rule] ?? body.rule, detail: detailIn(body.detail) });
}

export const pad = (n) => String(n).padStart(2, "0");

// wallParts gives the wall-clock fields of the instant ms in zone.
export function wallParts(ms, zone) {
  const f = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23",
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  const p = {};
  for (const { type, value } of f.formatToParts(new Date(ms))) {
    p[type] = Number(value);
  }
  return p;
}

// offsetMinutes is zone's offset from UTC at the instant ms.
export function offsetMinutes(ms, zone) {
  const p = wallParts(ms, zone);
  return Math.round((Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - ms) / 60000);
}

// zoned turns a wall-clock date and time in zone into RFC 3339 with its
// offset ("2026-12-01T09:00:00+01:00").
export function zoned(date, time, zone) {
  const [y, mo, d] = date.split("-").map(Number);
  const [h, mi] = time.split(":").map(Number);
  const guess = Date.UTC(y, mo - 1, d, h, mi);
  let off = offsetMinutes(guess, zone);
  off = offsetMinutes(guess - off * 60000, zone);
  const sign = off < 0 ? "-" : "+";
  const a = Math.abs(off);
  return `${date}T${pad(h)}:${pad(mi)}:00${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

// api calls roomcal's JSON API with the session's cookie, the CSRF token
// on every change (anything but GET), and body, when given, as JSON. It
// never throws: it answers {ok, status, body, resp}, where body is the
// parsed JSON answer ({} when there is none, or it is not JSON), and
// status 0 (resp null) when the server could not be reached. opts.accept
// replaces the Accept header (e.g. "text/csv"; body is then the Blob).
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: opts.accept ?? "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(path, {
      method, credentials: "same-origin", headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    return { ok: false, status: 0, body: {}, resp: null };
  }
  let parsed = {};
  if (opts.accept && !opts.accept.includes("json") && resp.ok) {
    parsed = await resp.blob().catch(() => ({}));
  } else if (resp.status !== 204) {
    parsed = await resp.json().catch(() => ({}));
  }
  return { ok: resp.ok, status: resp.status, body: parsed ?? {}, resp };
}

// problemText says in plain words why an api call failed. special maps a
// status ("404"), or a status and the problem's code ("409 full"), to the
// page's own message: a string, or a function of the problem body.
export function problemText(res, special = {}) {
  if (!res.status) return t("err_network");
  const body = res.body ?? {};
  const own = special[`${res.status} ${body.code}`] ?? special[res.status];
  if (own !== undefined) return typeof own === "function" ? own(body) : own;
  switch (res.status) {
    case 400:
    case 413:
      return t("err_invalid", { detail: detailIn(body.detail) });
    case 401: return t("err_auth");
    case 403: return t("err_forbidden");
    case 404: return t("err_not_found");
    case 422:
      if (body.code === "rule_violation") return ruleMessage(body);
      return t("err_invalid", { detail: detailIn(body.detail) });
    case 429: return t("err_rate");
    case 503: return t("err_unavailable");
  }
  if (body.detail) return detailIn(body.detail);
  return t("err_generic", { status: res.status });
}

// getJSON is api("GET", path) for callers that handle a failure in one
// place: it answers the parsed body, or throws an Error whose message
// says in words what went wrong (problemText).
export async function getJSON(path) {
  const res = await api("GET", path);
  if (!res.ok) {
    throw new Error(`${path}: ${res.status} ${problemText(res)}`);
  }
  return res.body;
}
