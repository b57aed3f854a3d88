// Drive twitter-api-v2 against a local server; prints one JSON object.
// Usage: node upload.mjs <server base url> <credentials json> <mp4 path> <png path>
// The plugin rewrites each request to the local server *after* OAuth signing and, like a
// reverse proxy, says which URL the client addressed in X-Forwarded-Proto/-Host.
import fs from 'node:fs';
import http from 'node:http';
import { TwitterApi } from 'twitter-api-v2';

const [base, credentialsJson, mp4Path, pngPath] = process.argv.slice(2);
const target = new URL(base);
const credentials = JSON.parse(credentialsJson);
const seen = [];
let inFlight = 0;
let maxInFlight = 0;

const redirect = {
  onBeforeRequest({ computedParams }) {
    const url = computedParams.url;
    computedParams.headers['x-forwarded-proto'] = url.protocol.replace(':', '');
    computedParams.headers['x-forwarded-host'] = url.host;
    seen.push(`${computedParams.method} ${url.pathname}`);
    url.protocol = target.protocol;
    url.hostname = target.hostname;
    url.port = target.port;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
  },
  onAfterRequest() {
    inFlight -= 1;
  },
  onResponseError() {
    inFlight -= 1;
  },
};

const client = new TwitterApi(
  {
    appKey: credentials.consumer_key,
    appSecret: credentials.consumer_secret,
    accessToken: credentials.access_token,
    accessSecret: credentials.access_token_secret,
  },
  { plugins: [redirect], httpAgent: new http.Agent({ keepAlive: false }) },
);

const out = {};
try {
  // A Buffer, not the path: from a path, 1.29.1 reads every chunk into one shared buffer
  // and, with 3 APPENDs in flight, sends later bytes under earlier segment indexes.
  out.v1_video = await client.v1.uploadMedia(fs.readFileSync(mp4Path), {
    mimeType: 'video/mp4',
    target: 'tweet',
    chunkLength: 64 * 1024,
  });
  out.v1_max_in_flight = maxInFlight;
  out.v1_png = await client.v1.uploadMedia(pngPath, { mimeType: 'image/png' });
  out.v2_video = await client.v2.uploadMedia(
    fs.readFileSync(mp4Path),
    { media_type: 'video/mp4', media_category: 'tweet_video' },
    64 * 1024,
  );
  out.v2_png = await client.v2.uploadMedia(fs.readFileSync(pngPath), { media_type: 'image/png' });
  await client.v1.createMediaMetadata(out.v1_png, { alt_text: { text: 'a pink rectangle' } });
  const posted = await client.v2.tweet('from twitter-api-v2', {
    media: { media_ids: [out.v1_png, out.v2_png] },
  });
  out.tweet = posted.data;
} catch (error) {
  out.error = { message: String(error), code: error.code, data: error.data };
}
out.requests = seen;
console.log(JSON.stringify(out));
