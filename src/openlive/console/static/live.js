// The console's side of the Live API wire protocol: single-use ephemeral tokens, the
// WebSocket, setup, session resumption after a goAway or a dropped connection.

const SERVICE = "ws/google.ai.generativelanguage.v1alpha.GenerativeService";
const TOKEN_PATH = "/v1alpha/auth_tokens";
/** Close codes that mean the request itself is wrong: trying again would fail the same way. */
const FINAL_CODES = new Set([1002, 1003, 1007, 1008, 1009, 1010]);
const MAX_RETRIES = 5;

/** The message of an HTTP error body ({"error": {"message"}}), or the status line. */
async function errorText(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) return body.error.message;
  } catch (_) {
    // not JSON
  }
  return `${response.status} ${response.statusText}`;
}

/** Mint a single-use ephemeral token on this server; `apiKey` only where the server asks. */
export async function mintToken(apiKey) {
  const now = Date.now();
  const body = {
    uses: 1,
    // one session may start with it within a minute; the session may run for hours
    newSessionExpireTime: new Date(now + 60_000).toISOString(),
    expireTime: new Date(now + 12 * 3600_000).toISOString(),
  };
  const headers = { "Content-Type": "application/json" };
  if (apiKey) headers["x-goog-api-key"] = apiKey;
  const response = await fetch(TOKEN_PATH, { method: "POST", headers, body: JSON.stringify(body) });
  if (!response.ok) {
    throw new Error(`could not get a session token: ${await errorText(response)}`);
  }
  return (await response.json()).name;
}

function socketUrl(method, token) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/${SERVICE}.${method}?access_token=${encodeURIComponent(token)}`;
}

/** A readable line for a close: "closed (1008): reason". */
export function describeClose(code, reason) {
  const why = reason ? `: ${reason}` : "";
  const names = {
    1000: "closed",
    1001: "server going away",
    1006: "connection lost",
    1007: "invalid message",
    1008: "refused",
    1009: "message too big",
    1011: "server error",
    1013: "server busy, try again later",
  };
  return `${names[code] || "closed"} (${code})${why}`;
}

/**
 * One WebSocket carrying JSON messages (text or binary frames), with an event for every
 * message in and out: `onEvent({dir: "in"|"out", message, at})`.
 */
class Channel {
  constructor(method, { apiKey, onEvent }) {
    this.method = method;
    this.apiKey = apiKey;
    this.onEvent = onEvent;
    this.ws = null;
    this.decoder = new TextDecoder();
  }

  async open(onMessage, onClose) {
    const token = await mintToken(this.apiKey);
    const ws = new WebSocket(socketUrl(this.method, token));
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    await new Promise((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("could not open the WebSocket"));
      ws.onclose = (event) => reject(new Error(describeClose(event.code, event.reason)));
    });
    ws.onerror = null;
    ws.onmessage = (event) => {
      const text = typeof event.data === "string" ? event.data : this.decoder.decode(event.data);
      let message;
      try {
        message = JSON.parse(text);
      } catch (_) {
        this.onEvent({ dir: "in", message: { unreadable: text.slice(0, 200) }, at: performance.now() });
        return;
      }
      this.onEvent({ dir: "in", message, at: performance.now() });
      onMessage(message);
    };
    ws.onclose = (event) => onClose(event.code, event.reason);
    return ws;
  }

  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    this.onEvent({ dir: "out", message, at: performance.now() });
    return true;
  }

  close(code = 1000, reason = "") {
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close(code, reason);
    }
  }
}

/** goAway.timeLeft ("10s", "0.5s") in milliseconds, or null. */
function timeLeftMs(value) {
  const seconds = parseFloat(String(value || "").replace(/s$/, ""));
  return Number.isFinite(seconds) ? Math.max(0, seconds * 1000) : null;
}

const MAX_HELD = 3000; // client messages kept for sending again (about 5 minutes of audio)
const RESUMED_UPDATE_WAIT_MS = 2000; // how long a resumed session waits to learn what its state holds
const SETUP_TIMEOUT_MS = 15000; // a connection that sends no setupComplete by then is given up
const SHORT_LIVED_MS = 5000; // a resumed connection that dies sooner counts as a failed attempt
const UPDATE_WAIT_MS = 1500; // after a reply, how long a move waits for the turn's new handle
const CUT_REPLY_WAIT_MS = 5000; // a reply cut by a move that the server does not go on with

/** Wait for `promise`, or reject after `ms` with `message`. */
function within(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Open `channel`, send `setup`, and resolve once the server answered setupComplete; reject with
 * a readable message if it closes first or does not answer within SETUP_TIMEOUT_MS (the
 * channel is then closed). `onMessage(message)` and `onClose(code, reason)` see everything.
 */
async function openWithSetup(channel, setup, onMessage, onClose) {
  let ready;
  const setupDone = new Promise((resolve, reject) => {
    ready = { resolve, reject };
  });
  await channel.open(
    (message) => {
      if (message.setupComplete !== undefined) ready.resolve();
      onMessage(message);
    },
    (code, reason) => {
      ready.reject(new Error(describeClose(code, reason)));
      onClose(code, reason);
    },
  );
  channel.send({ setup });
  try {
    await within(setupDone, SETUP_TIMEOUT_MS, "the server did not answer the setup");
  } catch (error) {
    channel.close(1000, "setup not answered");
    throw error;
  }
}

/**
 * A Live session: `connect()` sends the setup and resolves on setupComplete; every server
 * message goes to `handlers.message`. The session resumes by itself (a new connection, a new
 * token, the latest handle, transparent resumption) after a goAway, once the reply in progress
 * has ended and its new handle came, and after a dropped connection; the messages the server
 * had not consumed are sent again on the new connection, in order.
 * handlers: message(msg), state(name, detail), closed(code, reason), event(e).
 */
export class LiveSession {
  constructor(setup, { apiKey = "", handlers }) {
    this.setup = setup;
    this.apiKey = apiKey;
    this.handlers = handlers;
    this.channel = null;
    this.handle = null;
    this.consumed = -1; // the last client message index the latest handle includes
    this.nextIndex = 0; // index of the next client message (setup excluded), session-wide
    this.held = []; // [{index, message}] sent or waiting, not yet known to be consumed
    this.closing = false;
    this.moving = false;
    this.goAway = false; // the server announced the end of this connection
    this.moveWanted = false; // a goAway came during a reply: move when it has ended
    this.moveTimer = 0;
    this.turnOpen = false;
    this.failures = 0;
    this.openedAt = 0;
    this.cutTimer = 0;
  }

  async connect() {
    this.closing = false;
    this.handlers.state("connecting");
    this.channel = await this._open();
  }

  async _open() {
    const channel = new Channel("BidiGenerateContentConstrained", {
      apiKey: this.apiKey,
      onEvent: this.handlers.event,
    });
    const setup = structuredClone(this.setup);
    setup.sessionResumption = this.handle ? { handle: this.handle, transparent: true } : { transparent: true };
    let stateKnown;
    // a resumed session's first update says what the resumed state holds (see _move)
    channel.resumedState = new Promise((resolve) => {
      stateKnown = resolve;
    });
    await openWithSetup(
      channel,
      setup,
      (message) => {
        if (message.sessionResumptionUpdate?.newHandle) stateKnown(message.sessionResumptionUpdate);
        this._receive(channel, message);
      },
      (code, reason) => this._closed(channel, code, reason),
    );
    this.openedAt = performance.now();
    this.goAway = false;
    return channel;
  }

  _receive(channel, message) {
    const update = message.sessionResumptionUpdate;
    // while moving, the handle the new connection resumes from stays as it was sent
    if (update && update.newHandle && !this.moving) {
      this.handle = update.newHandle;
      const consumed = Number(update.lastConsumedClientMessageIndex ?? -1);
      this.consumed = Number.isFinite(consumed) ? consumed : -1;
      this.held = this.held.filter((h) => h.index > this.consumed);
      if (this.moveWanted && !this.turnOpen) this._move("the server asked to move (goAway)");
    }
    const content = message.serverContent;
    if (content) {
      clearTimeout(this.cutTimer);
      if (content.turnComplete || content.interrupted) {
        this.turnOpen = false;
        this.failures = 0;
        if (this.moveWanted && channel === this.channel) {
          // the turn's new handle follows its end: move once it came (or soon anyway)
          clearTimeout(this.moveTimer);
          this.moveTimer = setTimeout(() => this._move("the server asked to move (goAway)"), UPDATE_WAIT_MS);
        }
      } else if (content.modelTurn || content.outputTranscription) {
        this.turnOpen = true;
      }
    }
    if (message.toolCall) this.turnOpen = true;
    if (message.goAway !== undefined && channel === this.channel) {
      this.goAway = true;
      if (this.handle) {
        if (!this.turnOpen) this._move("the server asked to move (goAway)");
        else {
          // let the reply in progress finish, but move before the server closes
          this.moveWanted = true;
          const left = timeLeftMs(message.goAway.timeLeft);
          const wait = left === null ? 5000 : Math.max(0, left - Math.min(1000, left / 5));
          clearTimeout(this.moveTimer);
          this.moveTimer = setTimeout(() => this._move("the server asked to move (goAway)"), wait);
        }
      }
    }
    if (channel === this.channel || message.setupComplete === undefined) this.handlers.message(message);
  }

  async _move(why) {
    if (this.moving || this.closing) return;
    this.moving = true;
    this.moveWanted = false;
    clearTimeout(this.moveTimer);
    const cut = this.turnOpen;
    this.handlers.state("reconnecting", why);
    while (!this.closing) {
      if (this.failures > 0) {
        await new Promise((r) => setTimeout(r, Math.min(4000, 250 * 2 ** this.failures)));
        if (this.closing) return;
      }
      try {
        const channel = await this._open();
        if (this.closing) {
          channel.close(1000, "closed by the user");
          return;
        }
        if (this.held.some((h) => h.index > this.consumed)) {
          // a handle in its grace (the newer one was lost with the connection) resumes the
          // latest state: learn what it holds so an answered turn is not sent a second time
          const update = await Promise.race([
            channel.resumedState,
            new Promise((resolve) => setTimeout(() => resolve(null), RESUMED_UPDATE_WAIT_MS)),
          ]);
          if (this.closing) {
            channel.close(1000, "closed by the user");
            return;
          }
          if (update) {
            this.handle = update.newHandle;
            const consumed = Number(update.lastConsumedClientMessageIndex ?? -1);
            if (Number.isFinite(consumed)) this.consumed = Math.max(this.consumed, consumed);
          }
        }
        const previous = this.channel;
        this.channel = channel;
        const again = this.held.filter((h) => h.index > this.consumed);
        for (const { message } of again) channel.send(message);
        this.moving = false;
        this.turnOpen = false;
        if (previous && previous !== channel) previous.close(1000, "resumed on a new connection");
        if (cut && again.length === 0) {
          // the server goes on with a reply the move cut; if it does not, end the turn here
          this.cutTimer = setTimeout(
            () => this.handlers.message({ serverContent: { turnComplete: true } }),
            CUT_REPLY_WAIT_MS,
          );
        }
        this.handlers.state("resumed", `${again.length} message(s) sent again`);
        return;
      } catch (error) {
        this.failures += 1;
        if (this.failures > MAX_RETRIES) {
          this._end(1006, `could not resume the session: ${error.message}`);
          return;
        }
      }
    }
  }

  _closed(channel, code, reason) {
    if (channel !== this.channel || this.closing || this.moving) return;
    const tokenRanOut = code === 1008 && /token expired/.test(reason);
    // a plain close (1000) is only worth resuming when a goAway announced it
    const resumable = !FINAL_CODES.has(code) && (code !== 1000 || this.goAway);
    if (this.handle && (resumable || tokenRanOut)) {
      if (performance.now() - this.openedAt < SHORT_LIVED_MS) this.failures += 1;
      if (this.failures > MAX_RETRIES) {
        this._end(code, `gave up resuming the session: ${reason || describeClose(code, "")}`);
        return;
      }
      this._move(describeClose(code, reason));
      return;
    }
    this._end(code, reason);
  }

  /** The session is over: nothing more is received from it. */
  _end(code, reason) {
    this.closing = true;
    this.moving = false;
    clearTimeout(this.moveTimer);
    clearTimeout(this.cutTimer);
    if (this.channel) this.channel.close(1000, "session over");
    this.channel = null;
    this.handlers.closed(code, reason);
  }

  /**
   * Send a client message. While the session moves to a new connection, turns, tool answers
   * and text are held and sent there; audio and video are dropped (returns false).
   */
  send(message) {
    const input = message.realtimeInput;
    const media = Boolean(input && (input.audio || input.video));
    const open = !this.moving && this.channel && this.channel.ws && this.channel.ws.readyState === WebSocket.OPEN;
    if (!open && (media || !this.moving)) return false;
    this.held.push({ index: this.nextIndex++, message });
    if (this.held.length > MAX_HELD) this.held.shift();
    if (open) this.channel.send(message);
    return true;
  }

  close() {
    this.closing = true;
    clearTimeout(this.moveTimer);
    clearTimeout(this.cutTimer);
    if (this.channel) this.channel.close(1000, "closed by the user");
    this.channel = null;
  }
}

/** A live music session (BidiGenerateMusic): setup, then prompts, config and playback control. */
export class MusicSession {
  constructor(model, { apiKey = "", handlers }) {
    this.model = model;
    this.apiKey = apiKey;
    this.handlers = handlers;
    this.channel = null;
  }

  async connect() {
    const channel = new Channel("BidiGenerateMusic", {
      apiKey: this.apiKey,
      onEvent: this.handlers.event,
    });
    this.channel = channel;
    try {
      await openWithSetup(
        channel,
        { model: `models/${this.model}` },
        (message) => this.handlers.message(message),
        (code, reason) => {
          if (this.channel === channel) {
            this.channel = null;
            this.handlers.closed(code, reason);
          }
        },
      );
    } catch (error) {
      if (this.channel === channel) this.channel = null;
      throw error;
    }
  }

  send(message) {
    return this.channel ? this.channel.send(message) : false;
  }

  close() {
    if (this.channel) this.channel.close(1000, "closed by the user");
    this.channel = null;
  }
}
