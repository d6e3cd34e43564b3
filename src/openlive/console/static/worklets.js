// AudioWorklet processors of the openlive console (loaded with audioWorklet.addModule).
//
// "openlive-capture": microphone samples at the context's rate in, 16 kHz PCM16 chunks of
//   100 ms out (posted to the page with their level), resampled here with a low-pass and
//   linear interpolation so the page works at any device rate.
// "openlive-playback": PCM chunks from the page in, played back to back with no gaps; a
//   "flush" message drops everything queued at once (the model was interrupted). Reports how
//   many frames it played and the loudest sample, so the page (and its tests) can tell that
//   sound really came out.

const TARGET_RATE = 16000;
const CHUNK_FRAMES = 1600; // 100 ms at 16 kHz

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / TARGET_RATE; // input samples per output sample
    this.position = 0; // where the next output sample falls, in input samples
    this.previous = 0; // last input sample of the previous block (after the low-pass)
    this.smoothed = 0;
    // one-pole low-pass at about 7 kHz, below the 8 kHz Nyquist limit of the output
    this.alpha = Math.min(1, 1 - Math.exp((-2 * Math.PI * 7000) / sampleRate));
    this.chunk = new Int16Array(CHUNK_FRAMES);
    this.filled = 0;
    this.energy = 0;
    this.running = true;
    this.port.onmessage = (event) => {
      if (event.data === "stop") this.running = false;
    };
  }

  process(inputs) {
    const channels = inputs[0];
    if (!this.running) return false;
    if (!channels || channels.length === 0) return true;
    const frames = channels[0].length;
    const mono = new Float32Array(frames);
    for (const channel of channels) {
      for (let i = 0; i < frames; i++) mono[i] += channel[i] / channels.length;
    }
    for (let i = 0; i < frames; i++) {
      this.smoothed += this.alpha * (mono[i] - this.smoothed);
      mono[i] = this.smoothed;
    }
    // output samples between input index -1 (this.previous) and frames - 1
    while (this.position < frames - 1 + 1e-9) {
      const at = this.position;
      const index = Math.floor(at);
      const fraction = at - index;
      const left = index < 0 ? this.previous : mono[index];
      const right = index + 1 < frames ? mono[index + 1] : mono[frames - 1];
      const value = left + (right - left) * fraction;
      this.push(value);
      this.position += this.step;
    }
    this.position -= frames;
    this.previous = mono[frames - 1];
    return true;
  }

  push(value) {
    const clipped = Math.max(-1, Math.min(1, value));
    this.chunk[this.filled++] = clipped < 0 ? clipped * 0x8000 : clipped * 0x7fff;
    this.energy += clipped * clipped;
    if (this.filled === CHUNK_FRAMES) {
      const rms = Math.sqrt(this.energy / CHUNK_FRAMES);
      const pcm = this.chunk;
      this.port.postMessage({ pcm: pcm.buffer, rms }, [pcm.buffer]);
      this.chunk = new Int16Array(CHUNK_FRAMES);
      this.filled = 0;
      this.energy = 0;
    }
  }
}

class PlaybackProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.channels = (options.processorOptions && options.processorOptions.channels) || 1;
    this.queue = []; // Float32Arrays of interleaved frames
    this.offset = 0; // samples of queue[0] already played
    this.played = 0; // frames played since the start
    this.peak = 0;
    this.wasPlaying = false;
    this.sinceReport = 0;
    this.port.onmessage = (event) => {
      const data = event.data;
      if (data === "flush") {
        this.queue = [];
        this.offset = 0;
        this.report(true);
      } else if (data instanceof Float32Array) {
        this.queue.push(data);
      }
    };
  }

  process(_inputs, outputs) {
    const output = outputs[0];
    const frames = output[0].length;
    let written = 0;
    while (written < frames && this.queue.length > 0) {
      const head = this.queue[0];
      const available = (head.length - this.offset) / this.channels;
      const take = Math.min(available, frames - written);
      for (let f = 0; f < take; f++) {
        for (let c = 0; c < output.length; c++) {
          const source = Math.min(c, this.channels - 1);
          const sample = head[this.offset + f * this.channels + source];
          output[c][written + f] = sample;
          const magnitude = sample < 0 ? -sample : sample;
          if (magnitude > this.peak) this.peak = magnitude;
        }
      }
      written += take;
      this.offset += take * this.channels;
      if (this.offset >= head.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    this.played += written;
    const playing = this.queue.length > 0;
    this.sinceReport += written;
    // about 20 reports a second while playing, and one whenever it starts or stops
    if (playing !== this.wasPlaying || this.sinceReport >= sampleRate / 20) this.report(false);
    this.wasPlaying = playing;
    return true;
  }

  report(flushed) {
    this.sinceReport = 0;
    let queued = 0;
    for (const chunk of this.queue) queued += chunk.length / this.channels;
    queued -= this.offset / this.channels;
    this.port.postMessage({ played: this.played, peak: this.peak, queued, flushed });
  }
}

registerProcessor("openlive-capture", CaptureProcessor);
registerProcessor("openlive-playback", PlaybackProcessor);
