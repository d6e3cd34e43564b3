// The console's demo tools: declared in the setup by default and answered by the page itself
// when "answer automatically" is on. Any other declared function is answered by hand.

export const DEMO_DECLARATIONS = [
  {
    name: "get_weather",
    description: "Get the current weather for a city.",
    parameters: {
      type: "OBJECT",
      properties: { city: { type: "STRING", description: "The city, e.g. Paris" } },
      required: ["city"],
    },
  },
  {
    name: "get_time",
    description: "Get the current local time of this browser.",
    parameters: { type: "OBJECT", properties: {} },
  },
];

const SKIES = ["sunny", "partly cloudy", "overcast", "light rain", "windy", "clear"];

function hash(text) {
  let h = 2166136261;
  for (const c of text.toLowerCase()) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return h;
}

/** The page's own answer to a demo tool call, or undefined for a function it does not know. */
export function answerDemo(name, args) {
  if (name === "get_weather") {
    const city = String((args && (args.city || args.location)) || "somewhere");
    const h = hash(city);
    return { city, sky: SKIES[h % SKIES.length], temperature_c: 8 + (h % 22) };
  }
  if (name === "get_time") {
    const now = new Date();
    return {
      time: now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    };
  }
  return undefined;
}
