// Microphone capture (16 kHz PCM16 chunks) and gapless PCM playback for the openlive console.

const WORKLETS = new URL("./worklets.js", import.meta.url).href;

/** Base64 of bytes (chunked: String.fromCharCode takes a limited number of arguments). */
export function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** Bytes of base64 text. */
export function fromBase64(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/** The sample rate and channel count named by a PCM MIME type ("audio/pcm;rate=24000"). */
export function pcmFormat(mimeType, fallbackRate = 24000) {
  const rate = /rate=(\d+)/.exec(mimeType || "");
  const channels = /channels=(\d+)/.exec(mimeType || "");
  return {
    rate: rate ? Number(rate[1]) : fallbackRate,
    channels: channels ? Number(channels[1]) : 1,
  };
}

/**
 * The microphone: echo-cancelled capture, resampled to 16 kHz PCM16 in an AudioWorklet.
 * `onChunk({pcm: Uint8Array, rms: number})` gets one 100 ms chunk at a time.
 */
export class Microphone {
  constructor(onChunk) {
    this.onChunk = onChunk;
    this.context = null;
    this.stream = null;
    this.node = null;
  }

  get active() {
    return this.node !== null;
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
    });
    this.context = new AudioContext();
    await this.context.audioWorklet.addModule(WORKLETS);
    const source = this.context.createMediaStreamSource(this.stream);
    this.node = new AudioWorkletNode(this.context, "openlive-capture", { numberOfOutputs: 0 });
    this.node.port.onmessage = (event) => {
      this.onChunk({ pcm: new Uint8Array(event.data.pcm), rms: event.data.rms });
    };
    source.connect(this.node);
    if (this.context.state === "suspended") await this.context.resume();
  }

  async stop() {
    if (this.node) this.node.port.postMessage("stop");
    for (const track of this.stream ? this.stream.getTracks() : []) track.stop();
    if (this.context) await this.context.close();
    this.context = null;
    this.stream = null;
    this.node = null;
  }
}

/**
 * Gapless playback of PCM16 chunks at their own rate ("audio/pcm;rate=24000" for replies,
 * rate=48000;channels=2 for music). `flush()` silences what is queued at once.
 * `stats` tells how much was played and how loud; `onState(playing)` follows the queue.
 */
export class Player {
  constructor({ rate = 24000, channels = 1, onState = () => {} } = {}) {
    this.rate = rate;
    this.channels = channels;
    this.onState = onState;
    this.context = null;
    this.node = null;
    this.gain = null;
    this.ready = null;
    this.playing = false;
    this.stats = { played: 0, peak: 0, queued: 0, received: 0, seconds: 0 };
  }

  /** Create the audio context (call from a click: browsers start audio on a gesture). */
  async open() {
    if (!this.ready) this.ready = this._open();
    return this.ready;
  }

  async _open() {
    this.context = new AudioContext({ sampleRate: this.rate, latencyHint: "interactive" });
    await this.context.audioWorklet.addModule(WORKLETS);
    this.node = new AudioWorkletNode(this.context, "openlive-playback", {
      numberOfInputs: 0,
      outputChannelCount: [this.channels],
      processorOptions: { channels: this.channels },
    });
    this.gain = this.context.createGain();
    this.node.connect(this.gain).connect(this.context.destination);
    this.node.port.onmessage = (event) => {
      const { played, peak, queued } = event.data;
      this.stats.played = played;
      this.stats.peak = peak;
      this.stats.queued = queued;
      this.stats.seconds = played / this.rate;
      const playing = queued > 0;
      if (playing !== this.playing) {
        this.playing = playing;
        this.onState(playing);
      }
    };
    if (this.context.state === "suspended") await this.context.resume();
  }

  /** Queue one chunk of little-endian PCM16 bytes. */
  async push(bytes) {
    await this.open();
    const samples = new Int16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 2));
    const floats = new Float32Array(samples.length);
    for (let i = 0; i < samples.length; i++) floats[i] = samples[i] / 0x8000;
    this.stats.received += floats.length / this.channels;
    if (!this.playing) {
      this.playing = true;
      this.onState(true);
    }
    this.node.port.postMessage(floats, [floats.buffer]);
  }

  /** Drop everything queued (the model was interrupted, or music stopped). */
  flush() {
    if (this.node) this.node.port.postMessage("flush");
    if (this.playing) {
      this.playing = false;
      this.onState(false);
    }
  }

  setVolume(value) {
    if (this.gain) this.gain.gain.value = value;
  }

  async close() {
    if (this.context) await this.context.close();
    this.context = null;
    this.node = null;
    this.ready = null;
    this.playing = false;
  }
}
