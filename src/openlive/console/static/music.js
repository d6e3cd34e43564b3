// The console's music tab: weighted prompts, bpm, scale, density and brightness, played live
// through a BidiGenerateMusic session.

import { Player, fromBase64, pcmFormat } from "./audio.js";
import { MusicSession, describeClose } from "./live.js";

const $ = (id) => document.getElementById(id);
const DEFAULT_PROMPTS = [
  { text: "warm lo-fi piano", weight: 1.0 },
  { text: "soft jazz drums", weight: 0.6 },
];

export class MusicTab {
  /** ui: {apiKey(): string, event(e), error(text), stats: object} */
  constructor(ui) {
    this.ui = ui;
    this.session = null;
    this.player = null;
    this.chunks = 0;
    this.sent = null; // the bpm and scale last sent (a change needs a reset of the context)
    this.timer = null;
    this.playing = false;
    this.opening = false;
    for (const prompt of DEFAULT_PROMPTS) this.addPrompt(prompt);
    $("addPrompt").addEventListener("click", () => {
      const input = this.addPrompt({ text: "", weight: 1.0 });
      input.focus();
    });
    $("play").addEventListener("click", () => this.play());
    $("pause").addEventListener("click", () => this.control("PAUSE"));
    $("stop").addEventListener("click", () => this.stop());
    for (const id of ["bpm", "scale", "density", "brightness"]) {
      $(id).addEventListener("change", () => this.steer());
    }
  }

  addPrompt({ text, weight }) {
    const list = $("prompts");
    const n = list.children.length + 1;
    const item = document.createElement("li");
    const input = document.createElement("input");
    input.type = "text";
    input.value = text;
    input.placeholder = "an instrument, a genre, a mood";
    input.setAttribute("aria-label", `Prompt ${n}`);
    const slider = document.createElement("input");
    slider.type = "range";
    slider.min = "0";
    slider.max = "2";
    slider.step = "0.1";
    slider.value = String(weight);
    slider.setAttribute("aria-label", `Weight of prompt ${n}`);
    const shown = document.createElement("output");
    shown.textContent = Number(weight).toFixed(1);
    slider.addEventListener("input", () => {
      shown.textContent = Number(slider.value).toFixed(1);
    });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove prompt ${n}`);
    remove.addEventListener("click", () => {
      item.remove();
      this.steer();
    });
    input.addEventListener("change", () => this.steer());
    slider.addEventListener("change", () => this.steer());
    item.append(input, slider, shown, remove);
    list.append(item);
    return input;
  }

  prompts() {
    return [...$("prompts").children]
      .map((item) => {
        const [text, weight] = item.querySelectorAll("input");
        return { text: text.value.trim(), weight: Number(weight.value) };
      })
      .filter((p) => p.text);
  }

  config() {
    const config = {
      bpm: Number($("bpm").value) || 110,
      density: Number($("density").value),
      brightness: Number($("brightness").value),
    };
    if ($("scale").value) config.scale = $("scale").value;
    return config;
  }

  status(text) {
    $("musicStatus").textContent = text;
  }

  buttons() {
    $("play").disabled = this.playing;
    $("pause").disabled = !this.playing;
    $("stop").disabled = !this.session;
  }

  async play() {
    if (this.opening) return;
    try {
      const prompts = this.prompts();
      if (prompts.length === 0) throw new Error("add a prompt first");
      if (!this.session) {
        this.opening = true;
        $("play").disabled = true;
        await this.open(prompts);
      }
      this.control("PLAY");
    } catch (error) {
      this.ui.error(`Music: ${error.message}`);
      this.status("Not playing.");
      this.closePlayer();
    } finally {
      this.opening = false;
      this.buttons();
    }
  }

  closePlayer() {
    if (this.player) this.player.close().catch(() => {});
    this.player = null;
  }

  async open(prompts) {
    this.player = new Player({ rate: 48000, channels: 2 });
    await this.player.open();
    this.status("Connecting…");
    const session = new MusicSession($("musicModel").value, {
      apiKey: this.ui.apiKey(),
      handlers: {
        event: (e) => this.ui.event(e),
        message: (m) => this.receive(m),
        closed: (code, reason) => this.closed(code, reason),
      },
    });
    await session.connect();
    this.session = session;
    session.send({ clientContent: { weightedPrompts: prompts } });
    const config = this.config();
    session.send({ musicGenerationConfig: config });
    this.sent = { bpm: config.bpm, scale: config.scale };
    this.timer = setInterval(() => this.report(), 250);
  }

  control(command) {
    if (!this.session) return;
    if (!this.session.send({ playbackControl: command })) {
      this.ui.error("Music: not sent, the connection is closed");
      return;
    }
    this.playing = command === "PLAY";
    if (command === "PAUSE") this.status("Paused.");
    if (command === "PLAY") this.status("Playing…");
    this.buttons();
  }

  stop() {
    this.control("STOP");
    if (this.player) this.player.flush();
    this.status("Stopped.");
  }

  /** Send the prompts and settings as they are now (while a session is open). */
  steer() {
    if (!this.session) return;
    const prompts = this.prompts();
    if (prompts.length > 0) this.session.send({ clientContent: { weightedPrompts: prompts } });
    const config = this.config();
    this.session.send({ musicGenerationConfig: config });
    // tempo and scale take effect once the context is reset
    if (this.sent && (this.sent.bpm !== config.bpm || this.sent.scale !== config.scale)) {
      this.session.send({ playbackControl: "RESET_CONTEXT" });
      if (this.player) this.player.flush();
    }
    this.sent = { bpm: config.bpm, scale: config.scale };
  }

  receive(message) {
    const content = message.serverContent;
    if (content && content.audioChunks) {
      for (const chunk of content.audioChunks) {
        if (!chunk.data) continue;
        const format = pcmFormat(chunk.mimeType, 48000);
        if (!this.player || format.rate !== this.player.rate || format.channels !== this.player.channels) {
          this.closePlayer();
          this.player = new Player({ rate: format.rate, channels: format.channels });
        }
        this.chunks += 1;
        if (this.playing) {
          this.player.push(fromBase64(chunk.data)).catch((error) => {
            this.ui.error(`Music could not be played: ${error.message}`);
          });
        }
      }
    }
    if (message.filteredPrompt) {
      const why = message.filteredPrompt.filteredReason || "filtered";
      this.ui.error(`Music: prompt "${message.filteredPrompt.text || ""}" was not used (${why})`);
    }
  }

  report() {
    const stats = this.player ? this.player.stats : { seconds: 0, peak: 0 };
    Object.assign(this.ui.stats, { chunks: this.chunks, seconds: stats.seconds, peak: stats.peak });
    if (this.playing) $("musicClock").textContent = `${stats.seconds.toFixed(1)} s played`;
  }

  closed(code, reason) {
    clearInterval(this.timer);
    this.session = null;
    this.playing = false;
    this.closePlayer();
    this.buttons();
    if (code !== 1000) this.ui.error(`Music: ${describeClose(code, reason)}`);
    this.status("Not playing.");
  }
}
