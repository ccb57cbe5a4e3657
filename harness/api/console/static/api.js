// The console's only way to the cloud: CloudStack's /client/api, as CloudStack's UI uses it.
// Every call is a POST (parameters in the body, never in the URL) carrying the session's
// sessionkey; the HttpOnly session cookie rides along and is never visible here.

const ENDPOINT = "/client/api";
const STORE = "hvsnap.session";

export class ApiError extends Error {
  constructor(code, text) {
    super(text || `Request failed (${code})`);
    this.code = code;
  }
}

let session = JSON.parse(sessionStorage.getItem(STORE) || "null");
let sessionEnded = null;

// Why the last session ended (for the login page), or null. It stays until the user logs in
// or out: the login page may be drawn more than once after the session ends (a hash change,
// a second request refused in flight), and each drawing says why.
export function sessionEndedReason() {
  return sessionEnded;
}
const listeners = new Set();

export function currentSession() {
  return session;
}

export function onSessionChange(fn) {
  listeners.add(fn);
}

function setSession(value) {
  session = value;
  if (value) sessionStorage.setItem(STORE, JSON.stringify(value));
  else sessionStorage.removeItem(STORE);
  apis = null;
  for (const fn of listeners) fn(value);
}

async function post(command, params) {
  const body = new URLSearchParams({ command, response: "json" });
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") body.set(key, String(value));
  }
  const reply = await fetch(ENDPOINT, { method: "POST", body, credentials: "same-origin", cache: "no-store" });
  let data = null;
  try {
    data = await reply.json();
  } catch {
    throw new ApiError(reply.status, `The server answered ${reply.status} without a CloudStack response`);
  }
  const inner = data[`${command.toLowerCase()}response`] || data.errorresponse || Object.values(data)[0] || {};
  if (!reply.ok || inner.errorcode) throw new ApiError(inner.errorcode || reply.status, inner.errortext);
  return inner;
}

export async function call(command, params = {}) {
  if (!session) throw new ApiError(401, "Not logged in");
  try {
    return await post(command, { ...params, sessionkey: session.sessionkey });
  } catch (err) {
    if (err instanceof ApiError && err.code === 401) {
      sessionEnded = "Your session ended (it expired, or you logged in elsewhere). Log in again.";
      setSession(null);
    }
    throw err;
  }
}

export async function login(username, password, domain) {
  const answer = await post("login", { username, password, domain: domain || "/" });
  sessionEnded = null;
  setSession({
    sessionkey: answer.sessionkey, username: answer.username, account: answer.account,
    domain: answer.domain, type: Number(answer.type), userid: answer.userid,
  });
  return session;
}

export async function logout() {
  sessionEnded = null;
  try {
    if (session) await post("logout", { sessionkey: session.sessionkey });
  } finally {
    setSession(null);
  }
}

// Poll queryAsyncJobResult until the job ends: its jobresult, or an ApiError with the
// job's errortext. onProgress(seconds) is called while it runs.
export async function waitForJob(jobid, onProgress = () => {}) {
  const started = performance.now();
  let delay = 150;
  for (;;) {
    const job = await call("queryAsyncJobResult", { jobid });
    if (job.jobstatus === 1) return job.jobresult || {};
    if (job.jobstatus === 2) {
      const result = job.jobresult || {};
      throw new ApiError(result.errorcode || 530, result.errortext || "The job failed");
    }
    onProgress((performance.now() - started) / 1000);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 1.5, 1000);
  }
}

let apis = null;

// Whether the server lists `name` in listApis (panels for commands that may be missing).
export async function available(name) {
  apis ||= call("listApis").then((r) => new Set((r.api || []).map((a) => a.name.toLowerCase())));
  return (await apis).has(name.toLowerCase());
}

export function isAdmin() {
  return session && session.type !== 0;
}
