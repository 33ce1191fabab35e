// The official openai SDK's images.generate against a running paymeter:
// node images.mjs <paymeter URL> <API key>. Prints what the client saw.
import OpenAI from "openai";

const [url, key] = process.argv.slice(2);
const client = new OpenAI({ baseURL: url + "/v1", apiKey: key, maxRetries: 0 });
const { data, response } = await client.images
  .generate({ model: "demo-image", prompt: "A paper meter.", n: 2, size: "1024x1024", quality: "high" })
  .withResponse();
let refused = null;
try {
  await client.images.generate({ model: "demo-image", prompt: "A paper meter.", size: "256x256" });
} catch (e) {
  refused = { status: e.status, code: e.code ?? e.error?.code };
}
console.log(JSON.stringify({
  images: data.data.length,
  png: Buffer.from(data.data[0].b64_json, "base64").subarray(1, 4).toString(),
  bodyCost: data.usage?.paymeter_cost,
  inputTokens: data.usage?.input_tokens,
  headerCost: response.headers.get("x-paymeter-cost"),
  refused,
}));
