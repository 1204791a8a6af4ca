// The API client: every call carries `Authorization: Bearer`, and the live
// stream is read with fetch() (EventSource cannot send that header).

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  async call(method, path, body, extra) {
    const headers = { Authorization: `Bearer ${this.token}`, ...(extra || {}) };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      if (method === "POST" && !body.dry_run) headers["Idempotency-Key"] = crypto.randomUUID();
    }
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = { detail: text };
    }
    if (!res.ok) throw new ApiError(res.status, json);
    return json;
  }

  get(path) {
    return this.call("GET", path);
  }

  /** POSTs `body`; `headers` adds a signature (signing.js). */
  post(path, body, headers) {
    return this.call("POST", path, body, headers);
  }

  /**
   * Follows `/v1/events` from after `cursor`, calling `onEvent({id, event, data})`
   * for each event and `onState("connected" | "connecting" | "lost")`; reconnects
   * with `Last-Event-ID` so nothing is missed. Returns a function that stops it.
   */
  follow(cursor, onEvent, onState) {
    let last = cursor;
    let stopped = false;
    let controller = null;
    const run = async () => {
      while (!stopped) {
        controller = new AbortController();
        onState("connecting");
        try {
          const headers = { Authorization: `Bearer ${this.token}`, Accept: "text/event-stream" };
          if (last > 0) headers["Last-Event-ID"] = String(last);
          const res = await fetch("/v1/events", { headers, signal: controller.signal, cache: "no-store" });
          if (!res.ok || !res.body) throw new ApiError(res.status, null);
          onState("connected");
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = "";
          let event = { id: null, event: "message", data: [] };
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value;
            let nl;
            while ((nl = buffer.indexOf("\n")) >= 0) {
              const line = buffer.slice(0, nl).replace(/\r$/, "");
              buffer = buffer.slice(nl + 1);
              if (line === "") {
                if (event.data.length) {
                  const data = JSON.parse(event.data.join("\n"));
                  if (event.id !== null) last = Number(event.id);
                  onEvent({ id: last, event: event.event, data });
                }
                event = { id: null, event: "message", data: [] };
              } else if (!line.startsWith(":")) {
                const colon = line.indexOf(":");
                const field = colon < 0 ? line : line.slice(0, colon);
                const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
                if (field === "id") event.id = val;
                else if (field === "event") event.event = val;
                else if (field === "data") event.data.push(val);
              }
            }
          }
        } catch (e) {
          if (stopped) return;
          if (e instanceof ApiError && e.status === 401) {
            onState("lost");
            return;
          }
        }
        if (stopped) return;
        onState("lost");
        await new Promise((r) => setTimeout(r, 2000));
      }
    };
    run();
    return () => {
      stopped = true;
      controller?.abort();
    };
  }
}
