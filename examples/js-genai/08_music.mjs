// Live music generation with @google/genai: weighted prompts and a generation config steer a
// stream of 48 kHz stereo PCM, written to a WAV file.
//
//   cd examples/js-genai && npm install
//   OPENLIVE_URL=http://127.0.0.1:8080 node 08_music.mjs [music.wav] [seconds]
//
// Live music is on the v1alpha API version. ai.live.music.connect takes only the model and
// callbacks; prompts, settings and playback are set on the session afterwards.
import { writeFileSync } from "node:fs";
import { GoogleGenAI, MusicGenerationMode, Scale } from "@google/genai";

const output = process.argv[2] ?? "music.wav";
const seconds = Number(process.argv[3] ?? 3);
const ai = new GoogleGenAI({
  apiKey: process.env.OPENLIVE_API_KEY ?? "any-key",
  httpOptions: {
    baseUrl: process.env.OPENLIVE_URL ?? "http://127.0.0.1:8080",
    apiVersion: "v1alpha",
  },
});

const chunks = [];
let bytes = 0;
let done;
let failed;
const enough = new Promise((resolve, reject) => ((done = resolve), (failed = reject)));

const session = await ai.live.music.connect({
  model: "models/lyria-realtime-exp",
  callbacks: {
    onmessage: (message) => {
      for (const chunk of message.serverContent?.audioChunks ?? []) {
        const data = Buffer.from(chunk.data, "base64");
        chunks.push(data);
        bytes += data.length;
        console.log(`Music chunk ${chunks.length}: ${data.length} bytes (${chunk.mimeType})`);
        if (bytes >= seconds * 48000 * 4) done(); // 48 kHz, 2 channels, 16-bit
      }
    },
    onerror: (error) => failed(new Error(error.message)),
    onclose: (event) => failed(new Error(`session closed: ${event.code} ${event.reason}`)),
  },
});

await session.setWeightedPrompts({
  weightedPrompts: [{ text: "upbeat electronic music", weight: 1.0 }],
});
await session.setMusicGenerationConfig({
  musicGenerationConfig: {
    bpm: 120,
    scale: Scale.C_MAJOR_A_MINOR,
    musicGenerationMode: MusicGenerationMode.QUALITY,
  },
});
session.play();
await enough;
session.stop();
session.close();

const pcm = Buffer.concat(chunks);
writeFileSync(output, wavFile(pcm, 48000, 2));
console.log(`Received ${chunks.length} chunks, ${pcm.length} bytes of music; wrote ${output}`);

function wavFile(pcm, rate, channels) {
  const header = Buffer.alloc(44);
  header.write("RIFF", 0);
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write("WAVEfmt ", 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36);
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}
